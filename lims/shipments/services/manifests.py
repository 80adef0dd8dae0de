"""A shipment's paperwork through the shipping library: the manifest (PDF, CSV), a site's
manifest loaded as an expected inbound shipment, and the arrival-day check."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

import shipping
from lims import audit
from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.db import utcnow
from lims.errors import Conflict, FieldError, InvalidInput
from lims.shipments.models import (
    Direction,
    Shipment,
    ShipmentBox,
    ShipmentItem,
    ShipmentStatus,
    ShippingAddress,
)
from lims.shipments.services._common import (
    SHIPMENT_COUNTER,
    open_item_of,
    refused,
    shipment_code,
)
from lims.shipments.services.reading import get_shipment
from lims.specimens import barcodes
from lims.specimens.models import Aliquot
from lims.specimens.services import installation_number, issue_serials

# What the manifest says the tubes are for when the shipment names no DUO purpose.
CUSTODY_PURPOSE = "Site specimens to the central biorepository (custody)"


def _address(row: ShippingAddress) -> shipping.Address:
    return shipping.Address(
        organisation=row.name,
        person=row.contact_name,
        lines=tuple(line.strip() for line in row.street.splitlines() if line.strip()),
        city=row.city,
        region=row.subdivision,
        postal_code=row.postal_code,
        country=row.country,
        phone_24h=row.phone_24h,
        email=row.email or "",
    )


def _item(item: ShipmentItem) -> shipping.ManifestItem:
    aliquot = item.aliquot
    box = item.box.label if item.box is not None else None
    if aliquot is None:
        return shipping.ManifestItem(
            barcode=item.barcode,
            specimen_type=item.specimen_type,
            quantity=Decimal(str(item.quantity)),
            unit=item.unit,
            box=box,
            position=item.position if box else None,
        )
    specimen = aliquot.specimen
    return shipping.ManifestItem(
        barcode=item.barcode,
        specimen_type=item.specimen_type,
        quantity=Decimal(str(item.quantity)),
        unit=item.unit,
        box=box,
        position=item.position if box else None,
        study_code=aliquot.subject.study_code,
        visit_number=specimen.visit.visit_number,
        collected_at=specimen.collected_at,
        specimen_barcode=specimen.barcode,
        parent_barcode=aliquot.parent.barcode if aliquot.parent else None,
        tube_type=specimen.tube_type.value,
        sprec=aliquot.sprec_code,
        concentration_ng_ul=(
            Decimal(str(aliquot.concentration_ng_ul))
            if aliquot.concentration_ng_ul is not None
            else None
        ),
        freeze_thaw_count=aliquot.freeze_thaw_count,
    )


def build_manifest(shipment: Shipment) -> shipping.Manifest:
    """The shipment as the shipping library's Manifest: every item, the unexpected excepted."""
    purpose = (
        f"{shipment.purpose.value} {shipment.purpose.label}"
        + "".join(f", {m.value} {m.label}" for m in shipment.modifiers)
        if shipment.purpose
        else CUSTODY_PURPOSE
    )
    items = [i for i in shipment.items if i.state.value != "unexpected"]
    return shipping.Manifest(
        shipment_id=shipment.code,
        sender=_address(shipment.from_address),
        recipient=_address(shipment.to_address),
        responsible_person=shipment.from_address.contact_name,
        shipped_on=shipment.shipped_at.date() if shipment.shipped_at else None,
        courier=shipment.courier,
        tracking_number=shipment.tracking_number,
        dry_ice_kg=Decimal(str(shipment.dry_ice_kg)) if shipment.dry_ice_kg else None,
        purpose=purpose,
        items=tuple(_item(i) for i in sorted(items, key=_manifest_order)),
        temperature_logger_id=shipment.logger_id,
    )


def _manifest_order(item: ShipmentItem) -> tuple[int, str, str]:
    """Box by box, row by row (A1, A2, ..., B1), loose tubes last."""
    if item.box is None:
        return (1_000_000, "", item.barcode)
    pos = item.position or ""
    return (item.box.number, pos[:1] + pos[1:].zfill(2), item.barcode)


@dataclasses.dataclass(frozen=True)
class ShipmentFile:
    """One of a shipment's documents as the pages and the API hand it out."""

    content: bytes | str
    media_type: str
    filename: str
    inline: bool  # shown in the browser (PDF) rather than saved (CSV)


# kind (the URL's last segment) -> how the document is made from the manifest, and how it is sent.
_FILES: dict[str, tuple[Callable[[shipping.Manifest], bytes | str], str, str, bool]] = {
    # The printed manifest: addresses, UN3373 and UN1845 statements, every tube by box.
    "manifest.pdf": (shipping.manifest_pdf, "application/pdf", "manifest-{code}.pdf", True),
    # The versioned CSV another site (or installation) loads.
    "manifest.csv": (shipping.manifest_csv, "text/csv", "manifest-{code}.csv", False),
    # A 4" x 6" label per box: the shipment barcode, box n of m, the UN3373 mark.
    "labels.pdf": (shipping.package_labels_pdf, "application/pdf", "box-labels-{code}.pdf", True),
}


def shipment_file(session: Session, actor: Actor, *, shipment_id: int, kind: str) -> ShipmentFile:
    """A shipment's manifest (PDF or CSV) or box labels, the shipment read once."""
    shipment = get_shipment(session, actor, shipment_id)
    make, media_type, filename, inline = _FILES[kind]
    content = make(build_manifest(shipment))
    return ShipmentFile(content, media_type, filename.format(code=shipment.code), inline)


def manifest_csv(session: Session, actor: Actor, *, shipment_id: int) -> str:
    """The manifest as the versioned CSV another site (or installation) loads."""
    text = shipment_file(session, actor, shipment_id=shipment_id, kind="manifest.csv").content
    assert isinstance(text, str)
    return text


def arrival_problems(shipment: Shipment, arrives_on: date) -> list[str]:
    """A weekend or a public holiday at the destination on the day frozen tubes arrive."""
    where = shipment.to_address
    return shipping.arrival_warnings(arrives_on, where.country, where.subdivision)


def import_manifest(session: Session, actor: Actor, *, text: str) -> Shipment:
    """Load a site's manifest CSV as an inbound shipment waiting to be received.

    Rows whose barcode names an aliquot of ours are linked to it (a site using this LIMS); the
    others stay manifest rows, received as such (a site running its own system).
    """
    actor.require(Role.TECHNICIAN)
    try:
        manifest = shipping.parse_manifest_csv(text)
    except shipping.ManifestErrors as err:
        problems: list[FieldError] = [
            {"field": "file", "message": str(p)} for p in err.problems[:500]
        ]
        raise InvalidInput(str(err), errors=problems) from err
    home = session.scalar(select(ShippingAddress).where(ShippingAddress.is_biorepository))
    if home is None:
        raise Conflict("The biorepository has no receiving address yet", field="file")
    taken = session.scalar(
        select(Shipment.code).where(Shipment.sender_reference == manifest.shipment_id)
    )
    if taken:
        raise Conflict(
            f"Manifest {manifest.shipment_id} was already loaded as shipment {taken}", field="file"
        )
    sender = _sender(session, actor, manifest.sender, home)
    serial = issue_serials(session, SHIPMENT_COUNTER, 1)[0]
    shipment = Shipment(
        code=shipment_code(serial),
        direction=Direction.INBOUND,
        status=ShipmentStatus.SHIPPED,
        from_address=sender,
        to_address=home,
        sender_reference=manifest.shipment_id,
        courier=manifest.courier,
        tracking_number=manifest.tracking_number,
        dry_ice_kg=float(manifest.dry_ice_kg) if manifest.dry_ice_kg is not None else None,
        logger_id=manifest.temperature_logger_id,
        # The manifest gives the day it left; noon UTC stands for the hour it does not give.
        shipped_at=(
            datetime.combine(manifest.shipped_on, time(12), tzinfo=UTC)
            if manifest.shipped_on is not None
            else utcnow()
        ),
    )
    session.add(shipment)
    _add_manifest_items(session, shipment, manifest)
    audit.record(
        session,
        actor,
        Action.SHIPMENT_CREATED,
        shipment,
        code=shipment.code,
        direction=Direction.INBOUND,
        source=sender.name,
        destination=home.name,
        sender_reference=manifest.shipment_id,
        tubes=len(manifest.items),
    )
    session.commit()
    return shipment


def _add_manifest_items(session: Session, shipment: Shipment, manifest: shipping.Manifest) -> None:
    codes = [item.barcode for item in manifest.items]
    ours = {
        a.barcode: a for a in session.scalars(select(Aliquot).where(Aliquot.barcode.in_(codes)))
    }
    number = installation_number(session)
    # A code carrying our number that is no aliquot of ours: a mistyped manifest, or a tube
    # labelled with a code we never issued. Taking it in would collide with the code we issue.
    strays: list[FieldError] = [
        {
            "field": "file",
            "message": f"{code} carries this installation's number ({number}) but is no "
            "aliquot of ours",
        }
        for code in codes
        if code not in ours and barcodes.installation_of(code) == number
    ]
    if strays:
        shown = "; ".join(p["message"] for p in strays[:3])
        raise InvalidInput(
            f"{len(strays)} tubes of the manifest were not issued here: {shown}", errors=strays
        )
    taken: list[FieldError] = [
        {
            "field": "file",
            "message": f"{a.barcode} is already in open shipment {held.shipment.code}",
        }
        for a in ours.values()
        if (held := open_item_of(session, a)) is not None
    ]
    if taken:
        raise refused(f"{len(taken)} tubes of the manifest are on their way already", taken)
    boxes: dict[str, ShipmentBox] = {}
    for row in manifest.items:
        box = None
        if row.box is not None:
            box = boxes.get(row.box)
            if box is None:
                box = boxes[row.box] = ShipmentBox(number=len(boxes) + 1, label=row.box)
                shipment.boxes.append(box)
        aliquot = ours.get(row.barcode)
        shipment.items.append(
            ShipmentItem(
                barcode=row.barcode,
                aliquot=aliquot,
                open_aliquot_id=aliquot.id if aliquot else None,
                specimen_type=row.specimen_type,
                quantity=float(row.quantity),
                unit=row.unit,
                box=box,
                position=row.position,
                manifest_row=None if aliquot else _row_json(row),
            )
        )
    session.flush()  # an aliquot already in another open shipment is a 409 here


def _row_json(row: shipping.ManifestItem) -> str:
    """The row as the sender wrote it, for accessioning the tube later."""
    values = {
        name: (value.isoformat() if isinstance(value, datetime) else value)
        for name, value in dataclasses.asdict(row).items()
    }
    return json.dumps(values, default=str)


def _sender(
    session: Session, actor: Actor, given: shipping.Address, home: ShippingAddress
) -> ShippingAddress:
    """The sender's address as we hold it, or as its manifest gives it (recorded as new data)."""
    known = session.scalar(
        select(ShippingAddress).where(ShippingAddress.name == given.organisation)
    )
    if known is not None:
        if known.id == home.id:
            raise Conflict("The manifest names the biorepository as its sender", field="file")
        return known
    address = ShippingAddress(
        name=given.organisation,
        street="\n".join(given.lines),
        city=given.city,
        postal_code=given.postal_code,
        subdivision=given.region,
        country=given.country,
        contact_name=given.person,
        phone_24h=given.phone_24h,
        email=given.email or None,
    )
    session.add(address)
    audit.record(
        session,
        actor,
        Action.SHIPPING_ADDRESS_CREATED,
        address,
        name=address.name,
        country=address.country,
        source="manifest",
    )
    return address
