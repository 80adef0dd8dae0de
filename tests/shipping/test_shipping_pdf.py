"""The manifest PDF read back as a receiver would: its text by pdfplumber, its shipment barcode
by zxing-cpp after poppler rasterises the first page."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from decimal import Decimal

import pdfplumber
import pytest

from shipping import UN3373_TEXT, ManifestItem, manifest_pdf
from shipping.pdf import Row, paginate, rows
from tests.barcode_reading import decode, rasterise
from tests.shipping.samples import make_manifest

COUNT = 2000


@pytest.fixture(scope="module")
def pages() -> list[str]:
    """The text of every page of a 2,000-tube manifest (25 boxes of 81, the last one of 56)."""
    with pdfplumber.open(io.BytesIO(manifest_pdf(make_manifest(COUNT)))) as pdf:
        return [page.extract_text() for page in pdf.pages]


def test_every_barcode_of_a_2000_tube_shipment_is_printed_once(pages: list[str]) -> None:
    printed = re.findall(r"^\d+ (\d{8}) ", "\n".join(pages), flags=re.MULTILINE)

    assert printed == [f"{10000000 + n:08d}" for n in range(COUNT)]


def test_every_page_says_which_page_of_how_many_it_is(pages: list[str]) -> None:
    footers = [re.findall(r"page (\d+) of (\d+)", text) for text in pages]

    assert len(pages) > 20
    assert footers == [[(str(n), str(len(pages)))] for n in range(1, len(pages) + 1)]


def test_each_box_and_the_shipment_are_totalled_per_specimen_type(pages: list[str]) -> None:
    text = "\n".join(pages)

    # Every third tube is DNA (100 uL), the others serum (250 uL); box 1 holds tubes 0-80.
    assert "Total Box B0000001: DNA 27 tubes, 2,700 uL" in text
    assert "Total Box B0000001: Serum 54 tubes, 13,500 uL" in text
    assert "Box B0000025: 56 tubes" in text
    assert "Shipment S0000017: 25 boxes, 2000 tubes" in text
    assert "Total shipment: DNA 667 tubes, 66,700 uL" in text
    assert "Total shipment: Serum 1333 tubes, 333,250 uL" in text


def test_the_first_page_carries_the_hazard_statements_and_who_to_call(pages: list[str]) -> None:
    first = pages[0]

    assert f"UN3373 {UN3373_TEXT}" in first
    assert "UN1845 Dry ice, 12.5 kg net (Class 9)" in first
    assert "Dana Whitfield, 24-h phone +1 404 555 0147" in first
    assert "Tracking number WC-7731-0042" in first
    assert "Zentrale Biobank, Universitätsklinikum Würzburg" in first


def test_a_box_that_runs_onto_the_next_page_is_named_again_there(pages: list[str]) -> None:
    continued = [text for text in pages[1:] if "(continued)" in text]

    assert continued
    for text in continued:
        heading = text.splitlines()[1]
        assert re.fullmatch(r"Box B\d{7}: \d+ tubes \(continued\)", heading)


def test_a_shipment_without_dry_ice_says_so() -> None:
    pdf = manifest_pdf(make_manifest(3, dry_ice_kg=None))
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        text = document.pages[0].extract_text()

    assert "No dry ice in this shipment" in text
    assert "UN1845" not in text


@pytest.mark.parametrize("dpi", [300, 200])
def test_the_shipment_barcode_scans_after_printing(dpi: int) -> None:
    page = rasterise(manifest_pdf(make_manifest(5, shipment_id="S-2026-0042")), dpi)[0]

    assert decode(page)["Code128"] == ["S-2026-0042"]


def test_a_32_character_barcode_shrinks_to_fit_its_column_and_is_printed_whole() -> None:
    long = "ABCDEFGHIJKLMNOPQRSTUVWXYZ-12345"
    manifest = make_manifest(1)
    manifest = replace(manifest, items=(replace(manifest.items[0], barcode=long),))
    with pdfplumber.open(io.BytesIO(manifest_pdf(manifest))) as document:
        words = [w["text"] for w in document.pages[0].extract_words()]

    assert long in words


def test_loose_tubes_come_after_the_boxes_under_their_own_heading() -> None:
    loose = ManifestItem("99999990", "Serum", Decimal("250"), "uL", None, None)
    manifest = make_manifest(2)
    manifest = replace(manifest, items=(loose, *manifest.items))
    with pdfplumber.open(io.BytesIO(manifest_pdf(manifest))) as document:
        text = document.pages[0].extract_text()

    assert text.index("Box B0000001: 2 tubes") < text.index("Loose tubes (not in a box): 1 tube")
    assert "Shipment S0000017: 1 box, 3 tubes" in text


def test_a_box_heading_never_ends_a_page() -> None:
    table = [Row("item", ("1",)), Row("box", ("Box B1: 2 tubes",)), Row("item", ("2",))]

    pages = paginate(table, first=2, rest=5)

    assert [[r.kind for r in page] for page in pages] == [["item"], ["box", "item"]]


def test_letters_the_pdf_font_lacks_are_printed_without_their_accent() -> None:
    manifest = make_manifest(1)
    manifest = replace(manifest, recipient=replace(manifest.recipient, city="Łódź"))
    with pdfplumber.open(io.BytesIO(manifest_pdf(manifest))) as document:
        text = document.pages[0].extract_text()

    assert "97080 Lódz BY" in text  # ó is in WinAnsi; Ł and ź are not


def test_a_long_purpose_wraps_instead_of_being_cut() -> None:
    purpose = (
        "DUO:0000006 Health or medical or biomedical research, DUO:0000019 Publication "
        "required, DUO:0000026 User specific restriction: Request R-0012, GWAS of cervical "
        "dystonia"
    )
    with pdfplumber.open(io.BytesIO(manifest_pdf(make_manifest(3, purpose=purpose)))) as pdf:
        text = pdf.pages[0].extract_text()

    assert " ".join(text.split()).count("GWAS of cervical dystonia") == 1
    assert "Contents 1 box, 3 tubes (totals at the end)" in text


def test_us_sites_can_print_on_letter_paper() -> None:
    with pdfplumber.open(io.BytesIO(manifest_pdf(make_manifest(3), paper="letter"))) as pdf:
        assert (pdf.pages[0].width, pdf.pages[0].height) == (612, 792)


def test_10000_tubes_fill_every_page_but_the_last_and_keep_their_order() -> None:
    table = list(rows(make_manifest(10_000)))

    pages = paginate(table, first=40, rest=70)

    assert len(pages[0]) <= 40 and all(len(page) <= 70 for page in pages[1:])
    # A page ends one row early only to keep a box heading with its first tube.
    assert all(len(page) >= 69 for page in pages[1:-1])
    again = [row for page in pages for row in page if not row.cells[0].endswith("(continued)")]
    assert again == table
