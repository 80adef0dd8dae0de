"""Shipment test helpers: addresses, consented stored tubes, a shipment packed or shipped."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.shipments.models import Shipment, ShippingAddress
from lims.shipments.services import create_address, create_shipment, pack_box, ship_shipment
from lims.specimens.consent_models import ConsentDocument
from lims.specimens.duo import DuoTerm
from lims.specimens.models import Aliquot
from lims.specimens.services import withdraw_consent
from tests.factories import SYSTEM, make_box, make_specimen
from tests.specimens.factories import give_consent, make_consent_form
from tests.storage.factories import stored

# A Tuesday: an overnight shipment arrives on a Wednesday that is no holiday in the US or Canada.
SHIPPED_AT = datetime(2026, 3, 17, 14, 0, tzinfo=UTC)
RECEIVED_AT = datetime(2026, 3, 18, 10, 0, tzinfo=UTC)


def make_address(
    session: Session,
    name: str,
    *,
    country: str = "US",
    subdivision: str | None = "NY",
    is_biorepository: bool = False,
    site_code: str | None = None,
) -> ShippingAddress:
    known = session.scalar(select(ShippingAddress).where(ShippingAddress.name == name))
    return known or create_address(
        session,
        SYSTEM,
        name=name,
        street="1 Research Way\nBuilding 4",
        city="Rochester",
        postal_code="14642",
        country=country,
        subdivision=subdivision,
        contact_name="Dr. A. Contact",
        phone_24h="+1 585 555 0100",
        is_biorepository=is_biorepository,
        site_code=site_code,
    )


def biorepository(session: Session) -> ShippingAddress:
    return make_address(session, "Dystonia Biobank central biorepository", is_biorepository=True)


def institution(session: Session) -> ShippingAddress:
    return make_address(session, "Example University, Neurogenetics Lab", subdivision="CA")


def consented_tubes(session: Session, actor: Actor, count: int = 2) -> list[Aliquot]:
    """Stored serum tubes of one subject who consented to everything."""
    specimen = make_specimen(session)
    stmt = select(ConsentDocument).where(ConsentDocument.version == "1.0")
    form = session.scalar(stmt) or make_consent_form(session)
    give_consent(session, specimen.visit.subject, form, date(2026, 3, 1))
    box = make_box(session)
    return [stored(session, actor, box=box, specimen=specimen) for _ in range(count)]


def withdrawn(session: Session, aliquot: Aliquot) -> None:
    withdraw_consent(
        session,
        SYSTEM,
        study_code=aliquot.subject.study_code,
        withdrawn_at=datetime(2026, 3, 10, tzinfo=UTC),
        reason="participant's letter",
    )


def outbound(
    session: Session, actor: Actor, tubes: list[Aliquot], *, purpose: DuoTerm = DuoTerm.DS
) -> Shipment:
    return create_shipment(
        session,
        actor,
        from_address_id=biorepository(session).id,
        to_address_id=institution(session).id,
        purpose=purpose,
        barcodes=[a.barcode for a in tubes],
    )


def shipped(session: Session, actor: Actor, tubes: list[Aliquot]) -> Shipment:
    """Tubes sent from a site to the biorepository: created, packed in one box, shipped."""
    site = make_address(session, "North America site 1 lab", site_code="NA1")
    shipment = create_shipment(
        session, actor, from_address_id=site.id, to_address_id=biorepository(session).id
    )
    pack_box(session, actor, shipment_id=shipment.id, barcodes=[a.barcode for a in tubes])
    ship_shipment(
        session,
        actor,
        shipment_id=shipment.id,
        courier="World Courier",
        tracking_number="1Z999",
        shipped_at=SHIPPED_AT,
        dry_ice_kg=5.0,
        logger_id="LOG-7",
    )
    return shipment


def shipped_outbound(session: Session, actor: Actor, tubes: list[Aliquot]) -> Shipment:
    """Tubes sent from the biorepository to an investigator's institution, packed and shipped."""
    shipment = outbound(session, actor, tubes)
    pack_box(session, actor, shipment_id=shipment.id, barcodes=[a.barcode for a in tubes])
    ship_shipment(
        session,
        actor,
        shipment_id=shipment.id,
        courier="FedEx",
        tracking_number="7712",
        shipped_at=SHIPPED_AT,
        dry_ice_kg=5.0,
    )
    return shipment
