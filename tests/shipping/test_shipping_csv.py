"""The manifest CSV: what one site writes, another reads back unchanged, or learns every
problem in it with its line and column."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from shipping import (
    MANIFEST_CSV_VERSION,
    ManifestErrors,
    ManifestItem,
    ManifestProblem,
    manifest_csv,
    parse_manifest_csv,
)
from tests.shipping.samples import make_manifest

LOOSE = ManifestItem("99999990", "Whole blood", Decimal("2.5"), "mL", None, None)
# A site without box barcodes names its boxes.
NAMED_BOX = ManifestItem("99999980", "Serum", Decimal("250"), "uL", "Serum box 14", "A1")


def problems_in(text: str) -> list[ManifestProblem]:
    with pytest.raises(ManifestErrors) as caught:
        parse_manifest_csv(text)
    return caught.value.problems


def edited(old: str, new: str, *, count: int = 1) -> str:
    text = manifest_csv(make_manifest(3))
    assert old in text, f"{old!r} is not in the sample manifest"
    return text.replace(old, new, count)


def test_a_manifest_survives_the_round_trip_through_csv() -> None:
    manifest = make_manifest(200)
    manifest = replace(
        manifest,
        items=(*manifest.items, NAMED_BOX, LOOSE),
        sender=replace(manifest.sender, region=None, email=""),
        courier=None,
        responsible_phone_24h="+1 404 555 0199",
    )

    assert parse_manifest_csv(manifest_csv(manifest)) == manifest


def test_the_csv_names_its_format_and_version_first() -> None:
    lines = manifest_csv(make_manifest(1)).splitlines()

    assert lines[:3] == ["[Manifest]", "format,dystonia-biobank-manifest", "version,1"]
    assert MANIFEST_CSV_VERSION == "1"


def test_a_file_saved_by_a_spreadsheet_reads_the_same() -> None:
    # Excel adds a byte-order mark, pads rows with empty cells and may drop the CRs.
    text = manifest_csv(make_manifest(3))
    padded = "\ufeff" + "\n".join(line + ",," for line in text.splitlines())

    assert parse_manifest_csv(padded) == make_manifest(3)


def test_the_items_columns_may_come_in_any_order_and_optional_ones_may_be_left_out() -> None:
    text = (
        manifest_csv(make_manifest(1)).split("[Items]")[0]
        + "[Items]\nunit,quantity,barcode,specimen_type,box,position\nuL,250,12345674,Serum,,\n"
    )

    items = parse_manifest_csv(text).items

    assert items == (ManifestItem("12345674", "Serum", Decimal("250"), "uL", None, None),)


def test_every_problem_is_named_with_its_line_and_column() -> None:
    text = edited("10000001,Serum,250,uL,B0000001,A2,", "10000001,Serum,-5,uL,B0000001,Z,")
    text = text.replace("2026-03-19T09:30:00-05:00", "2026-03-19T09:30:00")
    text = text.replace("shipped_on,2026-12-07", "shipped_on,07/12/2026")

    found = problems_in(text)

    assert [(p.column, p.value) for p in found] == [
        ("shipped_on", "07/12/2026"),
        ("position", "Z"),
        ("quantity", "-5"),
        ("collected_at", "2026-03-19T09:30:00"),
    ]
    lines = text.splitlines()
    assert lines[found[0].line - 1].startswith("shipped_on,")
    assert all(lines[p.line - 1].startswith("10000001,") for p in found[1:])
    assert str(found[3]) == (
        f"line {found[3].line}, collected_at: '2026-03-19T09:30:00' has no UTC offset "
        "(add +01:00, -05:00 or Z)"
    )


@pytest.mark.parametrize(
    ("old", "new", "column", "reason"),
    [
        ("version,1", "version,2", "version", "is not known; this LIMS reads version 1"),
        ("format,dystonia-biobank-manifest", "format,other", "format", "is not dystonia"),
        ("shipment_id,S0000017", "shipment_id,S 17", "shipment_id", "is not a barcode"),
        ("shipment_id,S0000017", "shipment_id,", "shipment_id", "is required"),
        ("purpose,Return", "purpose_of_shipment,Return", "purpose_of_shipment", "is not a key"),
        ("sender_country,US", "sender_country,USA", "sender_country", "is not an ISO 3166-1"),
        ("sender_city,", "sender_town,", "sender_city", "is required"),
        ("recipient_person,Dr.", "recipient_person,,Dr.", "recipient_person", "is a third cell"),
        ("courier,World Courier", "courier,World Courier\r\ncourier,DHL", "courier", "given twice"),
        ("dry_ice_kg,12.5", "dry_ice_kg,12,5", "dry_ice_kg", "is a third cell"),
        ("dry_ice_kg,12.5", "dry_ice_kg,lots", "dry_ice_kg", "is not a number"),
        ("barcode,specimen_type", "barcode,kind", "kind", "is not a column"),
        ("barcode,specimen_type,quantity", "barcode,quantity", "specimen_type", "required column"),
        ("10000001,Serum", "10000000,Serum", "barcode", "is listed twice (first on line"),
        ("10000001,Serum", "1000 0001,Serum", "barcode", "is not a barcode"),
        ("10000001,Serum,250", "10000001,,250", "specimen_type", "is required"),
        ("10000001,Serum,250,uL,B0000001,A2", "10000001,Serum,250,uL,,A2", "position", "without"),
        ("B0000001,A2", "B0000001,A1", "position", "in box B0000001 is taken already (line"),
        ("B0000001,A2", "B" * 41 + ",A2", "box", "is longer than 40 characters"),
        (",2,2026-03-19", ",two,2026-03-19", "visit_number", "is not a whole number"),
        ("2026-03-19T09:30:00-05:00", "19.03.2026 09:30", "collected_at", "is not a date and"),
        ("178.8", "178,8", "", "are cells beyond the header"),
        (",0\r\n", ",-1\r\n", "freeze_thaw_count", "is not a whole number"),
    ],
)
def test_each_kind_of_problem_is_refused_with_its_reason(
    old: str, new: str, column: str, reason: str
) -> None:
    found = problems_in(edited(old, new))

    # A renamed key is both unknown and missing: each problem is told, so one of them is this.
    assert any(p.column == column and reason in p.reason for p in found), found
    assert len(found) <= 2


def test_a_file_that_is_not_a_manifest_is_refused_on_its_first_line() -> None:
    found = problems_in("barcode,volume_ul\n12345674,250\n")

    assert found[0] == ManifestProblem(1, "", "barcode", "comes before the [Manifest] section")


def test_a_manifest_without_items_is_refused() -> None:
    text = manifest_csv(make_manifest(1)).rsplit("\r\n", 2)[0] + "\r\n"

    found = problems_in(text)

    assert [p.reason for p in found] == ["is followed by no items: a manifest lists its tubes"]


def test_a_missing_key_is_reported_on_the_manifest_sections_line() -> None:
    text = "\r\n" + edited("responsible_person,Dana Whitfield\r\n", "")

    found = problems_in(text)

    assert found == [ManifestProblem(2, "responsible_person", "", "is required")]


def test_the_error_message_counts_the_problems_and_shows_the_first_five() -> None:
    text = manifest_csv(make_manifest(7)).replace(",uL,", ",uL,,", 7)

    shown = r"^7 problems in the manifest: line \d+: .* and 2 more$"
    with pytest.raises(ManifestErrors, match=shown):
        parse_manifest_csv(text)
