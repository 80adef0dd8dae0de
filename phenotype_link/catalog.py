"""Every instrument the LIMS publishes and imports: the clinical ones, then each rating scale.

A rating scale becomes an Instrument through `instrument_from_scale`: its items are fields whose
allowed values come from the Scale, plus how it was rated and the total as the site recorded it
(kept for comparison; the LIMS recomputes the total from the items).
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from phenotype_link.instruments import (
    Choice,
    Field,
    Instrument,
    check_unique_names,
    clinical_instruments,
)
from phenotype_link.scales import SCALES, Item, Scale

# The order the consortium's natural-history study used them in (issue 17): every subject, then
# cervical, blepharospasm, the UDRS, laryngeal. A scale not listed follows, by id.
SCALE_ORDER = (
    "gdrs", "bfmdrs_m", "bfmdrs_d", "twstrs", "twstrs2", "twstrs_psych", "cdip58",
    "jrs", "bsdi", "bsrs", "udrs", "vhi", "vhi10",
)  # fmt: skip
# How a rating was made (dystonia.md section 6, "Scale administration": rater role and mode).
RATING_MODES = (
    Choice("1", "Site rater, in person"),
    Choice("2", "Central rater, from video"),
    Choice("3", "Patient self-report"),
)


def _item_field(item: Item) -> Field:
    whole = all(v == v.to_integral_value() for v in item.values)
    contiguous = whole and len(item.values) == int(item.values[-1] - item.values[0]) + 1
    anchors = "; ".join(f"{value} = {text}" for value, text in item.anchors)
    return Field(
        name=item.id,
        label=item.label,
        kind="integer" if contiguous else "number",
        minimum=item.values[0],
        maximum=item.values[-1],
        allowed=() if contiguous else item.values,  # e.g. UDRS durations in half points
        unit=item.unit,
        note=anchors or item.notes,
    )


def total_field(scale: Scale) -> str:
    return f"{scale.id}_total"


def instrument_from_scale(scale: Scale) -> Instrument:
    """The scale as a REDCap form: one field per item, the rating mode, the recorded total."""
    high = scale.maximum()
    total = Field(
        name=total_field(scale),
        label=f"{scale.name}: total as recorded",
        kind="number",
        minimum=Decimal(0),
        maximum=high,
        note="The LIMS recomputes the total from the items; this value is kept for comparison."
        if scale.is_scorable
        else "Items not yet confirmed: the LIMS keeps this total as given.",
    )
    mode = Field(f"{scale.id}_mode", f"{scale.name}: how rated", "radio", choices=RATING_MODES)
    return Instrument(
        name=scale.id,
        label=scale.name,
        fields=(*(_item_field(item) for item in scale.items), mode, total),
        scale_id=scale.id,
        source=scale.source,
    )


@cache
def lims_instruments() -> tuple[Instrument, ...]:
    """The clinical instruments, then every rating scale, as the dictionary lists them."""
    ids = [s for s in SCALE_ORDER if s in SCALES] + sorted(set(SCALES) - set(SCALE_ORDER))
    instruments = (*clinical_instruments(), *(instrument_from_scale(SCALES[s]) for s in ids))
    check_unique_names(instruments)
    return instruments
