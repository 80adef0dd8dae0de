"""Addresses, and creating a shipment from scanned tubes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from lims import audit
from lims.actors import STAFF, Actor, Role
from lims.audit.models import Action
from lims.auth.models import Site
from lims.db import get_one
from lims.errors import Conflict, InvalidInput, NotFound
from lims.shipments.models import Direction, Shipment, ShippingAddress
from lims.shipments.services._common import (
    SHIPMENT_COUNTER,
    add_tubes,
    scanned_codes,
    shipment_code,
)
from lims.specimens.duo import DuoTerm
from lims.specimens.services import issue_serials


def create_address(
    session: Session,
    actor: Actor,
    *,
    name: str,
    street: str,
    city: str,
    postal_code: str,
    country: str,
    contact_name: str,
    phone_24h: str,
    subdivision: str | None = None,
    email: str | None = None,
    site_code: str | None = None,
    is_biorepository: bool = False,
) -> ShippingAddress:
    """Add a shipping address: a site's, the biorepository's, or an investigator's institution."""
    actor.require(Role.ADMIN)
    site = None
    if site_code:
        site = session.scalar(select(Site).where(Site.code == site_code.strip().upper()))
        if site is None:
            raise NotFound(f"No site has code {site_code}", field="site_code")
    if is_biorepository and session.scalar(
        select(ShippingAddress.id).where(ShippingAddress.is_biorepository)
    ):
        raise Conflict("The biorepository already has its receiving address", field="name")
    address = ShippingAddress(
        name=name.strip(),
        street=street.strip(),
        city=city.strip(),
        postal_code=postal_code.strip(),
        country=country.strip().upper(),
        subdivision=(subdivision or "").strip().upper() or None,
        contact_name=contact_name.strip(),
        phone_24h=phone_24h.strip(),
        email=(email or "").strip() or None,
        site=site,
        is_biorepository=is_biorepository,
    )
    session.add(address)
    audit.record(
        session,
        actor,
        Action.SHIPPING_ADDRESS_CREATED,
        address,
        name=address.name,
        country=address.country,
        site=site.code if site else None,
    )
    session.commit()
    return address


def list_addresses(session: Session, actor: Actor) -> list[ShippingAddress]:
    actor.require(*STAFF)
    return list(session.scalars(select(ShippingAddress).order_by(ShippingAddress.name)))


def direction_between(source: ShippingAddress, destination: ShippingAddress) -> Direction:
    """Inbound when it comes to the biorepository, outbound when it leaves it."""
    if destination.is_biorepository:
        return Direction.INBOUND
    if source.is_biorepository:
        return Direction.OUTBOUND
    raise InvalidInput(
        "A shipment starts or ends at the biorepository's address", field="to_address_id"
    )


def create_shipment(
    session: Session,
    actor: Actor,
    *,
    from_address_id: int,
    to_address_id: int,
    purpose: DuoTerm | None = None,
    modifiers: Sequence[DuoTerm] = (),
    barcodes: Sequence[str] = (),
) -> Shipment:
    """Start a shipment, with the tubes scanned so far (more are added while packing)."""
    shipment = create_shipment_step(
        session,
        actor,
        from_address_id=from_address_id,
        to_address_id=to_address_id,
        purpose=purpose,
        modifiers=modifiers,
        barcodes=barcodes,
    )
    session.commit()
    return shipment


def create_shipment_step(
    session: Session,
    actor: Actor,
    *,
    from_address_id: int,
    to_address_id: int,
    purpose: DuoTerm | None = None,
    modifiers: Sequence[DuoTerm] = (),
    barcodes: Sequence[str] = (),
) -> Shipment:
    """create_shipment without its commit, for a feature above that makes a shipment as one step
    of its own transaction (a request's pick list, lims/requests). The caller commits."""
    actor.require(Role.TECHNICIAN)
    source = get_one(session, ShippingAddress, from_address_id, label="Address")
    destination = get_one(session, ShippingAddress, to_address_id, label="Address")
    if source.id == destination.id:
        raise InvalidInput("A shipment goes to another address", field="to_address_id")
    direction = direction_between(source, destination)
    if direction is Direction.OUTBOUND and purpose is None:
        raise InvalidInput(
            "Name the purpose the tubes are sent for (a DUO term): consent is checked against it",
            field="purpose",
        )
    if purpose is not None and not purpose.is_permission:
        raise InvalidInput(
            f"{purpose.value} ({purpose.label}) is a modifier; the purpose is one of GRU, HMB, "
            "DS or POA",
            field="purpose",
        )
    serial = issue_serials(session, SHIPMENT_COUNTER, 1)[0]
    shipment = Shipment(
        code=shipment_code(serial),
        direction=direction,
        from_address=source,
        to_address=destination,
        purpose=purpose,
        purpose_modifiers=" ".join(dict.fromkeys(m.value for m in modifiers)) or None,
    )
    session.add(shipment)
    if barcodes:
        add_tubes(session, shipment, scanned_codes(list(barcodes)))
    audit.record(
        session,
        actor,
        Action.SHIPMENT_CREATED,
        shipment,
        code=shipment.code,
        direction=direction,
        source=source.name,
        destination=destination.name,
        purpose=purpose,
        barcodes=[item.barcode for item in shipment.items],
    )
    return shipment
