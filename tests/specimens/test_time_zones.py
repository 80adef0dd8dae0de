"""Times as the site lived them: entered on the site's clock, stored as UTC instants, shown and
exported with the site's offset, refused at a daylight-saving change with the offsets to write."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims.actors import Actor, Role
from lims.auth.services import create_site, create_user
from lims.errors import InvalidInput
from lims.labels.services import tube_label, vial_label
from lims.specimens.models import Specimen, SpecimenType, Temperature, TubeType
from lims.specimens.services import (
    PreAnalytics,
    accession_specimen,
    aliquot_specimen,
    import_aliquots,
)
from lims.storage.services import INVENTORY_COLUMNS, AliquotFilter, inventory_line, iter_inventory
from tests.conftest import DEMO_PASSWORD, bearer, csrf_token, sign_in
from tests.factories import SYSTEM, make_subject, make_visit
from tests.specimens.factories import csv_bytes, import_row

ZONES = {"LA1": "America/Los_Angeles", "NY1": "America/New_York", "EU1": "Europe/Berlin"}


@pytest.fixture
def sites(session: Session) -> None:
    for code, zone in ZONES.items():
        country = "DE" if code == "EU1" else "US"
        create_site(session, SYSTEM, code=code, name=code, country=country, time_zone=zone)


def _lab_tech(session: Session, site: str) -> Actor:
    """A technician of the lab at `site`: its clock reads receipt and processing times."""
    user = create_user(
        session,
        SYSTEM,
        username=f"tech-{site.lower()}",
        password=DEMO_PASSWORD,
        role=Role.TECHNICIAN,
        site_code=site,
    )
    return Actor.of(user)


def _accession(session: Session, actor: Actor, site: str, pre: PreAnalytics) -> Specimen:
    # The visit is dated the day of the draw, as the plausibility rules ask.
    visit = make_visit(session, make_subject(session, site=site), visit_on=pre.collected_at.date())
    return accession_specimen(
        session,
        actor,
        study_code=visit.subject.study_code,
        visit_number=visit.visit_number,
        specimen_type=SpecimenType.WHOLE_BLOOD,
        tube_type=TubeType.SST,
        pre=pre,
    )


def _stored(session: Session, specimen: Specimen) -> Specimen:
    """The row as the database gives it back."""
    session.expire_all()
    return session.scalars(select(Specimen).where(Specimen.id == specimen.id)).one()


def test_a_naive_collection_time_is_stored_as_the_instant_on_the_sites_clock(
    session: Session, sites: None
) -> None:
    lab = _lab_tech(session, "LA1")
    tube = _accession(session, lab, "LA1", PreAnalytics(collected_at=datetime(2026, 3, 5, 9, 30)))
    assert _stored(session, tube).collected_at == datetime(2026, 3, 5, 17, 30, tzinfo=UTC)


def test_a_time_with_an_offset_is_taken_as_given(session: Session, sites: None) -> None:
    lab = _lab_tech(session, "EU1")
    given = datetime(2026, 3, 5, 9, 30, tzinfo=timezone(timedelta(hours=-5)))
    tube = _accession(session, lab, "EU1", PreAnalytics(collected_at=given))
    assert _stored(session, tube).collected_at == datetime(2026, 3, 5, 14, 30, tzinfo=UTC)


# (site, a wall-clock time the clocks skipped, the offset it would have had before the change)
GAPS = [
    ("NY1", datetime(2026, 3, 8, 2, 30), "2026-03-08T02:30-05:00"),
    ("EU1", datetime(2026, 3, 29, 2, 30), "2026-03-29T02:30+01:00"),
]
# (site, a wall-clock time shown twice, its first offset, its second offset)
OVERLAPS = [
    ("NY1", datetime(2026, 11, 1, 1, 30), "2026-11-01T01:30-04:00", "2026-11-01T01:30-05:00"),
    ("EU1", datetime(2026, 10, 25, 2, 30), "2026-10-25T02:30+02:00", "2026-10-25T02:30+01:00"),
]


@pytest.mark.parametrize(("site", "wall", "hint"), GAPS)
def test_a_time_the_clocks_skipped_is_refused_with_the_offset_to_write(
    session: Session, sites: None, site: str, wall: datetime, hint: str
) -> None:
    lab = _lab_tech(session, site)
    with pytest.raises(InvalidInput) as refused:
        _accession(session, lab, site, PreAnalytics(collected_at=wall))
    assert refused.value.field_errors.keys() == {"collected_at"}
    assert "did not exist in " + ZONES[site] in refused.value.detail
    assert hint in refused.value.detail
    assert session.scalar(select(func.count(Specimen.id))) == 0


@pytest.mark.parametrize(("site", "wall", "first", "second"), OVERLAPS)
def test_a_time_shown_twice_is_refused_then_accepted_with_its_offset(
    session: Session, sites: None, site: str, wall: datetime, first: str, second: str
) -> None:
    lab = _lab_tech(session, site)
    with pytest.raises(InvalidInput) as refused:
        _accession(session, lab, site, PreAnalytics(collected_at=wall))
    assert "happened twice in " + ZONES[site] in refused.value.detail
    assert first in refused.value.detail and second in refused.value.detail
    assert session.scalar(select(func.count(Specimen.id))) == 0

    tube = _accession(session, lab, site, PreAnalytics(collected_at=datetime.fromisoformat(second)))
    # The second pass of the hour is an hour after the first.
    later = datetime.fromisoformat(first) + timedelta(hours=1)
    assert _stored(session, tube).collected_at == later.astimezone(UTC)


def test_the_pre_centrifugation_delay_spans_two_zones(session: Session, sites: None) -> None:
    """Drawn 09:00 in Los Angeles (PST, 17:00 UTC), spun 13:30 at the New York lab (EST, 18:30
    UTC): 1.5 h at room temperature is SPREC A. Read on one clock it would be 4.5 h, E."""
    ny_lab = _lab_tech(session, "NY1")
    pre = PreAnalytics(
        collected_at=datetime(2026, 2, 10, 9, 0),
        received_at=datetime(2026, 2, 10, 13, 0),
        processing_started_at=datetime(2026, 2, 10, 13, 30),
        pre_processing_temperature=Temperature.ROOM,
        centrifuge_g=1300,
        centrifuge_minutes=10,
        centrifuge_temperature=Temperature.ROOM,
        centrifuge_braked=True,
        processed_at=datetime(2026, 2, 10, 14, 10),
        storage_temperature_c=-80,
    )
    tube = _stored(session, _accession(session, ny_lab, "LA1", pre))
    assert tube.processing_started_at - tube.collected_at == timedelta(hours=1, minutes=30)
    assert tube.sprec_code is not None and tube.sprec_code.split("-")[2] == "A"
    assert (tube.collection_zone, tube.processing_zone) == (ZONES["LA1"], ZONES["NY1"])


def test_a_1930_pacific_draw_prints_that_days_date(session: Session, sites: None) -> None:
    lab = _lab_tech(session, "LA1")
    tube = _accession(session, lab, "LA1", PreAnalytics(collected_at=datetime(2026, 3, 5, 19, 30)))
    assert tube.collected_at.astimezone(UTC).date().isoformat() == "2026-03-06"
    (aliquot,) = aliquot_specimen(
        session,
        lab,
        specimen_barcode=tube.barcode,
        specimen_type=SpecimenType.SERUM,
        count=1,
        volume_ul=250,
    )
    assert tube_label(tube).collected_on == vial_label(aliquot).collected_on == "2026-03-05"


def test_the_export_gives_the_collection_in_iso_8601_with_the_sites_offset(
    session: Session, sites: None
) -> None:
    lab = _lab_tech(session, "LA1")
    tube = _accession(session, lab, "LA1", PreAnalytics(collected_at=datetime(2026, 3, 5, 19, 30)))
    aliquot_specimen(
        session,
        lab,
        specimen_barcode=tube.barcode,
        specimen_type=SpecimenType.SERUM,
        count=1,
        volume_ul=250,
    )
    (row,) = iter_inventory(session, lab, filters=AliquotFilter())
    collected = INVENTORY_COLUMNS.index("collected_at")
    assert inventory_line(row)[collected] == "2026-03-05T19:30:00-08:00"


def test_the_import_reads_each_time_on_its_sites_clock(session: Session, sites: None) -> None:
    """Collected on the Berlin clock (CET, UTC+1); received and processed at the New York lab."""
    make_subject(session, study_code="EU1-0001", site="EU1")
    ny_lab = _lab_tech(session, "NY1")
    row = import_row(
        study_code="EU1-0001",
        visit_on="2026-02-10",
        collected_at="2026-02-10 09:00",
        received_at="2026-02-10 04:00",
        processing_started_at="2026-02-10 04:30",
        processed_at="2026-02-10 05:10",
    )
    import_aliquots(session, ny_lab, data=csv_bytes([row]))
    tube = session.scalars(select(Specimen).where(Specimen.barcode == "T-0001")).one()
    assert tube.collected_at == datetime(2026, 2, 10, 8, 0, tzinfo=UTC)
    assert tube.received_at == datetime(2026, 2, 10, 9, 0, tzinfo=UTC)
    assert tube.processing_site is not None and tube.processing_site.code == "NY1"


def test_the_import_refuses_a_skipped_time_on_its_row(session: Session, sites: None) -> None:
    make_subject(session, study_code="EU1-0001", site="EU1")
    lab = _lab_tech(session, "EU1")
    row = import_row(
        study_code="EU1-0001",
        visit_on="2026-03-29",
        collected_at="2026-03-29 02:30",
        received_at="",
        processing_started_at="",
        processed_at="",
    )
    with pytest.raises(InvalidInput) as refused:
        import_aliquots(session, lab, data=csv_bytes([row]))
    (error,) = refused.value.errors
    assert (error["row"], error["field"]) == (2, "collected_at")
    assert "did not exist in Europe/Berlin" in error["message"]
    assert session.scalar(select(func.count(Specimen.id))) == 0


def test_the_api_takes_local_times_and_answers_with_offsets(
    client: FlaskClient, session: Session, sites: None
) -> None:
    _lab_tech(session, "NY1")
    make_visit(
        session, make_subject(session, study_code="LA1-0001", site="LA1"), visit_on=date(2026, 3, 5)
    )
    body = {
        "study_code": "LA1-0001",
        "visit_number": 1,
        "tube_type": "PED",
        "collected_at": "2026-03-05T19:30",
        "received_at": "2026-03-05T23:00",
        "processed_at": "2026-03-06T05:30:00+00:00",
    }
    headers = bearer(client, "tech-ny1")
    response = client.post("/api/v1/specimens", json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    tube = response.get_json()
    assert tube["collected_at"] == "2026-03-05T19:30:00-08:00"
    assert tube["received_at"] == "2026-03-05T23:00:00-05:00"
    assert tube["processed_at"] == "2026-03-06T00:30:00-05:00"
    assert (tube["collection_time_zone"], tube["processing_time_zone"]) == (
        ZONES["LA1"],
        ZONES["NY1"],
    )


def test_the_api_refuses_an_ambiguous_time_on_its_field(
    client: FlaskClient, session: Session, sites: None
) -> None:
    _lab_tech(session, "NY1")
    make_visit(session, make_subject(session, study_code="NY1-0001", site="NY1"))
    body = {
        "study_code": "NY1-0001",
        "visit_number": 1,
        "tube_type": "PED",
        "collected_at": "2026-10-31T23:00",
        "received_at": "2026-11-01T01:30",
    }
    response = client.post("/api/v1/specimens", json=body, headers=bearer(client, "tech-ny1"))
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    (error,) = response.get_json()["errors"]
    assert error["field"] == "received_at" and "2026-11-01T01:30-05:00" in error["message"]


def test_the_form_names_each_clock_and_the_tube_page_shows_local_times(
    client: FlaskClient, session: Session, sites: None
) -> None:
    _lab_tech(session, "NY1")
    make_visit(
        session, make_subject(session, study_code="LA1-0001", site="LA1"), visit_on=date(2026, 3, 5)
    )
    sign_in(client, "tech-ny1")
    page = "/subjects/LA1-0001/visits/1/accession"
    html = client.get(page).get_data(as_text=True)
    assert "Collected (LA1 local time)" in html and "Received at the lab (NY1 local time)" in html
    form = {
        "barcode": "tz-0001",
        "tube_type": "PED",
        "collected_at": "2026-03-05 19:30",
        "received_at": "2026-03-05 23:00",
        "csrf_token": csrf_token(client, page),
    }
    response = client.post(page, data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    tube = client.get("/specimens/TZ-0001").get_data(as_text=True)
    assert "2026-03-05 19:30 PST" in tube and "2026-03-05 23:00 EST" in tube


def test_the_form_refuses_a_skipped_time_beside_its_field(
    client: FlaskClient, session: Session, sites: None
) -> None:
    _lab_tech(session, "EU1")
    make_visit(session, make_subject(session, study_code="EU1-0001", site="EU1"))
    sign_in(client, "tech-eu1")
    page = "/subjects/EU1-0001/visits/1/accession"
    form = {"tube_type": "PED", "collected_at": "2026-03-29T02:30"}
    response = client.post(page, data={**form, "csrf_token": csrf_token(client, page)})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="e-collected_at"' in html and "2026-03-29T02:30+01:00" in html
    assert session.scalar(select(func.count(Specimen.id))) == 0


def test_a_naive_input_before_time_zones_still_reads_as_utc_at_a_utc_site(
    session: Session, tech: Actor
) -> None:
    """Sites whose country has several zones default to UTC, so nothing moves until an
    administrator names their zone."""
    visit = make_visit(session, visit_on=date(2026, 3, 5))
    assert visit.subject.site.time_zone == "UTC"
    tube = accession_specimen(
        session,
        tech,
        study_code=visit.subject.study_code,
        visit_number=visit.visit_number,
        specimen_type=SpecimenType.WHOLE_BLOOD,
        tube_type=TubeType.PED,
        pre=PreAnalytics(collected_at=datetime(2026, 3, 5, 19, 30)),
    )
    assert _stored(session, tube).collected_at == datetime(2026, 3, 5, 19, 30, tzinfo=UTC)
