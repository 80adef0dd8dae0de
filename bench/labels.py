"""Label rendering speed and memory, against a naive ReportLab baseline.

Run: .venv/bin/python bench/labels.py [--count N] [--repeat R] [--stock ID ...]

The baseline is what one writes without thinking: ReportLab's own Code 128 widget and a
DataMatrix drawn module by module, one rect per dark module, at a fixed text size. Its bar
width is still set to whole printer dots (a thermal head prints no less), so both sides draw a
label that scans and the comparison is about the drawing approach only.
"""

import argparse
import io
import multiprocessing
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import zxingcpp
from reportlab.graphics.barcode.code128 import Code128
from reportlab.pdfgen.canvas import Canvas

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from label_printing import STOCKS, BoxLabel, Label, LabelStock, VialLabel, render_pdf

Renderer = Callable[[Sequence[Label], LabelStock], bytes]
WARM_UP = 100  # labels rendered once, untimed, before the measured render


def make_labels(stock: LabelStock, count: int) -> list[Label]:
    """Longest ids the LIMS issues: 8-digit aliquot ids, "B" + 7-digit box ids."""
    if stock.purpose == "box":
        return [
            BoxLabel(f"B{n:07d}", f"Serum box {n}", "Freezer F1 / Rack 3 · 9x9")
            for n in range(count)
        ]
    return [
        VialLabel(f"{n:07d}{n % 10}", "Serum", "250 µL", f"CD-{n % 9999:04d} V2", "2026-03-18")
        for n in range(count)
    ]


def naive_pdf(labels: Sequence[Label], stock: LabelStock) -> bytes:
    """Baseline: one label per page (or per grid cell), no run merging, no text fitting."""
    width, height = stock.label_width_in * 72, stock.label_height_in * 72
    grid = stock.sheet
    page = (grid.page_width_in * 72, grid.page_height_in * 72) if grid else (width, height)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=page, invariant=True)
    for index, label in enumerate(labels):
        left, bottom = 0.0, 0.0
        if grid:
            cell = index % grid.positions
            if cell == 0 and index:
                canvas.showPage()
            row, column = divmod(cell, grid.columns)
            left = (grid.margin_left_in + column * grid.pitch_x_in) * 72
            bottom = page[1] - (grid.margin_top_in + row * grid.pitch_y_in) * 72 - height
        _naive_label(canvas, label, stock, left, bottom)
        if not grid:
            canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _naive_label(
    canvas: Canvas, label: Label, stock: LabelStock, left: float, bottom: float
) -> None:
    dot, width = 72 / stock.dpi, stock.label_width_in * 72
    x, bar_height = stock.bar_module_dots * dot, stock.bar_height_in * 72
    bars = Code128(label.barcode, barWidth=x, barHeight=bar_height, lquiet=10 * x, rquiet=10 * x)
    bars.drawOn(canvas, left, bottom + stock.label_height_in * 72 - bar_height - 6)
    matrix = zxingcpp.create_barcode(label.barcode, zxingcpp.BarcodeFormat.DataMatrix)
    pixels = memoryview(matrix.to_image(scale=1, add_quiet_zones=False))  # type: ignore[arg-type]
    module = stock.matrix_module_dots * dot
    rows, cols = pixels.shape or (0, 0)
    data = pixels.tobytes()
    for r in range(rows):
        for c in range(cols):
            if data[r * cols + c] < 128:
                x0 = left + width - (cols + 2 - c) * module
                canvas.rect(x0, bottom + (rows + 2 - r) * module, module, module, 0, 1)
    canvas.setFont("Helvetica", 5)
    canvas.drawString(left + 4, bottom + 4, " ".join(str(v) for v in vars(label).values())[:40])


def ours(labels: Sequence[Label], stock: LabelStock) -> bytes:
    return render_pdf(labels, stock)


RENDERERS: dict[str, Renderer] = {"ours": ours, "naive": naive_pdf}


def measure(renderer: str, stock_id: str, count: int) -> dict[str, float]:
    """One render in this (fresh) process: its speed and how far it raised the peak RSS."""
    stock = STOCKS[stock_id]
    labels = make_labels(stock, count)
    RENDERERS[renderer](labels[:WARM_UP], stock)  # untimed: imports, fonts, first-call caches
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    pdf = RENDERERS[renderer](labels, stock)
    seconds = time.perf_counter() - start
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "labels_per_s": count / seconds,
        "seconds": seconds,
        "peak_rss_mib": rss_after / 1024,
        "render_rss_mib": (rss_after - rss_before) / 1024,
        "pdf_kib": len(pdf) / 1024,
    }


def cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or "unknown"
    names = (line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    return next(names, "unknown")


def main() -> None:
    parser = argparse.ArgumentParser(description="Label rendering speed and memory.")
    parser.add_argument("--count", type=int, default=10_000, help="labels per stock")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; median shown")
    parser.add_argument("--stock", action="append", choices=sorted(STOCKS), help="default: all")
    args = parser.parse_args()
    print(
        f"# {date.today()}  {cpu_model()}  nproc={os.cpu_count()}  Python {sys.version.split()[0]}"
    )
    print(
        f"# {args.count} labels per stock and renderer; median of {args.repeat} runs, "
        f"each in a fresh process after an untimed {WARM_UP}-label render; RSS = peak resident set"
    )
    print(
        f"{'stock':<18} {'renderer':<8} {'labels/s':>8} {'seconds':>7} "
        f"{'peak RSS MiB':>12} {'render +MiB':>11} {'PDF KiB':>8}"
    )
    # A fresh process per run, so each peak RSS belongs to one render alone.
    with multiprocessing.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
        for stock_id in args.stock or list(STOCKS):
            for renderer in RENDERERS:
                runs = [
                    pool.apply(measure, (renderer, stock_id, args.count))
                    for _ in range(args.repeat)
                ]
                m = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
                print(
                    f"{stock_id:<18} {renderer:<8} {m['labels_per_s']:>8.0f} {m['seconds']:>7.2f} "
                    f"{m['peak_rss_mib']:>12.0f} {m['render_rss_mib']:>11.0f} {m['pdf_kib']:>8.0f}"
                )


if __name__ == "__main__":
    main()
