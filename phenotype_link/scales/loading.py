"""Reads the definition files in definitions/ into Scales, refusing anything it does not know.

The file format is described in docs/dev/adding-a-rating-scale.md. A misspelt key, an item in
no known subscale or a range that does not step evenly is an error at import time, naming the
file, so a definition cannot be half-read.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from phenotype_link.scales.model import Item, MissingRule, Scale, Term, tidy

DEFINITIONS = Path(__file__).parent / "definitions"
# REDCap variable names: lower case letters, digits and underscores, starting with a letter
# (REDCap's Data Dictionary upload refuses anything else; 100 characters at most).
ITEM_ID = re.compile(r"[a-z][a-z0-9_]{0,99}")
# Item values become REDCap choice codes; every scale we know steps by 1 or 0.5.
MAX_VALUES = 101

SCALE_KEYS = {
    "id", "name", "version", "source", "licensed_text", "verified", "settled_by", "has_total",
    "notes", "missing", "subscales", "items", "products",
}  # fmt: skip
ITEM_KEYS = {
    "id", "label", "subscale", "min", "max", "step", "values", "weight", "anchors", "unit",
    "notes", "source",
}  # fmt: skip
PRODUCT_KEYS = {"label", "items", "weight", "subscale"}
MISSING_KEYS = {"kind", "min_answered", "statement"}
SUBSCALE_KEYS = {"id", "name"}


class DefinitionError(ValueError):
    """A definition file that cannot be read as a scale."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path.name}: {reason}")
        self.path = path


def load_scales(directory: Path = DEFINITIONS) -> dict[str, Scale]:
    """Every scale under `directory`, by id; the id must match the file name."""
    scales = {}
    for path in sorted(directory.glob("*.toml")):
        scale = load_scale(path)
        if scale.id != path.stem:
            raise DefinitionError(path, f"id {scale.id!r} differs from the file name")
        scales[scale.id] = scale
    return scales


def load_scale(path: Path) -> Scale:
    with path.open("rb") as file:
        # parse_float=Decimal: 0.5 stays exactly 0.5, as the scales' half points need.
        data = tomllib.load(file, parse_float=Decimal)
    try:
        return _scale(data)
    except (KeyError, TypeError, ValueError) as err:
        raise DefinitionError(path, str(err)) from err


def _scale(data: Mapping[str, Any]) -> Scale:
    _only(data, SCALE_KEYS, "the scale")
    subscales = [
        (_only(s, SUBSCALE_KEYS, "a subscale")["id"], s["name"]) for s in data.get("subscales", [])
    ]
    known = {sid for sid, _ in subscales}
    items = tuple(_item(entry, known) for entry in data.get("items", []))
    ids = [item.id for item in items]
    if len(set(ids)) != len(ids):
        raise ValueError(f"item ids repeat: {sorted({i for i in ids if ids.count(i) > 1})}")
    # A scale kept as "total only" says which source would let it be completed (issue 17).
    if not items and not data.get("settled_by"):
        raise ValueError("a scale without items must name in settled_by what would settle it")
    return Scale(
        id=data["id"],
        name=data["name"],
        version=data["version"],
        source=data["source"],
        licensed_text=_bool(data["licensed_text"], "licensed_text"),
        items=items,
        subscales=tuple(sid for sid, _ in subscales),
        verified=tuple(data.get("verified", ())),
        settled_by=data.get("settled_by", ""),
        terms=tuple(_terms(data, items, known)),
        missing=_missing(data.get("missing", {})),
        has_total=_bool(data.get("has_total", True), "has_total"),
        subscale_names=tuple(subscales),
        notes=data.get("notes", ""),
    )


def _item(data: Mapping[str, Any], subscales: set[str]) -> Item:
    _only(data, ITEM_KEYS, f"item {data.get('id')!r}")
    item_id = data["id"]
    if not ITEM_ID.fullmatch(item_id):
        raise ValueError(f"item id {item_id!r}: use lower case letters, digits and '_'")
    if (subscale := data.get("subscale")) is not None and subscale not in subscales:
        raise ValueError(f"item {item_id}: unknown subscale {subscale!r}")
    low = high = step = None
    if "values" in data:
        values = tuple(sorted(tidy(Decimal(v)) for v in data["values"]))
    else:
        low, high, step = (Decimal(data[k]) for k in ("min", "max", "step"))
        values = tuple(_steps(item_id, low, high, step))
    if not values or len(set(values)) != len(values) or len(values) > MAX_VALUES:
        raise ValueError(f"item {item_id}: give 1 to {MAX_VALUES} distinct values")
    anchors = tuple((tidy(Decimal(k)), v) for k, v in data.get("anchors", {}).items())
    if stray := [str(v) for v, _ in anchors if v not in values]:
        raise ValueError(f"item {item_id}: anchors for values not allowed: {', '.join(stray)}")
    return Item(
        id=item_id,
        label=data["label"],
        values=values,
        subscale=subscale,
        minimum=low,
        maximum=high,
        step=step,
        anchors=tuple(sorted(anchors)),
        unit=data.get("unit", ""),
        notes=data.get("notes", ""),
        source=data.get("source", ""),
    )


def _steps(item_id: str, low: Decimal, high: Decimal, step: Decimal) -> Iterator[Decimal]:
    if step <= 0 or high < low or (high - low) % step:
        raise ValueError(f"item {item_id}: {low} to {high} does not step evenly by {step}")
    value = low
    while value <= high:
        yield tidy(value)  # 1, not 1.0: the value is also the REDCap choice code
        value += step


def _terms(data: Mapping[str, Any], items: tuple[Item, ...], subscales: set[str]) -> Iterator[Term]:
    """One term per product, then one per item that is in no product, in file order."""
    by_id = {item.id: item for item in items}
    in_products: set[str] = set()
    for entry in data.get("products", []):
        _only(entry, PRODUCT_KEYS, "a product")
        if unknown := [i for i in entry["items"] if i not in by_id]:
            raise ValueError(f"product {entry.get('label')!r}: unknown items {unknown}")
        if (subscale := entry.get("subscale")) is not None and subscale not in subscales:
            raise ValueError(f"product {entry.get('label')!r}: unknown subscale {subscale!r}")
        if repeated := in_products & set(entry["items"]):
            raise ValueError(f"items in two products: {sorted(repeated)}")
        in_products |= set(entry["items"])
        weight = Decimal(entry.get("weight", 1))
        yield Term(tuple(entry["items"]), weight, subscale, entry.get("label", ""))
    weights = {entry["id"]: Decimal(entry.get("weight", 1)) for entry in data.get("items", [])}
    for item in items:
        if item.id not in in_products:
            yield Term((item.id,), weights[item.id], item.subscale)


def _missing(data: Mapping[str, Any]) -> MissingRule:
    _only(data, MISSING_KEYS, "the missing rule")
    rule = MissingRule(**data)
    if rule.kind not in ("complete", "mean"):
        raise ValueError(f"missing rule {rule.kind!r}: use 'complete' or 'mean'")
    return rule


def _only(data: Mapping[str, Any], keys: set[str], what: str) -> Mapping[str, Any]:
    if unknown := sorted(set(data) - keys):
        raise ValueError(f"{what}: unknown keys {unknown}")
    return data


def _bool(value: object, key: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false")
    return value
