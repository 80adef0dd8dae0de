"""The LIMS's clinical instruments as data: one Instrument of Fields per REDCap form.

The non-scale instruments (visit, diagnosis, treatments, diagnostic data) are definition files in
`definitions/`; each rating scale of `phenotype_link.scales` becomes an Instrument through
`instrument_from_scale`, so the REDCap dictionary, the export parser and the release dictionary
read one model. A new instrument is a new definition file, not new code.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal

# REDCap's own field types, except that a date, an integer and a number are REDCap `text` fields
# with a validation (redcap.md 1.2.3); the dictionary writes them that way.
FieldKind = Literal[
    "text", "notes", "dropdown", "radio", "checkbox", "yesno", "date", "integer", "number"
]
FIELD_KINDS: tuple[FieldKind, ...] = (
    "text", "notes", "dropdown", "radio", "checkbox", "yesno", "date", "integer", "number",
)  # fmt: skip
CHOICE_KINDS = frozenset({"dropdown", "radio", "checkbox"})
FREE_TEXT_KINDS = frozenset({"text", "notes"})
# REDCap variable names: lower-case letters, digits and underscores, starting with a letter; `__`
# is avoided because REDCap collapses it and it makes checkbox columns ambiguous (redcap.md 1.2.8).
NAME = re.compile(r"^[a-z](?:[a-z0-9]|_(?!_))*$")
# Choice codes we define are digits only: a checkbox column is `<field>___<code>`, and letters or
# signs in a code change the column name (redcap.md 2.3.2).
CHOICE_CODE = re.compile(r"^[0-9]{1,4}$")
RECORD_ID = "record_id"
DEFINITIONS = Path(__file__).parent / "definitions"


class DefinitionError(ValueError):
    """An instrument definition file is malformed; the message names the file and the field."""


@dataclass(frozen=True)
class Choice:
    code: str
    label: str


@dataclass(frozen=True)
class Field:
    """One REDCap variable. Numbers are checked against minimum/maximum and, when given,
    `allowed` (an exact set, e.g. UDRS half points) on import."""

    name: str
    label: str
    kind: FieldKind
    choices: tuple[Choice, ...] = ()
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    allowed: tuple[Decimal, ...] = ()
    unit: str = ""
    note: str = ""
    is_required: bool = False

    @property
    def is_free_text(self) -> bool:
        return self.kind in FREE_TEXT_KINDS

    def choice(self, code: str) -> Choice | None:
        return self.codes.get(code)

    @cached_property
    def codes(self) -> dict[str, Choice]:
        """Choices by code (an import looks one up per cell)."""
        return {c.code: c for c in self.choices}

    @cached_property
    def codes_by_label(self) -> dict[str, str]:
        """Choice codes by lower-case label, for label exports."""
        return {c.label.lower(): c.code for c in self.choices}


@dataclass(frozen=True)
class Instrument:
    """A REDCap form. `scale_id` names the rating scale it was built from; `date_field` names
    the field holding the date of what it records (an injection), if any."""

    name: str
    label: str
    fields: tuple[Field, ...]
    is_repeating: bool = False
    scale_id: str | None = None
    date_field: str | None = None
    source: str = ""

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def complete_field(self) -> str:
        """The status column REDCap appends to every form (redcap.md 2.2.6)."""
        return f"{self.name}_complete"


def _decimal(value: Any, where: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise DefinitionError(f"{where}: {value!r} is not a number")
    return Decimal(str(value))


def _field(raw: Mapping[str, Any], where: str) -> Field:
    name, kind = raw.get("name", ""), raw.get("type", "")
    where = f"{where}, field {name!r}"
    if not NAME.match(name):
        raise DefinitionError(f"{where}: not a REDCap variable name")
    if kind not in FIELD_KINDS:
        raise DefinitionError(f"{where}: type {kind!r} is not one of {', '.join(FIELD_KINDS)}")
    choices = tuple(Choice(str(code), str(label)) for code, label in raw.get("choices", []))
    if (kind in CHOICE_KINDS) != bool(choices):
        raise DefinitionError(f"{where}: choices are needed exactly for {sorted(CHOICE_KINDS)}")
    if bad := [c.code for c in choices if not CHOICE_CODE.match(c.code)]:
        raise DefinitionError(f"{where}: choice codes must be digits, not {bad}")
    if len({c.code for c in choices}) != len(choices):
        raise DefinitionError(f"{where}: a choice code is used twice")
    return Field(
        name=name,
        label=raw.get("label", ""),
        kind=kind,
        choices=choices,
        minimum=_decimal(raw.get("min"), where),
        maximum=_decimal(raw.get("max"), where),
        unit=raw.get("unit", ""),
        note=raw.get("note", ""),
        is_required=bool(raw.get("required", False)),
    )


def load_instrument(path: Path) -> Instrument:
    """Read one definition file (TOML; see docs/dev/adding-an-instrument.md)."""
    with path.open("rb") as file:
        raw = tomllib.load(file)
    where = path.name
    fields = tuple(_field(f, where) for f in raw.get("fields", []))
    instrument = Instrument(
        name=raw.get("name", ""),
        label=raw.get("label", ""),
        fields=fields,
        is_repeating=bool(raw.get("repeating", False)),
        date_field=raw.get("date_field"),
        source=raw.get("source", ""),
    )
    if not NAME.match(instrument.name) or instrument.name != path.stem:
        raise DefinitionError(f"{where}: name must be a REDCap form name equal to the file name")
    if instrument.date_field and instrument.field(instrument.date_field) is None:
        raise DefinitionError(f"{where}: date_field {instrument.date_field!r} is not a field")
    return instrument


def check_unique_names(instruments: Iterable[Instrument]) -> None:
    """REDCap requires every variable name to be unique across the project (redcap.md 1.2.8)."""
    seen: dict[str, str] = {RECORD_ID: "the record id"}
    for instrument in instruments:
        for name in (*(f.name for f in instrument.fields), instrument.complete_field):
            if name in seen:
                raise DefinitionError(f"{instrument.name}: {name} is also in {seen[name]}")
            seen[name] = instrument.name


@cache
def clinical_instruments() -> tuple[Instrument, ...]:
    """The non-scale instruments, in the order the dictionary lists them."""
    order = ["visit", "diagnosis", "botulinum_toxin", "oral_medication", "dbs"]
    order += ["voice_speech", "family_history", "genetic_test"]
    instruments = tuple(load_instrument(DEFINITIONS / f"{name}.toml") for name in order)
    if extra := {p.stem for p in DEFINITIONS.glob("*.toml")} - set(order):
        raise DefinitionError(f"definition files not in the instrument order: {sorted(extra)}")
    check_unique_names(instruments)
    return instruments
