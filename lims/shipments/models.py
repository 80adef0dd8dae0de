"""Shipping addresses, shipments, the boxes they travel in and every tube (or manifest row) in
them. A shipment is inbound when it comes to the biorepository (from a collecting site),
outbound when it leaves it (to an investigator's institution)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lims.auth.models import Site, User
from lims.db import Base, str_enum, utcnow
from lims.errors import Conflict
from lims.specimens.duo import DuoTerm
from lims.specimens.models import Aliquot


class Direction(StrEnum):
    INBOUND = "inbound"  # to the biorepository
    OUTBOUND = "outbound"  # from the biorepository


class ShipmentStatus(StrEnum):
    PLANNED = "planned"
    PACKING = "packing"
    SHIPPED = "shipped"
    RECEIVED = "received"
    CLOSED = "closed"


T = ShipmentStatus
# The one place a shipment's allowed moves live; services read it through require_transition.
SHIPMENT_TRANSITIONS: dict[ShipmentStatus, frozenset[ShipmentStatus]] = {
    T.PLANNED: frozenset({T.PACKING, T.CLOSED}),
    T.PACKING: frozenset({T.SHIPPED, T.CLOSED}),
    T.SHIPPED: frozenset({T.RECEIVED}),
    T.RECEIVED: frozenset({T.CLOSED}),
    T.CLOSED: frozenset(),
}
# An aliquot is in at most one of these (the database backs it: ShipmentItem.open_aliquot_id).
OPEN_STATUSES = frozenset({T.PLANNED, T.PACKING, T.SHIPPED})


class ItemState(StrEnum):
    EXPECTED = "expected"  # on the manifest, not (yet) scanned at the receiving end
    RECEIVED = "received"
    MISSING = "missing"  # receipt completed without it; stays visible until resolved
    UNEXPECTED = "unexpected"  # scanned at receipt, not on the manifest
    LOST = "lost"  # a missing tube given up, with a reason


class ShippingAddress(Base):
    """Where specimens go or come from: a collecting site, the biorepository, an investigator's
    institution. IATA PI 650 wants a responsible person and a 24-hour phone on every package."""

    __tablename__ = "shipping_addresses"
    __audit_type__: ClassVar[str] = "shipping_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)  # institution, department
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    # The biorepository's own receiving address: shipments to it are inbound.
    is_biorepository: Mapped[bool] = mapped_column(default=False)
    street: Mapped[str] = mapped_column(String(200))  # lines separated by newlines
    city: Mapped[str] = mapped_column(String(80))
    postal_code: Mapped[str] = mapped_column(String(16))
    # ISO 3166-2 subdivision code without the country ("NY", "ON", "BE"): state holidays.
    subdivision: Mapped[str | None] = mapped_column(String(8))
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    contact_name: Mapped[str] = mapped_column(String(120))
    phone_24h: Mapped[str] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    site: Mapped[Site | None] = relationship()


class Shipment(Base):
    __tablename__ = "shipments"
    __audit_type__: ClassVar[str] = "shipment"
    __table_args__ = (
        CheckConstraint("dry_ice_kg IS NULL OR dry_ice_kg >= 0", name="dry_ice_non_negative"),
        CheckConstraint(
            "dry_ice_left_kg IS NULL OR dry_ice_left_kg >= 0", name="dry_ice_left_non_negative"
        ),
        CheckConstraint("from_address_id <> to_address_id", name="from_differs_from_to"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # the barcode on the manifest
    direction: Mapped[Direction] = mapped_column(str_enum(Direction, 8))
    status: Mapped[ShipmentStatus] = mapped_column(
        str_enum(ShipmentStatus, 10), default=ShipmentStatus.PLANNED, index=True
    )
    from_address_id: Mapped[int] = mapped_column(ForeignKey("shipping_addresses.id"), index=True)
    to_address_id: Mapped[int] = mapped_column(ForeignKey("shipping_addresses.id"), index=True)
    # What the receiver may do with the tubes, as a DUO term; None: custody only (a site sending
    # its tubes to the biorepository), checked as BenchWork.CUSTODY.
    purpose: Mapped[DuoTerm | None] = mapped_column(str_enum(DuoTerm, 16, name="purpose"))
    # The DUO modifiers the use declares about itself (NCU, NPU, GSO, ...), space-separated.
    purpose_modifiers: Mapped[str | None] = mapped_column(String(200))
    # The sender's own shipment id, when the shipment came as another system's manifest.
    sender_reference: Mapped[str | None] = mapped_column(String(40))
    courier: Mapped[str | None] = mapped_column(String(60))
    tracking_number: Mapped[str | None] = mapped_column(String(60))
    dry_ice_kg: Mapped[float | None]
    logger_id: Mapped[str | None] = mapped_column(String(60))
    shipped_at: Mapped[datetime | None]
    received_at: Mapped[datetime | None]
    # Condition on arrival.
    logger_reading_c: Mapped[float | None]  # the logger's highest reading in transit
    dry_ice_left_kg: Mapped[float | None]
    is_damaged: Mapped[bool | None]
    arrival_notes: Mapped[str | None] = mapped_column(Text)
    # An outbound shipment's delivery: received_at is when the recipient had it, and this is who
    # of ours confirmed it (the condition goes in is_damaged and arrival_notes).
    delivery_confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    from_address: Mapped[ShippingAddress] = relationship(foreign_keys=[from_address_id])
    to_address: Mapped[ShippingAddress] = relationship(foreign_keys=[to_address_id])
    delivery_confirmed_by: Mapped[User | None] = relationship()
    boxes: Mapped[list[ShipmentBox]] = relationship(
        back_populates="shipment", order_by="ShipmentBox.number"
    )
    items: Mapped[list[ShipmentItem]] = relationship(
        back_populates="shipment", order_by="ShipmentItem.id"
    )

    @property
    def modifiers(self) -> tuple[DuoTerm, ...]:
        return tuple(DuoTerm(t) for t in (self.purpose_modifiers or "").split())

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def require_transition(self, to: ShipmentStatus) -> None:
        """Refuse a move the shipment's lifecycle does not allow, naming where it stands."""
        if to not in SHIPMENT_TRANSITIONS[self.status]:
            raise Conflict(
                f"Shipment {self.code} is {self.status.value} and cannot become {to.value}",
                field="status",
            )


class ShipmentBox(Base):
    """A box packed into a shipment: box n of m on its label and on the manifest."""

    __tablename__ = "shipment_boxes"
    __table_args__ = (
        UniqueConstraint("shipment_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"), index=True)
    number: Mapped[int]
    label: Mapped[str] = mapped_column(String(40))  # the cryobox's barcode or name

    shipment: Mapped[Shipment] = relationship(back_populates="boxes")


class ShipmentItem(Base):
    """One tube of a shipment: an aliquot of ours, or a row of a sender's manifest (or both)."""

    __tablename__ = "shipment_items"
    __audit_type__: ClassVar[str] = "shipment_item"
    __table_args__ = (UniqueConstraint("shipment_id", "barcode"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"), index=True)
    barcode: Mapped[str] = mapped_column(String(32))
    aliquot_id: Mapped[int | None] = mapped_column(ForeignKey("aliquots.id"), index=True)
    # The aliquot while the shipment is open, else NULL: the unique constraint keeps an aliquot
    # in at most one open shipment even when two benches add it at the same moment.
    open_aliquot_id: Mapped[int | None] = mapped_column(ForeignKey("aliquots.id"), unique=True)
    state: Mapped[ItemState] = mapped_column(str_enum(ItemState, 10), default=ItemState.EXPECTED)
    # As the manifest lists it.
    specimen_type: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[float]
    unit: Mapped[str] = mapped_column(String(8))
    shipment_box_id: Mapped[int | None] = mapped_column(ForeignKey("shipment_boxes.id"))
    position: Mapped[str | None] = mapped_column(String(4))  # in the shipment box
    # Where the tube left from, kept when shipping empties its position.
    from_box: Mapped[str | None] = mapped_column(String(32))
    from_position: Mapped[str | None] = mapped_column(String(4))
    is_thawed: Mapped[bool] = mapped_column(default=False)
    # The receiving bench's scans: the first one's time, and how often it was scanned.
    scanned_at: Mapped[datetime | None]
    scan_count: Mapped[int] = mapped_column(default=0)
    resolution: Mapped[str | None] = mapped_column(Text)  # how a missing tube was settled
    # The sender's manifest row as loaded (JSON), kept to accession a tube that is not ours.
    manifest_row: Mapped[str | None] = mapped_column(Text)

    shipment: Mapped[Shipment] = relationship(back_populates="items")
    aliquot: Mapped[Aliquot | None] = relationship(foreign_keys=[aliquot_id])
    box: Mapped[ShipmentBox | None] = relationship()
