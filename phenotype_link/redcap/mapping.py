"""A mapping file: how another REDCap project's fields, forms, events and codes become ours.

The format is TOML (read with the standard library's tomllib); docs/user/phenotype-import.md
shows a complete file. Every table is optional:

    [fields]          their variable = our variable      (checkbox columns follow their field)
    [instruments]     their form = our instrument          (repeat-instrument values, _complete)
    [events]          their unique event name = our visit number
    [choices.<our field>]   their code = our code          (codes not listed pass unchanged)
    [missing_codes]   code = label                         (the project's Missing Data Codes)
    [ignore] columns = ["their_column", ...]               columns dropped on purpose

The mapping is applied before validation, so every value is checked against our field.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from phenotype_link.instruments import NAME

# Missing Data Codes the dictionary asks a site to configure (Project Setup -> Additional
# customizations). REDCap stores the chosen code as the field's literal value (redcap.md 2.3.9);
# codes are project settings, so a mapping file may declare others.
MISSING_CODES: Mapping[str, str] = {
    "UNK": "Unknown",
    "NASK": "Not asked",
    "ASKU": "Asked but unknown",
    "NA": "Not applicable",
}


class MappingError(ValueError):
    """The mapping file is malformed; the message names the table and the key."""


@dataclass(frozen=True)
class ExportMapping:
    fields: Mapping[str, str] = field(default_factory=dict)
    instruments: Mapping[str, str] = field(default_factory=dict)
    events: Mapping[str, int] = field(default_factory=dict)
    choices: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    missing_codes: Mapping[str, str] = field(default_factory=lambda: dict(MISSING_CODES))
    ignore: frozenset[str] = frozenset()

    def our_code(self, our_field: str, their_code: str) -> str:
        return self.choices.get(our_field, {}).get(their_code, their_code)


def _strings(table: Any, name: str) -> dict[str, str]:
    if not isinstance(table, dict):
        raise MappingError(f"[{name}] must be a table of names")
    for key, value in table.items():
        if not isinstance(value, str) or not value:
            raise MappingError(f"[{name}] {key}: {value!r} is not a name")
    return dict(table)


def _events(table: Any) -> dict[str, int]:
    if not isinstance(table, dict):
        raise MappingError("[events] must be a table of event = visit number")
    for key, value in table.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise MappingError(f"[events] {key}: {value!r} is not a visit number (1, 2, ...)")
    return dict(table)


def load_mapping(text: str) -> ExportMapping:
    """Read a mapping file; MappingError names the first thing wrong with it."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise MappingError(f"the mapping file is not valid TOML: {err}") from err
    tables = {"fields", "instruments", "events", "choices", "missing_codes", "ignore"}
    if unknown := set(raw) - tables:
        raise MappingError(f"unknown tables {sorted(unknown)}; known: {sorted(tables)}")
    fields = _strings(raw.get("fields", {}), "fields")
    if bad := [ours for ours in fields.values() if not NAME.match(ours)]:
        raise MappingError(f"[fields] {bad} are not REDCap variable names")
    choices_raw = raw.get("choices", {})
    if not isinstance(choices_raw, dict):
        raise MappingError("[choices] must hold one table per field")
    choices = {
        ours: {str(k): v for k, v in _strings(table, f"choices.{ours}").items()}
        for ours, table in choices_raw.items()
    }
    ignore_table = raw.get("ignore", {})
    ignore = ignore_table.get("columns", []) if isinstance(ignore_table, dict) else None
    if not isinstance(ignore, list) or not all(isinstance(c, str) for c in ignore):
        raise MappingError("[ignore] columns must be a list of column names")
    return ExportMapping(
        fields=fields,
        instruments=_strings(raw.get("instruments", {}), "instruments"),
        events=_events(raw.get("events", {})),
        choices=choices,
        missing_codes=_strings(raw.get("missing_codes", MISSING_CODES), "missing_codes"),
        ignore=frozenset(ignore),
    )
