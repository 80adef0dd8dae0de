"""Dystonia rating scales as data: one definition file per scale, one scoring engine for all.

    from phenotype_link.scales import get_scale
    score = get_scale("jrs").score({"jrs_severity": Decimal(3), "jrs_frequency": Decimal(2)})
    score.total  # Decimal('5')

docs/user/rating-scales.md describes every scale; docs/dev/adding-a-rating-scale.md the file.
"""

from collections.abc import Mapping
from types import MappingProxyType

from phenotype_link.scales.loading import DefinitionError, load_scale, load_scales
from phenotype_link.scales.model import (
    Item,
    ItemProblem,
    MissingRule,
    Scale,
    Score,
    ScoringError,
    Term,
)

# Read once, at import: a broken definition file fails loudly before anything is scored.
SCALES: Mapping[str, Scale] = MappingProxyType(load_scales())


class UnknownScale(KeyError):
    """No definition file has this scale id."""


def get_scale(scale_id: str) -> Scale:
    """The scale with this id ("twstrs", "bfmdrs_m", ...); UnknownScale names the known ones."""
    try:
        return SCALES[scale_id]
    except KeyError:
        raise UnknownScale(f"unknown scale {scale_id!r}; known: {', '.join(SCALES)}") from None


__all__ = [
    "SCALES",
    "DefinitionError",
    "Item",
    "ItemProblem",
    "MissingRule",
    "Scale",
    "Score",
    "ScoringError",
    "Term",
    "UnknownScale",
    "get_scale",
    "load_scale",
    "load_scales",
]
