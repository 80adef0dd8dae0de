"""The aliquot list's table rows as HTML, for templates/storage/aliquots.html.

Built here rather than in the template, as the box grid is (grid.py): 50 rows of ten cells, each
value looked up and escaped by Jinja, were more than half of the list page's CPU under cProfile
(2026-12-02, issue #20). Each value from the database is escaped once; the rest is fixed text,
the same bytes the template's loop wrote.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from lims.storage.services import InventoryRow

_WITHDRAWN = ' <span class="tag warn" title="consent withdrawn">⊘</span>'
_NONE = '\n    <tr><td colspan="10" class="muted">No aliquots match.</td></tr>\n  '


def aliquot_rows(rows: Sequence[InventoryRow]) -> Markup:
    """One <tr> per aliquot: barcode, subject, site, visit, type, volume, concentration, status,
    freeze-thaw cycles, location (or a row saying none match)."""
    if not rows:
        return Markup(_NONE)
    return Markup("".join(_row(r) for r in rows))


def _row(r: InventoryRow) -> str:
    code, subject = escape(r.barcode), escape(r.subject)
    concentration = r.concentration_ng_ul if r.concentration_ng_ul is not None else ""
    return (
        f'\n    <tr><td class="mono"><a href="/aliquots/{code}">{code}</a></td>'
        f'\n      <td><a href="/subjects/{subject}">{subject}</a>'
        f"{_WITHDRAWN if r.consent_withdrawn else ''}</td>"
        f'\n      <td>{escape(r.site)}</td><td class="num">{r.visit}</td>'
        f"<td>{r.specimen_type.value.replace('_', ' ')}</td>"
        f'\n      <td class="num">{r.volume_ul}</td><td class="num">{concentration}</td>'
        f"\n      <td>{r.status.value.replace('_', ' ')}</td>"
        f'<td class="num">{r.freeze_thaw_count}</td>'
        f"\n      <td>{_location(r)}</td></tr>\n  "
    )


def _location(r: InventoryRow) -> str:
    if not r.box_id:
        return '<span class="muted">not in a box</span>'
    rack = f" / {escape(r.rack)}" if r.rack else ""
    position = escape(r.position or "")
    return (
        f"{escape(r.freezer or '')}{rack} / "
        f'<a href="/storage/boxes/{r.box_id}?position={position}">'
        f"{escape(r.box_barcode or '')} {position}</a>"
    )
