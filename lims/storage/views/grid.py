"""The box grid's cells, and the box's contents as table rows, as HTML, for
templates/storage/_grid.html and box.html.

Built here rather than in the template: a 9x9 box is 81 cells of a dozen conditions each, and
in Jinja (a macro's loop, an attribute lookup and an escape per value) the grid was most of the
box page's time (docs/benchmarks.md, "Where a request's time goes"). Here each value from the
database is escaped once, and the rest is fixed text.
"""

from __future__ import annotations

from flask import url_for
from markupsafe import Markup, escape

from lims.storage.services import BoxGrid, GridCell


def grid_cells(
    grid: BoxGrid,
    *,
    mode: str = "view",
    target: str = "",
    last: str = "",
    failed: str = "",
    here: str = "",
    small: bool = False,
) -> Markup:
    """The column heads, then per row its letter and its cells (mode "scan": an empty cell
    links to scanning into that position)."""
    box = grid.box
    parts = [f'<span class="colhead">{c + 1}</span>' for c in range(box.n_cols)]
    for r, letter in enumerate(grid.row_letters):
        parts.append(f'\n    <span class="rowhead">{letter}</span>')
        for c, cell in enumerate(grid.cells[r]):
            pos = f"{letter}{c + 1}"
            marks = (
                (" just" if pos == last else "")
                + (" failed" if pos == failed else "")
                + (" here" if pos == here else "")
            )
            if cell is not None:
                parts.append(_filled(cell, pos, marks, small=small))
            elif mode == "scan":
                href = escape(url_for("storage.scan", box=box.id, position=pos))
                parts.append(
                    f'\n      <a class="cell empty{" target" if pos == target else ""}{marks}" '
                    f'href="{href}" data-pos="{pos}" title="{pos} · empty: click to put the next '
                    f'tube here"><span class="pos">{pos}</span></a>'
                )
            else:
                inner = "" if small else f'<span class="pos">{pos}</span>'
                parts.append(
                    f'\n      <span class="cell empty{marks}" data-pos="{pos}" '
                    f'title="{pos} · empty">{inner}</span>'
                )
    return Markup("".join(parts))


def _filled(cell: GridCell, pos: str, marks: str, *, small: bool) -> str:
    code = escape(cell.barcode)
    kind, status = cell.specimen_type.value, cell.status.value
    classes = f"cell t-{kind} s-{status}"
    if cell.consent_withdrawn:
        classes += " withdrawn"
    title = f"{pos} · {code} · {kind} · {status.replace('_', ' ')}"
    if (level := cell.withdrawal) is not None:
        classes += f" w-{level.value}"
        title += f" · CONSENT WITHDRAWN ({escape(level.label)}): {escape(level.for_tube)}"
    tail = escape(cell.barcode[-4:])
    inner = "" if small else f'<span class="pos">{pos}</span><span class="code">{tail}</span>'
    return (
        f'\n      <a class="{classes}{marks}" href="/aliquots/{code}" data-pos="{pos}" '
        f'data-barcode="{code}"\n         title="{title}">{inner}</a>'
    )


def content_rows(grid: BoxGrid) -> Markup:
    """The box's tubes as table rows, row by row: position, barcode, type, status, withdrawal.
    In Jinja these 81 rows were half the box page's template time (issue #20)."""
    parts = []
    for row in grid.cells:
        for cell in row:
            if cell is None:
                continue
            code = escape(cell.barcode)
            withdrawn = ""
            if (level := cell.withdrawal) is not None:
                for_tube = escape(level.for_tube)
                withdrawn = (
                    f'<span class="tag warn" title="{for_tube}">withdrawn: {escape(level.label)}'
                    f'</span> <span class="muted">{for_tube}</span>'
                )
            parts.append(
                f'\n    <tr><td>{cell.position}</td><td class="mono"><a href="/aliquots/{code}">'
                f"{code}</a></td>\n      <td>{cell.specimen_type.value.replace('_', ' ')}</td>"
                f"<td>{cell.status.value.replace('_', ' ')}</td>"
                f"\n      <td>{withdrawn}</td></tr>\n  "
            )
    return Markup("".join(parts))
