"""A 10,000-tube manifest as PDF and CSV, against the same table drawn with plain ReportLab.

Run: .venv/bin/python bench/manifest.py [--count N] [--repeat R]

The baseline is what a competent engineer writes with ReportLab's high-level layout: platypus
(SimpleDocTemplate) with the header as Paragraphs, ReportLab's Code 128 widget at the same
whole-dot bar width, a Table per box (box headings and totals as Paragraphs, the column
titles repeated on each page) and the usual two-pass "NumberedCanvas" recipe for
"page n of m". Same rows, same text, same page size. Ours is shipping.manifest_pdf.
The CSV is written and read back by shipping.manifest_csv / parse_manifest_csv.
"""

import argparse
import io
import multiprocessing
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.labels import cpu_model
from shipping import Manifest, manifest_csv, manifest_pdf, parse_manifest_csv
from shipping.pdf import COLUMNS, MARGIN, rows
from shipping.pdf_parts import MODULE_PT, QUIET_MODULES, number
from tests.shipping.samples import make_manifest

WARM_UP = 100  # tubes rendered once, untimed, before the measured run


class NumberedCanvas(Canvas):
    """ReportLab's well-known recipe: keep each page's state, write "page n of m" at save."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont("Helvetica-Bold", 8)
            self.drawRightString(
                A4[0] - MARGIN, MARGIN, f"page {self._pageNumber} of {len(self._pages)}"
            )
            super().showPage()
        super().save()


def platypus_pdf(manifest: Manifest) -> bytes:
    """The baseline: the same header, hazard text and table through platypus."""
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 24,
        invariant=True,
    )
    s, r = manifest.sender, manifest.recipient
    bars = Code128(
        manifest.shipment_id,
        barWidth=MODULE_PT,
        barHeight=36,
        lquiet=QUIET_MODULES * MODULE_PT,
        rquiet=QUIET_MODULES * MODULE_PT,
    )
    story: list[Any] = [
        Paragraph("Specimen shipment manifest", styles["Title"]),
        bars,
        Paragraph(f"Shipment {manifest.shipment_id}", styles["Heading2"]),
        Paragraph(
            f"From: {s.organisation}, {s.person}, {', '.join(s.lines)}, {s.postal_code} "
            f"{s.city} {s.country}, 24-h phone {s.phone_24h}",
            styles["Normal"],
        ),
        Paragraph(
            f"To: {r.organisation}, {r.person}, {', '.join(r.lines)}, {r.postal_code} "
            f"{r.city} {r.country}, 24-h phone {r.phone_24h}",
            styles["Normal"],
        ),
        Paragraph(
            f"Responsible person {manifest.responsible_person}, 24-h phone "
            f"{manifest.emergency_phone}; shipped on {manifest.shipped_on}; courier "
            f"{manifest.courier}; tracking number {manifest.tracking_number}",
            styles["Normal"],
        ),
        Paragraph("UN3373 Biological Substance, Category B", styles["Heading3"]),
        Paragraph(
            f"UN1845 Dry ice, {number(manifest.dry_ice_kg or 0)} kg net (Class 9)",
            styles["Heading3"],
        ),
        Spacer(1, 6),
    ]
    # One Table per box, not one Table of every row: platypus splits a long Table across pages
    # by re-measuring the rows left, so one 10,000-row Table costs time quadratic in its length
    # (measured: 150 s). A Table per box is what an engineer who knows platypus writes.
    header = [title for title, _, _ in COLUMNS]
    style = [
        ("FONT", (0, 0), (-1, -1), "Helvetica", 8),
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
        ("ALIGN", (0, 0), (0, -1), "RIGHT"),
        ("ALIGN", (3, 0), (3, -1), "RIGHT"),
        ("ALIGN", (7, 0), (7, -1), "RIGHT"),
        ("TOPPADDING", (0, 0), (-1, -1), 1),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
    ]
    widths = [w for _, w, _ in COLUMNS]
    data: list[list[str]] = []

    def flush() -> None:
        if data:
            table = Table([header, *data], colWidths=widths, repeatRows=1)
            table.setStyle(TableStyle(style))
            story.append(table)
            data.clear()

    for row in rows(manifest):
        if row.kind == "item":
            data.append(list(row.cells))
        elif row.kind == "box":
            flush()
            story.append(Paragraph(row.cells[0], styles["Heading4"]))
        else:
            flush()
            story.append(Paragraph(row.cells[0], styles["Normal"]))
    flush()
    doc.build(story, canvasmaker=NumberedCanvas)
    return buffer.getvalue()


def write_csv(manifest: Manifest) -> bytes:
    return manifest_csv(manifest).encode()


def round_trip_csv(manifest: Manifest) -> bytes:
    parsed = parse_manifest_csv(manifest_csv(manifest))
    assert parsed == manifest
    return b""


CASES: dict[str, Callable[[Manifest], bytes]] = {
    "ours: manifest_pdf": manifest_pdf,
    "baseline: platypus Tables": platypus_pdf,
    "ours: manifest_csv": write_csv,
    "ours: CSV write + parse": round_trip_csv,
}


def measure(case: str, count: int) -> dict[str, float]:
    """One run in this (fresh) process: wall and CPU seconds, peak RSS, output size."""
    CASES[case](make_manifest(WARM_UP))  # untimed: imports, fonts, first-call caches
    manifest = make_manifest(count)
    wall, cpu = time.perf_counter(), time.process_time()
    out = CASES[case](manifest)
    return {
        "seconds": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "kib": len(out) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Manifest PDF and CSV speed.")
    parser.add_argument("--count", type=int, default=10_000, help="tubes in the manifest")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; median shown")
    parser.add_argument("--case", action="append", choices=sorted(CASES), help="default: all")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(
        f"# {date.today()}  {cpu_model()}  nproc={os.cpu_count()}  load {load:.1f}  "
        f"Python {sys.version.split()[0]}"
    )
    print(
        f"# {args.count} tubes in boxes of 81; median of {args.repeat} runs, each in a fresh "
        f"process after an untimed {WARM_UP}-tube run"
    )
    print(f"{'case':<26} {'seconds':>8} {'CPU s':>7} {'peak RSS MiB':>12} {'output KiB':>10}")
    with multiprocessing.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
        for case in args.case or list(CASES):
            runs = [pool.apply(measure, (case, args.count)) for _ in range(args.repeat)]
            m = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
            print(
                f"{case:<26} {m['seconds']:>8.2f} {m['cpu_s']:>7.2f} "
                f"{m['peak_rss_mib']:>12.0f} {m['kib']:>10.0f}"
            )


if __name__ == "__main__":
    main()
