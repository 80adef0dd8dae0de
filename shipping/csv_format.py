"""The manifest as CSV, versioned, and its parser: how one site's manifest reaches another.

The file has two sections, as an Illumina sample sheet does: `[Manifest]` holds one `key,value`
line per header field, `[Items]` a header row and one row per tube. The keys and columns are
documented in docs/user/shipping-manifest-csv.md; changing them is a new MANIFEST_CSV_VERSION.
"""

import csv
import io
from collections.abc import Iterator
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
_OPTIONAL_KEYS = {"region", "shipped_on", "courier", "tracking_number", "dry_ice_kg"}
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


def _build(
    problems: Problems,
    header: dict[str, list[tuple[int, str]]],
    columns: tuple[int, list[str]] | None,
    items: list[tuple[int, list[str]]],
) -> Manifest | None:
    def value(key: str) -> str | None:
        found = header.get(key)
        if not found or not found[0][1]:
            if key.removeprefix("sender_").removeprefix("recipient_") not in _OPTIONAL_KEYS:
                problems.add(0 if not found else found[0][0], key, "", "is required")
            return None
        return found[0][1]

    def line_of(key: str) -> int:
        return header[key][0][0] if key in header else 0

    if not header:
        problems.add(1, "", "", "has no [Manifest] section; is this a manifest CSV?")
        return None
    fmt, version = value("format"), value("version")
    if fmt is not None and fmt != FORMAT_NAME:
        problems.add(line_of("format"), "format", fmt, f"is not {FORMAT_NAME}")
    if version is not None and version != MANIFEST_CSV_VERSION:
        problems.add(
            line_of("version"),
            "version",
            version,
            f"is not known; this LIMS reads version {MANIFEST_CSV_VERSION}",
        )
        return None  # the other keys and columns mean something else in another version
    sender, recipient = (
        _address(problems, header, "sender"),
        _address(problems, header, "recipient"),
    )
    shipment_id = value("shipment_id")
    if shipment_id is not None:
        check_code(problems, line_of("shipment_id"), "shipment_id", shipment_id)
    raw_kg = value("dry_ice_kg")
    raw_on = value("shipped_on")
    dry_ice_kg = read_decimal(problems, line_of("dry_ice_kg"), "dry_ice_kg", raw_kg)
    shipped_on = read_date(problems, line_of("shipped_on"), "shipped_on", raw_on)
    responsible, purpose = value("responsible_person"), value("purpose")
    parsed = ItemReader(problems).read(columns, items)
    if None in (sender, recipient, shipment_id, responsible, purpose) or problems:
        return None
    assert sender and recipient and shipment_id and responsible and purpose  # for mypy
    return Manifest(
        shipment_id=shipment_id,
        sender=sender,
        recipient=recipient,
        responsible_person=responsible,
        shipped_on=shipped_on,
        courier=value("courier"),
        tracking_number=value("tracking_number"),
        dry_ice_kg=dry_ice_kg,
        purpose=purpose,
        items=parsed,
        temperature_logger_id=value("temperature_logger_id"),
        responsible_phone_24h=value("responsible_phone_24h"),
    )


def _address(
    problems: Problems, header: dict[str, list[tuple[int, str]]], role: str
) -> Address | None:
    got: dict[str, str] = {}
    before = len(problems.found)
    for key in ADDRESS_KEYS:
        found = header.get(f"{role}_{key}", [])
        if key != "line" and found and found[0][1]:
            got[key] = found[0][1]
        elif key == "line" and any(v for _, v in found):
            continue
        elif key not in ("region", "email"):
            problems.add(found[0][0] if found else 0, f"{role}_{key}", "", "is required")
    country = got.get("country")
    if country is not None and not (len(country) == 2 and country.isascii() and country.isupper()):
        line = header[f"{role}_country"][0][0]
        problems.add(line, f"{role}_country", country, "is not an ISO 3166-1 code such as US or DE")
    if len(problems.found) > before:
        return None
    return Address(
        organisation=got["organisation"],
        person=got["person"],
        lines=tuple(v for _, v in header[f"{role}_line"] if v),
        city=got["city"],
        region=got.get("region"),
        postal_code=got["postal_code"],
        country=got["country"],
        phone_24h=got["phone_24h"],
        email=got.get("email", ""),
    )
