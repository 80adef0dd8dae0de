"""The demo, loaded once per database for this module (it takes seconds): every test reads it in
a transaction rolled back after, as the `session` fixture does."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lims import demo, demo_requests
from lims.actors import Actor
from lims.audit.services import events_for, verify_chain
from lims.auth import timezones
from lims.auth.models import Site, User
from lims.db import make_engine
from lims.labels.services import print_labels
from lims.shipments.models import ShipmentItem
from lims.specimens.consent_models import WithdrawalLevel
from lims.specimens.models import Aliquot, AliquotStatus, Specimen, Subject
from lims.storage.models import Box, Placement
from tests.barcode_reading import decode, rasterise
from tests.conftest import DatabaseMaker, app_on, rolled_back, sign_in

SUBJECTS = 12
_loaded: dict[str, Engine] = {}


@pytest.fixture(params=["sqlite", "postgresql"])
def demo_engine(request: pytest.FixtureRequest, databases: DatabaseMaker) -> Engine:
    """A database holding the demo, loaded at its first use in the run."""
    dialect: str = request.param
    if dialect not in _loaded:
        url = databases.migrated(dialect, "lims_demo_loaded")
        engine = make_engine(url)
        with Session(engine) as session:
            assert demo.load(session, seed=7, subjects=SUBJECTS) is not None
        _loaded[dialect] = engine
    return _loaded[dialect]


@pytest.fixture
def session(demo_engine: Engine) -> Iterator[Session]:
    with rolled_back(demo_engine) as db:
        yield db


@pytest.fixture
def app(session: Session) -> Flask:
    return app_on(session)


def test_the_demo_loads_once_and_its_labels_print_and_scan(session: Session) -> None:
    assert demo.load(session, seed=7, subjects=SUBJECTS) is None  # a second run loads nothing

    usernames = set(session.scalars(select(User.username)))
    assert usernames == {"admin", "tech", "tech-eu", "investigator", "reviewer"}
    assert session.scalar(select(func.count(Subject.id))) == SUBJECTS
    aliquots = session.scalar(select(func.count(Aliquot.id))) or 0
    placed = session.scalar(select(func.count(Placement.id))) or 0
    # Every tube sits in a box, but those the demo's shipments took out of theirs.
    travelled = session.scalar(select(func.count(ShipmentItem.from_box))) or 0
    assert aliquots == placed + travelled and aliquots > 12
    assert verify_chain(session).is_intact

    tech = Actor.of(session.scalars(select(User).where(User.username == "tech")).one())
    box = session.scalars(select(Box).order_by(Box.id)).first()
    assert box is not None
    codes = [p.aliquot.barcode for p in box.placements][:6]
    sheet = print_labels(
        session, tech, barcodes=codes, stock_id="cryo-sheet-letter", first_position=3
    )
    found = decode(rasterise(sheet.content, 300)[0])
    assert sorted(found["Code128"]) == sorted(codes) == sorted(found["DataMatrix"])
    roll = print_labels(session, tech, barcodes=codes, stock_id="cryo-1.28x0.5-203")
    assert [decode(p)["DataMatrix"] for p in rasterise(roll.content, 203)] == [[c] for c in codes]


def test_the_demo_has_shipments_a_request_under_review_and_one_released_with_its_data_set(
    session: Session,
) -> None:
    from lims.requests.criteria import count_matches, parse_criteria
    from lims.requests.models import ItemStatus, RequestState, SpecimenRequest
    from lims.requests.services.release import download_data_set
    from lims.shipments.models import Direction, Shipment, ShipmentStatus
    from lims.shipments.services import reconciliation

    shipments = list(session.scalars(select(Shipment).order_by(Shipment.id)))
    _delivered, outbound, waiting, received, for_request = shipments
    assert for_request.direction is Direction.OUTBOUND
    assert for_request.status is ShipmentStatus.RECEIVED  # delivered: the request's release
    assert (waiting.status, waiting.from_address.site.code) == (ShipmentStatus.SHIPPED, "NA1")
    result = reconciliation(session, waiting)
    assert (len(result.received), len(result.missing), len(result.unexpected)) == (5, 1, 1)
    assert received.status is ShipmentStatus.RECEIVED and received.logger_reading_c == -74.5
    assert outbound.direction is Direction.OUTBOUND and outbound.status is ShipmentStatus.SHIPPED
    assert "Neurogenetics" in outbound.to_address.name

    # Issue 19: one request under review, one shipped to the investigator and released.
    investigator = Actor.of(
        session.scalars(select(User).where(User.username == "investigator")).one()
    )
    released, waiting = session.scalars(select(SpecimenRequest).order_by(SpecimenRequest.id))
    assert waiting.state is RequestState.UNDER_REVIEW and waiting.attachments
    assert released.state is RequestState.SHIPPED and released.shipment == for_request
    assert {i.status for i in released.items} == {ItemStatus.RELEASED}
    assert {i.aliquot.status.value for i in released.items} == {"released"}
    data = download_data_set(session, investigator, request_id=released.code, kind="data")
    assert len(data.content.decode().splitlines()) == len(released.items) + 1
    rows = list(csv.DictReader(io.StringIO(data.content.decode())))
    assert {r["gen_result_thap1"] for r in rows} <= {"", "6"}  # coded, never UNK
    assert any(r["weeks_since_toxin"] for r in rows), "the demo's data set shows toxin weeks"
    # The investigator's feasibility question finds the collection it was answered from.
    counts = count_matches(session, parse_criteria(demo_requests.SERUM_CD), on=date(2026, 12, 1))
    assert counts.subjects > 0


def test_the_demos_delivered_outbound_shipment_released_its_tubes_to_the_investigator(
    session: Session,
) -> None:
    from lims.shipments.models import Direction, Shipment, ShipmentStatus

    delivered = session.scalars(select(Shipment).order_by(Shipment.id)).first()
    assert delivered is not None and delivered.direction is Direction.OUTBOUND
    assert delivered.status is ShipmentStatus.RECEIVED
    assert delivered.delivery_confirmed_by is not None
    assert delivered.delivery_confirmed_by.username == "tech"
    tubes = [item.aliquot for item in delivered.items]
    assert len(tubes) == 2 and {t.status for t in tubes if t} == {AliquotStatus.RELEASED}
    assert [str(e.action) for e in events_for(session, delivered)] == [
        "shipment.created", "shipment.box_packed", "shipment.shipped", "shipment.delivered",
    ]  # fmt: skip


def test_the_demo_shows_local_times_in_two_zones_and_every_withdrawal_level(
    client: FlaskClient, session: Session
) -> None:
    zones = {site.code: site.time_zone for site in session.scalars(select(Site))}
    assert zones["NA1"] == "America/New_York" and zones["EU1"] == "Europe/Berlin"
    levels = {s.withdrawal_level for s in session.scalars(select(Subject))}
    assert levels == {None, *WithdrawalLevel}
    sign_in(client, "tech")
    shown = {}
    for code in ("NA1", "EU1"):
        subject = session.scalars(
            select(Subject).join(Site).where(Site.code == code).order_by(Subject.id)
        ).first()
        assert subject is not None
        shown[code] = client.get(f"/subjects/{subject.study_code}").get_data(as_text=True)
    assert re.search(r"\d{2}:\d{2} E[SD]T", shown["NA1"])  # New York's clock
    assert re.search(r"\d{2}:\d{2} CES?T", shown["EU1"])  # Berlin's clock


def test_the_demo_shows_local_times_at_a_north_american_and_a_european_site(
    client: FlaskClient, session: Session
) -> None:
    shown: dict[str, str] = {}
    for tube in session.scalars(select(Specimen).order_by(Specimen.id)):
        site = tube.visit.subject.site.code
        shown.setdefault(site, timezones.shown(tube.collected_at, tube.collection_zone))
        if site == "EU1":  # processed by EU1's own technician, on Berlin's clock
            assert tube.processing_zone == "Europe/Berlin"
    assert shown["NA1"].endswith((" EST", " EDT")) and shown["EU1"].endswith((" CET", " CEST"))
    sign_in(client, "tech-eu")
    eu_tube = next(
        t
        for t in session.scalars(select(Specimen).order_by(Specimen.id))
        if t.visit.subject.site.code == "EU1"
    )
    assert shown["EU1"] in client.get(f"/specimens/{eu_tube.barcode}").get_data(as_text=True)
