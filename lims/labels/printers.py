"""Label printers as data: admins set them up, technicians send label jobs to them."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import label_printing as lp
from lims import audit
from lims.actors import STAFF, Actor, Role
from lims.audit.models import Action
from lims.db import get_one
from lims.errors import Conflict, FieldError, InvalidInput
from lims.labels import services
from lims.labels.models import Printer, PrintJob
from lims.labels.transport import send_raw, send_to_queue
from lims.specimens.services.common import locked

FIELDS = (
    "name",
    "language",
    "host",
    "port",
    "queue",
    "stock_id",
    "dpi",
    "x_offset_mm",
    "y_offset_mm",
    "is_active",
)


def list_printers(session: Session, actor: Actor, *, active_only: bool = True) -> list[Printer]:
    """The printers, by name; switched-off ones only when asked."""
    actor.require(*STAFF)
    stmt = select(Printer).order_by(Printer.name)
    if active_only:
        stmt = stmt.where(Printer.is_active)
    return list(session.scalars(stmt))


def add_printer(session: Session, actor: Actor, **values: Any) -> Printer:
    """Set up a printer: where it is, what it speaks and which stock it holds."""
    actor.require(Role.ADMIN)
    printer = Printer(**{"port": 9100, "host": "", "queue": "", **values})
    _check(session, printer)
    session.add(printer)
    audit.record(session, actor, Action.PRINTER_ADDED, printer, **_state(printer))
    session.commit()
    return printer


def change_printer(session: Session, actor: Actor, *, printer_id: int, **values: Any) -> Printer:
    """Change a printer's address, stock, offsets, or switch it off (its jobs keep it)."""
    actor.require(Role.ADMIN)
    get_one(session, Printer, printer_id)
    printer = session.scalars(locked(select(Printer).where(Printer.id == printer_id))).one()
    before = _state(printer)
    for key, value in values.items():
        setattr(printer, key, value)
    _check(session, printer)
    after = _state(printer)
    changed = {k: v for k, v in after.items() if before[k] != v}
    if changed:
        audit.record(
            session,
            actor,
            Action.PRINTER_CHANGED,
            printer,
            before={k: before[k] for k in changed},
            **changed,
        )
    session.commit()
    return printer


def send_labels(
    session: Session,
    actor: Actor,
    *,
    printer_id: int,
    barcodes: Sequence[str],
    first_position: int = 1,
    print_command: str = "lp -d {queue}",
    timeout_s: float = 5.0,
    now: datetime | None = None,
) -> PrintJob:
    """Print labels on a printer: render for its stock and offsets, send, record the job.

    The job is recorded only if the printer took it: a failure to send rolls everything back.
    """
    actor.require(Role.TECHNICIAN)
    printer = get_one(session, Printer, printer_id, label="printer")
    if not printer.is_active:
        raise Conflict(f"printer {printer.name} is switched off in the LIMS", field="printer")
    stock = services.get_stock(printer.stock_id)
    labels = services.resolve_labels(session, barcodes, stock)
    content = services.render(
        labels,
        stock,
        output_format=printer.language,
        first_position=first_position,
        offset_mm=(printer.x_offset_mm, printer.y_offset_mm),
    )
    job = services.record_job(
        session, actor, labels, stock, output_format=printer.language, printer=printer, now=now
    )
    session.flush()
    if printer.language == "zpl":
        send_raw(printer.name, printer.host, printer.port, content, timeout_s=timeout_s)
    else:
        send_to_queue(
            printer.name, printer.queue, content, command=print_command, timeout_s=timeout_s
        )
    session.commit()
    return job


def calibration_pdf(
    session: Session, actor: Actor, *, stock_id: str, printer_id: int | None = None
) -> bytes:
    """The sheet's calibration page, shifted by the printer's offsets when one is named."""
    actor.require(Role.TECHNICIAN)
    stock = services.get_stock(stock_id)
    offset = (0.0, 0.0)
    if printer_id is not None:
        printer = get_one(session, Printer, printer_id, label="printer")
        offset = (printer.x_offset_mm, printer.y_offset_mm)
    try:
        return lp.render_calibration_pdf(stock, offset_mm=offset)
    except lp.UnsupportedOutput as err:
        raise InvalidInput(str(err), field="stock") from err


def _check(session: Session, printer: Printer) -> None:
    """Every problem with a printer's settings at once, in the admin's words."""
    problems: list[FieldError] = []
    with session.no_autoflush:  # the name check must not flush the change it is checking
        same_name = session.scalar(
            select(Printer.id).where(Printer.name == printer.name, Printer.id != printer.id)
            if printer.id is not None
            else select(Printer.id).where(Printer.name == printer.name)
        )
    if same_name is not None:
        problems.append({"field": "name", "message": f"a printer is already called {printer.name}"})
    stock = lp.STOCKS.get(printer.stock_id)
    if stock is None:
        problems.append({"field": "stock_id", "message": f"no label stock {printer.stock_id!r}"})
    if printer.language == "zpl":
        if not printer.host:
            problems.append({"field": "host", "message": "a ZPL printer needs its address"})
        elif not _is_address(printer.host):
            problems.append(
                {"field": "host", "message": f"{printer.host!r} is not an IP address or host name"}
            )
        if stock is not None and stock.kind != "roll":
            problems.append({"field": "stock_id", "message": f"{stock.id} is a laser sheet"})
        # ZPL counts in the printer's own dots: a stock laid out for 203 dpi prints at 2/3
        # of its size on a 300 dpi head, and its modules are no longer whole dots.
        if stock is not None and printer.dpi != stock.dpi:
            problems.append(
                {"field": "dpi", "message": f"{stock.id} is laid out for {stock.dpi} dpi"}
            )
    elif printer.language == "pdf" and not printer.queue:
        problems.append({"field": "queue", "message": "a PDF printer needs its print queue"})
    if problems:
        raise InvalidInput(
            f"printer {printer.name}: " + "; ".join(p["message"] for p in problems),
            errors=problems,
        )


_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def _is_address(host: str) -> bool:
    """An IPv4 or IPv6 address, or a host name as RFC 1123 allows it."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(_HOST_NAME.match(host))
    return True


def _state(printer: Printer) -> dict[str, Any]:
    return {key: getattr(printer, key) for key in FIELDS}
