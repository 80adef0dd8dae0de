"""Server-side SVG for the subject timeline: each scale's totals over time, and the body regions
affected at each visit (spread shows as a region that appears later). No JavaScript: the page is
plain HTML with inline SVG, and each point carries a <title> the browser shows on hover.

Pure functions of the timeline's values; every text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, LEFT, RIGHT, TOP, BOTTOM = 600, 44, 16, 16, 26
LINE, POINT, TOXIN, NEW = "#1f5f99", "#1f5f99", "#8a4fbf", "#c0392b"


def _x(day: int, last_day: int) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * day / max(last_day, 1)


def _ceiling(value: float) -> float:
    """A round axis end at or above `value`: 1, 2 or 5 times a power of ten."""
    step = 10 ** max(0, len(str(int(value))) - 1)
    for factor in (1, 2, 5, 10):
        if step * factor >= value:
            return float(step * factor)
    return float(value)


def _number(value: float) -> str:
    return f"{value:g}"


def scale_chart(
    name: str,
    points: Sequence[tuple[int, float]],
    *,
    maximum: float | None,
    last_day: int,
    toxin_days: Sequence[int] = (),
    height: int = 150,
) -> Markup:
    """A line of one scale's totals by days since the first visit; the y axis runs from 0 to the
    scale's maximum (or a little above the highest total when the maximum is not confirmed);
    botulinum toxin injections are ticks along the bottom."""
    highest = max([p[1] for p in points] + [1])
    # A focal dystonia uses a small part of a whole-body scale (GDRS 0-140): then the axis ends
    # a little above the highest total, and the caption still gives the scale's range.
    top = maximum if maximum and highest > maximum / 3 else _ceiling(highest * 1.3)
    plot_h = height - TOP - BOTTOM

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / top)

    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(name)} over time</title>",
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#888"/>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        'stroke="#888"/>',
    ]
    for tick in (0, top / 2, top):
        parts.append(
            f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#555">{_number(round(tick, 1))}</text>'
        )
    for day in (d for d in toxin_days if 0 <= d <= last_day):  # earlier ones are off the axis
        x = _x(day, last_day)
        parts.append(
            f'<line x1="{x:.1f}" y1="{TOP + plot_h}" x2="{x:.1f}" y2="{TOP + plot_h - 8}" '
            f'stroke="{TOXIN}" stroke-width="2"><title>botulinum toxin, day {day}</title></line>'
        )
    coords = [(_x(day, last_day), y(value)) for day, value in points]
    if len(coords) > 1:
        path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    for (day, value), (x, yy) in zip(points, coords, strict=True):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="4" fill="{POINT}">'
            f"<title>day {day}: {_number(value)}</title></circle>"
            f'<text x="{x:.1f}" y="{yy - 8:.1f}" font-size="11" text-anchor="middle">'
            f"{_number(value)}</text>"
        )
    parts.append(
        f'<text x="{WIDTH - RIGHT}" y="{height - 6}" font-size="11" text-anchor="end" '
        f'fill="#555">days since first visit (0 to {last_day})</text></svg>'
    )
    return Markup("".join(parts))


def region_chart(
    regions: Sequence[str], visits: Sequence[tuple[str, Sequence[str], Sequence[str]]]
) -> Markup:
    """A grid of body regions (rows) by visits (columns): a filled cell is a region affected at
    that visit; red marks a region new since the previous visits (spread)."""
    cell_w, cell_h, label_w = 56, 20, 120
    width = label_w + cell_w * len(visits) + 8
    height = cell_h * (len(regions) + 1) + 8
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg"><title>Body regions by visit</title>'
    ]
    for col, (label, _, _) in enumerate(visits):
        x = label_w + col * cell_w + cell_w / 2
        parts.append(
            f'<text x="{x}" y="14" font-size="11" text-anchor="middle">{escape(label)}</text>'
        )
    for row, region in enumerate(regions):
        y = cell_h * (row + 1)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 14}" font-size="11" text-anchor="end">'
            f"{escape(region.replace('_', ' '))}</text>"
        )
        for col, (label, affected, new) in enumerate(visits):
            if region in affected:
                fill = NEW if region in new else LINE
                what = "new at" if region in new else "affected at"
                parts.append(
                    f'<rect x="{label_w + col * cell_w + 4}" y="{y + 3}" width="{cell_w - 8}" '
                    f'height="{cell_h - 6}" rx="3" fill="{fill}"><title>'
                    f"{escape(region.replace('_', ' '))} {what} {escape(label)}</title></rect>"
                )
    parts.append("</svg>")
    return Markup("".join(parts))
