"""One exported cell -> one typed value, in raw or label form, or the reason it is refused."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation

from phenotype_link.instruments import Field

# What a field's value becomes: a choice code (str), free text (str), a whole number (int), a
# number (Decimal), a date, yes/no (bool), or the codes ticked in a checkbox (tuple, sorted as
# the dictionary lists them).
Value = str | int | Decimal | date | bool | tuple[str, ...]

# REDCap exports every date as Y-M-D whatever the validation type (redcap.md 2.3.5).
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INTEGER = re.compile(r"^[+-]?\d+$")
YES = {"1": True, "yes": True, "0": False, "no": False}
# Raw 1/0; label exports write Checked/Unchecked, or with exportCheckboxLabel the choice's label
# for a ticked box and a blank cell for an unticked one (redcap.md 2.3.1).
CHECKED = {"1": True, "checked": True, "0": False, "unchecked": False}
STATUS = {"0": "incomplete", "1": "unverified", "2": "complete"}


class CellProblem(ValueError):
    """The cell cannot be a value of its field; the message is the reason, in the user's words."""


def missing_lookup(codes: Mapping[str, str]) -> dict[str, str]:
    """Cell text -> Missing Data Code: the code itself (raw), or its label in lower case (label
    export). Look a cell up with `lookup.get(text) or lookup.get(text.lower())`."""
    return {**{label.lower(): code for code, label in codes.items()}, **{c: c for c in codes}}


def _number(field: Field, text: str) -> int | Decimal:
    if field.kind == "integer":
        if not INTEGER.match(text):
            raise CellProblem("is not a whole number")
        number: int | Decimal = int(text)
    else:
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise CellProblem("is not a number") from None
        if not number.is_finite():
            raise CellProblem("is not a number")
    if field.minimum is not None and number < field.minimum:
        raise CellProblem(f"is below the minimum {field.minimum}")
    if field.maximum is not None and number > field.maximum:
        raise CellProblem(f"is above the maximum {field.maximum}")
    if field.allowed and Decimal(number) not in field.allowed:
        raise CellProblem(f"is not one of {', '.join(str(a) for a in field.allowed)}")
    return number


def _date(text: str, today: date) -> date:
    if not ISO_DATE.match(text):
        raise CellProblem("is not a date as REDCap exports it (YYYY-MM-DD)")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise CellProblem("is not a date on the calendar") from None
    if day > today:
        raise CellProblem(f"is in the future (today is {today.isoformat()})")
    return day


def _choice(field: Field, text: str) -> str:
    if text in field.codes:
        return text
    if code := field.codes_by_label.get(text.lower()):
        return code
    codes = ", ".join(f"{c.code} ({c.label})" for c in field.choices)
    raise CellProblem(f"is not a choice of this field; the choices are {codes}")


def parse_value(field: Field, text: str, *, today: date) -> Value:
    """A non-blank cell of a field that is not a checkbox."""
    if field.kind in ("integer", "number"):
        return _number(field, text)
    if field.kind == "date":
        return _date(text, today)
    if field.kind in ("dropdown", "radio"):
        return _choice(field, text)
    if field.kind == "yesno":
        if (answer := YES.get(text.lower())) is None:
            raise CellProblem("is not yes or no (1/0, or Yes/No in a label export)")
        return answer
    return text


def is_checked(text: str, choice_label: str) -> bool:
    """One checkbox column's cell; blank means unticked (exportCheckboxLabel writes blanks)."""
    if not text:
        return False
    if (ticked := CHECKED.get(text.lower())) is not None:
        return ticked
    if text.lower() == choice_label.lower():
        return True
    raise CellProblem("is not a checkbox value (1/0, Checked/Unchecked, or the choice's label)")


def parse_status(text: str) -> str | None:
    """A `<form>_complete` cell: 0/1/2 raw, Incomplete/Unverified/Complete as labels."""
    if not text:
        return None
    if text in STATUS:
        return STATUS[text]
    if text.lower() in STATUS.values():
        return text.lower()
    raise CellProblem("is not a form status (0, 1, 2 or Incomplete, Unverified, Complete)")
