"""Printing labels: the LIMS turns its rows into label data, the label library draws them.

Every print is recorded (who, when, which labels, which stock); a label whose barcode was
printed before is marked as a reprint, and so is the job that holds it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pypdfium2
from sqlalchemy import select
from sqlalchemy.orm import Session

import label_printing as lp
from lims import audit
from lims.actors import STAFF, Actor, Role
from lims.audit.models import Action
from lims.audit.services import Named
from lims.auth import timezones
from lims.db import get_one
from lims.errors import FieldError, InvalidInput, plural
from lims.labels.models import PrintedLabel, Printer, PrintJob
from lims.specimens import barcodes as codes
from lims.specimens.models import Aliquot, Specimen, SpecimenType
from lims.storage.models import Box

FORMATS = {"pdf": "application/pdf", "zpl": "text/plain; charset=utf-8"}
MAX_LABELS = 20_000  # one job; a bigger run is split by the caller
_TYPE_NAMES = {SpecimenType.DNA: "DNA", SpecimenType.RNA: "RNA"}


@dataclass(frozen=True)
class LabelOutput:
    content: bytes
    media_type: str
    filename: str
    job: PrintJob


def list_stocks() -> list[lp.LabelStock]:
    """The label stocks the printers are loaded with (data in label_printing/stocks.py)."""
    return list(lp.STOCKS.values())


def get_stock(stock_id: str) -> lp.LabelStock:
    try:
        return lp.get_stock(stock_id)
    except lp.UnknownStock as err:
        raise InvalidInput(str(err), field="stock") from err


def _type_name(specimen_type: SpecimenType) -> str:
    return _TYPE_NAMES.get(specimen_type, specimen_type.value.replace("_", " ").capitalize())


def vial_label(aliquot: Aliquot) -> lp.VialLabel:
    """What goes on a tube: coded subject and visit, never a name or a birth date."""
    quantity = f"{aliquot.volume_ul} µL"
    if aliquot.concentration_ng_ul is not None:
        quantity += f" {aliquot.concentration_ng_ul:g} ng/µL"
    visit = aliquot.specimen.visit
    return lp.VialLabel(
        barcode=aliquot.barcode,
        specimen_type=_type_name(aliquot.specimen_type),
        quantity=quantity,
        visit=f"{visit.subject.study_code} V{visit.visit_number}",
        collected_on=_collected_on(aliquot.specimen),
    )


def _collected_on(specimen: Specimen) -> str:
    """The day of the draw as the collecting site lived it (a 19:30 draw in Los Angeles is
    that day, though it is already the next day in UTC)."""
    return timezones.local_date(specimen.collected_at, specimen.collection_zone).isoformat()


def tube_label(specimen: Specimen) -> lp.VialLabel:
    volume = f"{specimen.volume_ml:g} mL " if specimen.volume_ml else ""
    return lp.VialLabel(
        barcode=specimen.barcode,
        specimen_type=_type_name(specimen.specimen_type),
        quantity=f"{volume}{specimen.tube_type.value}",
        visit=specimen.visit.label,
        collected_on=_collected_on(specimen),
    )


def box_label(box: Box) -> lp.BoxLabel:
    where = box.rack.freezer.name + " / " + box.rack.name if box.rack else "not in a freezer"
    return lp.BoxLabel(
        barcode=box.barcode, name=box.name, detail=f"{where} · {box.n_rows}x{box.n_cols}"
    )


def resolve_labels(
    session: Session, barcodes: Sequence[str], stock: lp.LabelStock
) -> list[lp.Label]:
    """Label data for each barcode, in order; every unknown or unsuitable one is named."""
    wanted = [codes.normalise(b) for b in barcodes if b.strip()]
    if not wanted:
        raise InvalidInput("Give at least one barcode to print", field="barcodes")
    if len(wanted) > MAX_LABELS:
        raise InvalidInput(
            f"{len(wanted)} labels in one job; print at most {MAX_LABELS}", field="barcodes"
        )
    aliquots = {
        a.barcode: a for a in session.scalars(select(Aliquot).where(Aliquot.barcode.in_(wanted)))
    }
    tubes = {
        s.barcode: s for s in session.scalars(select(Specimen).where(Specimen.barcode.in_(wanted)))
    }
    boxes = {b.barcode: b for b in session.scalars(select(Box).where(Box.barcode.in_(wanted)))}
    labels: list[lp.Label] = []
    problems: list[FieldError] = []
    for i, code in enumerate(wanted):
        field = f"barcodes[{i}]"
        if problem := codes.check_problem(code):
            problems.append({"field": field, "message": problem})
        elif stock.purpose == "box" and code in boxes:
            labels.append(box_label(boxes[code]))
        elif stock.purpose == "vial" and code in aliquots:
            labels.append(vial_label(aliquots[code]))
        elif stock.purpose == "vial" and code in tubes:
            labels.append(tube_label(tubes[code]))
        elif code in boxes or code in aliquots or code in tubes:
            kind = "a box" if code in boxes else "a tube"
            problems.append(
                {
                    "field": field,
                    "message": f"{code} is {kind}; stock {stock.id} is for {stock.purpose} labels",
                }
            )
        else:
            problems.append(
                {"field": field, "message": f"no aliquot, tube or box has barcode {code}"}
            )
    if problems:
        raise InvalidInput(
            f"{len(problems)} of {plural(len(wanted), 'barcode')} cannot be printed: "
            + "; ".join(p["message"] for p in problems[:3]),
            errors=problems,
        )
    return labels


def render(
    labels: Sequence[lp.Label],
    stock: lp.LabelStock,
    *,
    output_format: str,
    first_position: int = 1,
    offset_mm: tuple[float, float] = (0.0, 0.0),
) -> bytes:
    """The label library's bytes, with its refusals turned into our InvalidInput."""
    try:
        if output_format == "zpl":
            return lp.render_zpl(labels, stock, offset_mm=offset_mm).encode("utf-8")
        if output_format == "pdf":
            return lp.render_pdf(labels, stock, first_position=first_position, offset_mm=offset_mm)
    except lp.LabelDoesNotFit as err:
        raise InvalidInput(str(err), field="barcodes") from err
    except lp.PositionOutOfRange as err:
        raise InvalidInput(str(err), field="first_position") from err
    except (lp.UnsupportedOutput, lp.InvalidLabel) as err:
        raise InvalidInput(str(err), field="format") from err
    raise InvalidInput(f"format must be pdf or zpl, not {output_format!r}", field="format")


def print_labels(
    session: Session,
    actor: Actor,
    *,
    barcodes: Sequence[str],
    stock_id: str,
    output_format: str = "pdf",
    first_position: int = 1,
    now: datetime | None = None,
) -> LabelOutput:
    """Render labels for aliquots, tubes or boxes and record the print job."""
    actor.require(Role.TECHNICIAN)
    stock = get_stock(stock_id)
    labels = resolve_labels(session, barcodes, stock)
    content = render(labels, stock, output_format=output_format, first_position=first_position)
    job = record_job(
        session, actor, labels, stock, output_format=output_format, printer=None, now=now
    )
    session.commit()
    filename = f"labels-{job.id}-{stock.id}.{output_format}"
    return LabelOutput(content, FORMATS[output_format], filename, job)


def record_job(
    session: Session,
    actor: Actor,
    labels: Sequence[lp.Label],
    stock: lp.LabelStock,
    *,
    output_format: str,
    printer: Printer | None,
    now: datetime | None,
) -> PrintJob:
    """Add the job, its labels (reprints marked) and the audit event; the caller commits."""
    printed = [label.barcode for label in labels]
    before = set(
        session.scalars(select(PrintedLabel.barcode).where(PrintedLabel.barcode.in_(printed)))
    )
    job = PrintJob(
        user_id=actor.user_id,
        username=actor.username,
        stock_id=stock.id,
        output_format=output_format,
        label_count=len(printed),
        is_reprint=bool(before),
        printer=printer,
        **({"printed_at": now} if now else {}),
    )
    job.labels = [PrintedLabel(barcode=b, is_reprint=b in before) for b in printed]
    session.add(job)
    where: dict[str, Any] = {"printer": printer.name} if printer is not None else {}
    audit.record(
        session,
        actor,
        Action.LABELS_PRINTED,
        job,
        stock=stock.id,
        format=output_format,
        count=len(printed),
        reprinted=len(before & set(printed)),
        first=printed[0],
        last=printed[-1],
        at=now,
        **where,
    )
    return job


def preview_png(session: Session, actor: Actor, *, barcodes: Sequence[str], stock_id: str) -> bytes:
    """The first label as the printer would make it: rasterised at the stock's own dpi."""
    actor.require(Role.TECHNICIAN)
    stock = get_stock(stock_id)
    first = resolve_labels(session, list(barcodes)[:1], stock)
    single = stock if stock.kind == "roll" else _one_label_roll(stock)
    pdf = pypdfium2.PdfDocument(render(first, single, output_format="pdf"))
    try:
        image = pdf[0].render(scale=stock.dpi / 72).to_pil()
    finally:
        pdf.close()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(stock.dpi, stock.dpi))
    return buffer.getvalue()


def _one_label_roll(stock: lp.LabelStock) -> lp.LabelStock:
    """A sheet stock's label on a page of its own size, for the preview."""
    return replace(stock, kind="roll", sheet=None)


def list_jobs(session: Session, actor: Actor, *, limit: int = 20) -> list[PrintJob]:
    """Recent print jobs, newest first."""
    actor.require(*STAFF)
    return list(session.scalars(select(PrintJob).order_by(PrintJob.id.desc()).limit(limit)))


# A print job as people type it: "PJ-42" (also "PJ42", "JOB 42").
JOB_CODE = re.compile(r"^(?:PJ|JOB|PRINT JOB)[ -]?#?0*([0-9]{1,9})$")


def job_code(job_id: int) -> str:
    return f"PJ-{job_id}"


def get_job(session: Session, actor: Actor, job_id: int) -> PrintJob:
    """One print job and its labels, for staff."""
    actor.require(*STAFF)
    return get_one(session, PrintJob, job_id, label="Print job")


def find_print_jobs(session: Session, actor: Actor, code: str) -> list[Named]:
    """The print job a code names ("PJ-42"), for staff."""
    actor.require(*STAFF)
    if (match := JOB_CODE.match(code)) is None:
        return []
    job = session.get(PrintJob, int(match[1]))
    if job is None:
        return []
    detail = f"{plural(job.label_count, 'label')} on {job.stock_id}"
    return [Named("print_job", job.id, job_code(job.id), detail, {"job_id": job.id})]


def label_codes(session: Session, refs: Collection[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The codes of the print jobs ("PJ-42") and printers (names) among `refs`, in bulk."""
    found = {
        ref: job_code(int(ref[1])) for ref in refs if ref[0] == "print_job" and ref[1].isdigit()
    }
    printer_ids = {int(i) for kind, i in refs if kind == "printer" and i.isdigit()}
    if printer_ids:
        stmt = select(Printer.id, Printer.name).where(Printer.id.in_(printer_ids))
        found |= {("printer", str(i)): name for i, name in session.execute(stmt)}
    return found
