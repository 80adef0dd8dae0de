"""The manifest as CSV, versioned, and its parser: how one site's manifest reaches another.

The file has two sections, as an Illumina sample sheet does: `[Manifest]` holds one `key,value`
line per header field, `[Items]` a header row and one row per tube. The keys and columns are
documented in docs/user/shipping-manifest-csv.md; changing them is a new MANIFEST_CSV_VERSION.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from shipping.csv_fields import (
    ITEM_COLUMNS,
    ItemReader,
    Problems,
    check_code,
    read_date,
    read_decimal,
)
from shipping.errors import ManifestErrors, ManifestProblem
from shipping.model import Address, Manifest

MANIFEST_CSV_VERSION = "1"
FORMAT_NAME = "dystonia-biobank-manifest"

# The address keys, each prefixed with "sender_" or "recipient_"; `line` may repeat.
ADDRESS_KEYS: tuple[str, ...] = ("organisation", "person", "line", "city", "region")
ADDRESS_KEYS += ("postal_code", "country", "phone_24h", "email")
HEADER_KEYS: tuple[str, ...] = ("shipment_id", "responsible_person", "responsible_phone_24h")
HEADER_KEYS += ("shipped_on", "courier", "tracking_number", "dry_ice_kg")
HEADER_KEYS += ("temperature_logger_id", "purpose")
_OPTIONAL_KEYS = {"region", "email", "shipped_on", "courier", "tracking_number", "dry_ice_kg"}
_OPTIONAL_KEYS |= {"temperature_logger_id", "responsible_phone_24h"}

__all__ = ["MANIFEST_CSV_VERSION", "ManifestErrors", "ManifestProblem"]


def manifest_csv(manifest: Manifest) -> str:
    """The manifest as CSV text (write it out as UTF-8), readable by parse_manifest_csv."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180 line ends, as Excel writes
    writer.writerows([["[Manifest]"], ["format", FORMAT_NAME], ["version", MANIFEST_CSV_VERSION]])
    writer.writerows(_header_rows(manifest))
    writer.writerows([[], ["[Items]"], list(ITEM_COLUMNS)])
    writer.writerows(
        [_cell(getattr(item, name)) for name in ITEM_COLUMNS] for item in manifest.items
    )
    return out.getvalue()


def _header_rows(manifest: Manifest) -> Iterator[list[str]]:
    for role in ("sender", "recipient"):
        address: Address = getattr(manifest, role)
        for key in ADDRESS_KEYS:
            if key == "line":
                yield from ([f"{role}_line", line] for line in address.lines)
            else:
                yield [f"{role}_{key}", _cell(getattr(address, key))]
    for key in HEADER_KEYS:
        yield [key, _cell(getattr(manifest, key))]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")  # never "2.5E+2"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def parse_manifest_csv(text: str) -> Manifest:
    """A manifest CSV read back; ManifestErrors names every problem found, not the first."""
    problems = Problems()
    header: dict[str, list[tuple[int, str]]] = {}
    items: list[tuple[int, list[str]]] = []
    columns: tuple[int, list[str]] | None = None
    section = ""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    for row in reader:
        line, cells = reader.line_num, _trim(row)
        if not cells:
            continue
        if len(cells) == 1 and cells[0].strip() in ("[Manifest]", "[Items]"):
            section = cells[0].strip()
            if section == "[Manifest]":
                problems.missing_line = line
        elif section == "[Manifest]":
            _read_key(problems, header, line, cells)
        elif section == "[Items]" and columns is None:
            columns = (line, [c.strip() for c in cells])
        elif section == "[Items]":
            items.append((line, cells))
        else:
            problems.add(line, "", cells[0], "comes before the [Manifest] section")
    manifest = _build(problems, header, columns, items)
    if problems or manifest is None:
        raise ManifestErrors(problems.found)
    return manifest


def _trim(row: list[str]) -> list[str]:
    """The row without the empty cells a spreadsheet adds at its end."""
    while row and not row[-1].strip():
        row = row[:-1]
    return row


def _read_key(
    problems: Problems, header: dict[str, list[tuple[int, str]]], line: int, cells: list[str]
) -> None:
    key = cells[0].strip()
    if len(cells) > 2:
        problems.add(line, key, ",".join(cells[2:]), "is a third cell; a key has one value")
    known = {"format", "version", *HEADER_KEYS}
    known |= {f"{role}_{k}" for role in ("sender", "recipient") for k in ADDRESS_KEYS}
    if key not in known:
        problems.add(line, key, "", "is not a key of manifest version " + MANIFEST_CSV_VERSION)
    elif key in header and not key.endswith("_line"):
        problems.add(line, key, "", f"is given twice (first on line {header[key][0][0]})")
    else:
        header.setdefault(key, []).append((line, cells[1].strip() if len(cells) > 1 else ""))


@dataclass(frozen=True)
class _Header:
    """The [Manifest] section as read: each key's (line, value) pairs, in file order."""

    problems: Problems
    keys: dict[str, list[tuple[int, str]]]

    def value(self, key: str) -> str | None:
        """The key's value; None when empty or absent, which is a problem for a required key."""
        found = self.keys.get(key)
        if found and found[0][1]:
            return found[0][1]
        if key.removeprefix("sender_").removeprefix("recipient_") not in _OPTIONAL_KEYS:
            self.problems.add(self.line(key), key, "", "is required")
        return None

    def line(self, key: str) -> int:
        """The key's line; 0 (reported on the [Manifest] line) when it is absent."""
        return self.keys[key][0][0] if key in self.keys else 0


def _build(
    problems: Problems,
    keys: dict[str, list[tuple[int, str]]],
    columns: tuple[int, list[str]] | None,
    items: list[tuple[int, list[str]]],
) -> Manifest | None:
    if not keys:
        problems.add(1, "", "", "has no [Manifest] section; is this a manifest CSV?")
        return None
    header = _Header(problems, keys)
    if not _is_known_version(header):
        return None  # the other keys and columns mean something else in another version
    sender, recipient = _address(header, "sender"), _address(header, "recipient")
    shipment_id = header.value("shipment_id")
    if shipment_id is not None:
        check_code(problems, header.line("shipment_id"), "shipment_id", shipment_id)
    kg, on = header.value("dry_ice_kg"), header.value("shipped_on")
    dry_ice_kg = read_decimal(problems, header.line("dry_ice_kg"), "dry_ice_kg", kg)
    shipped_on = read_date(problems, header.line("shipped_on"), "shipped_on", on)
    responsible, purpose = header.value("responsible_person"), header.value("purpose")
    parsed = ItemReader(problems).read(columns, items)
    if (
        problems
        or sender is None
        or recipient is None
        or shipment_id is None
        or responsible is None
        or purpose is None
    ):
        return None
    return Manifest(
        shipment_id=shipment_id,
        sender=sender,
        recipient=recipient,
        responsible_person=responsible,
        shipped_on=shipped_on,
        courier=header.value("courier"),
        tracking_number=header.value("tracking_number"),
        dry_ice_kg=dry_ice_kg,
        purpose=purpose,
        items=parsed,
        temperature_logger_id=header.value("temperature_logger_id"),
        responsible_phone_24h=header.value("responsible_phone_24h"),
    )


def _is_known_version(header: _Header) -> bool:
    fmt, version = header.value("format"), header.value("version")
    if fmt is not None and fmt != FORMAT_NAME:
        header.problems.add(header.line("format"), "format", fmt, f"is not {FORMAT_NAME}")
    if version is not None and version != MANIFEST_CSV_VERSION:
        reason = f"is not known; this LIMS reads version {MANIFEST_CSV_VERSION}"
        header.problems.add(header.line("version"), "version", version, reason)
        return False
    return True


def _address(header: _Header, role: str) -> Address | None:
    problems, before = header.problems, len(header.problems.found)
    got = {key: header.value(f"{role}_{key}") for key in ADDRESS_KEYS if key != "line"}
    lines = tuple(v for _, v in header.keys.get(f"{role}_line", []) if v)
    if not lines:
        problems.add(header.line(f"{role}_line"), f"{role}_line", "", "is required")
    country = got["country"]
    if country is not None and not (len(country) == 2 and country.isascii() and country.isupper()):
        reason = "is not an ISO 3166-1 code such as US or DE"
        problems.add(header.line(f"{role}_country"), f"{role}_country", country, reason)
    if len(problems.found) > before:
        return None
    return Address(
        organisation=got["organisation"] or "",
        person=got["person"] or "",
        lines=lines,
        city=got["city"] or "",
        region=got["region"],
        postal_code=got["postal_code"] or "",
        country=got["country"] or "",
        phone_24h=got["phone_24h"] or "",
        email=got["email"] or "",
    )
