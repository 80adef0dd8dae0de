"""The pick list PDF: read back as text (pdfplumber) and as a scanner reads it (poppler +
zxing-cpp)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pdfplumber

from shipping.picklist import PickLine, PickList, paginate, picklist_pdf, rows
from tests.barcode_reading import decode, rasterise

PREPARED_AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def _lines(n: int, per_box: int = 30) -> list[PickLine]:
    return [
        PickLine(
            barcode=f"{10000000 + i}X",
            freezer="F1 -80",
            rack=f"Rack {i // (per_box * 4) + 1}",
            box=f"Box {i // per_box + 1}",
            position=f"{'ABCDEFGHI'[i % per_box // 9]}{i % 9 + 1}",
            specimen_type="serum",
            volume_ul=250,
            freeze_thaw_count=i % 3,
        )
        for i in range(n)
    ]


def _pick_list(n: int) -> PickList:
    return PickList(
        request_code="REQ-0007",
        title="Serum biomarkers of cervical dystonia progression",
        prepared_at=PREPARED_AT,
        prepared_by="tech",
        lines=_lines(n),
    )


def _pages(pdf: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return [page.extract_text() or "" for page in doc.pages]


def test_every_tube_is_listed_once_in_walking_order_with_page_numbers() -> None:
    pick_list = _pick_list(130)
    pages = _pages(picklist_pdf(pick_list))
    text = "\n".join(pages)

    found = [line.barcode for line in pick_list.lines if line.barcode in text]
    positions = [text.index(code) for code in found]
    assert found == [line.barcode for line in pick_list.lines]
    assert positions == sorted(positions)
    assert len(pages) > 1
    assert all(f"page {n} of {len(pages)}" in page for n, page in enumerate(pages, start=1))
    assert "130 tubes" in pages[0]


def test_the_request_barcode_on_every_page_scans_after_printing() -> None:
    images = rasterise(picklist_pdf(_pick_list(90)), 200)

    assert len(images) == 2
    assert [decode(image)["Code128"] for image in images] == [["REQ-0007"], ["REQ-0007"]]


def test_a_box_that_runs_onto_the_next_page_is_named_again_there() -> None:
    table = list(rows(_lines(40, per_box=40)))
    pages = paginate(table, per_page=25)

    assert pages[1][0].cells == ("F1 -80 / Rack 1 / Box 1 (continued)",)
    assert all(page[-1].kind == "line" for page in pages)


def test_a_box_heading_never_ends_a_page() -> None:
    table = list(rows(_lines(8, per_box=4)))  # heading, 4 tubes, heading, 4 tubes
    pages = paginate(table, per_page=6)

    assert [row.kind for row in pages[0]] == ["place"] + ["line"] * 4
    assert pages[1][0].cells == ("F1 -80 / Rack 1 / Box 2",)
