"""A rating-scale instrument's scores, computed by its Scale from the imported items.

Placeholder until the scales branch lands phenotype_link.scales: no instrument has a scale_id yet.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from phenotype_link.instruments import Instrument

ScaleScore = object  # phenotype_link.scales.Score once merged


def score_instrument(
    instrument: Instrument,
    values: Mapping[str, object],
    missing: Mapping[str, str],
    problem: Callable[[str, str, str], None],
) -> ScaleScore | None:
    """The scale's Score, or None (each item problem reported) when it cannot be scored."""
    return None
