"""A rating-scale instrument's scores, computed by its Scale from the imported items."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from phenotype_link.instruments import Instrument
from phenotype_link.redcap.cells import Value
from phenotype_link.scales import Score, ScoringError, get_scale

ScaleScore = Score


def score_instrument(
    instrument: Instrument,
    values: Mapping[str, Value],
    missing: Mapping[str, str],
    problem: Callable[[str, str, str], None],
) -> Score | None:
    """The scale's Score, or None (every item problem reported) when it cannot be scored.

    Items given a Missing Data Code, or left blank, are missing: the scale's own rule decides
    (partial scoring leaves a part unscored with a flag, never a silent 0). An item out of range
    was already refused cell by cell, so it only counts as missing here.
    """
    if instrument.scale_id is None:
        return None
    scale = get_scale(instrument.scale_id)
    # The numbers as parsed (ints, or Decimals for half points): the scale checks and sums
    # them as they are. Anything else (a bool, text) is not an answer: missing.
    answers = {
        i: v for i in scale.item_ids if type(v := values.get(i)) is int or type(v) is Decimal
    }
    total = values.get(f"{scale.id}_total")
    imported = Decimal(total) if isinstance(total, int | Decimal) else None
    try:
        return scale.score(answers, imported_total=imported, partial=True)
    except ScoringError as err:
        for p in err.problems:
            problem(p.item_id, "" if p.value is None else str(p.value), p.reason)
        return None
