"""What the bench must refuse (issue 15): through the service, the API, the form and the CSV
import, each refusal leaves no row and no audit event behind."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.models import AuditEvent
from lims.errors import Conflict, InvalidInput
from lims.specimens.models import Aliquot, Dystonia, Sex, Specimen, SpecimenType, Subject, TubeType
from lims.specimens.services import (
    PreAnalytics,
    accession_specimen,
    aliquot_specimen,
    extract_dna,
    import_aliquots,
    register_subject,
    sub_aliquot,
)
from lims.specimens.services.plausibility import DEFAULT_LIMITS, Limits
from lims.storage.services import use_aliquot
from tests.conftest import bearer, csrf_token, sign_in
from tests.factories import make_site, make_specimen, make_subject, make_visit
from tests.specimens.factories import csv_bytes, import_row

NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)  # the visits of the factories are on this day
FUTURE = "2026-03-19T09:00:00Z"


def written(session: Session) -> tuple[int, ...]:
    """Counts of every row a refusal must not leave behind, audit events included."""
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Subject, Specimen, Aliquot, AuditEvent)
    )


def _accession(
    session: Session, tech: Actor, limits: Limits = DEFAULT_LIMITS, **pre: Any
) -> Specimen:
    visit = make_visit(session, make_subject(session))
    return accession_specimen(
        session,
        tech,
        study_code=visit.subject.study_code,
        visit_number=1,
        specimen_type=SpecimenType.WHOLE_BLOOD,
        tube_type=TubeType.SST,
        pre=PreAnalytics(**{"collected_at": datetime(2026, 3, 18, 9, 30, tzinfo=UTC), **pre}),
        volume_ml=6.0,
        now=NOW,
        limits=limits,
    )


def _clock(app: Flask) -> None:
    app.config["CLOCK"] = lambda: NOW


# ---- times in the future ---------------------------------------------------------------------


def test_a_collection_in_the_future_is_refused_and_nothing_is_written(
    session: Session, tech: Actor
) -> None:
    visit = make_visit(session, make_subject(session))
    before = written(session)
    with pytest.raises(
        InvalidInput, match=r"Collected at \(2026-03-19 09:00 UTC\) is in the future"
    ):
        accession_specimen(
            session,
            tech,
            study_code=visit.subject.study_code,
            visit_number=1,
            specimen_type=SpecimenType.WHOLE_BLOOD,
            tube_type=TubeType.SST,
            pre=PreAnalytics(collected_at=datetime(2026, 3, 19, 9, 0, tzinfo=UTC)),
            now=NOW,
        )
    assert written(session) == before


@pytest.mark.parametrize("name", ["received_at", "processing_started_at", "processed_at"])
def test_receipt_or_processing_in_the_future_is_refused_naming_the_field(
    session: Session, tech: Actor, name: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _accession(session, tech, **{name: NOW + timedelta(hours=1)})
    assert name in refused.value.field_errors
    assert "in the future" in refused.value.field_errors[name]


def test_a_few_minutes_of_clock_skew_are_allowed_and_the_skew_is_configurable(
    session: Session, tech: Actor
) -> None:
    assert _accession(session, tech, received_at=NOW + timedelta(minutes=4)).id
    with pytest.raises(InvalidInput, match="in the future"):
        _accession(
            session,
            tech,
            received_at=NOW + timedelta(minutes=4),
            limits=Limits(clock_skew=timedelta(minutes=1)),
        )


def test_the_api_refuses_a_future_collection_with_a_422_and_writes_nothing(
    client: FlaskClient, app: Flask, session: Session, tech: Actor
) -> None:
    _clock(app)
    visit = make_visit(session, make_subject(session))
    headers = bearer(client, "tech")
    before = written(session)
    body = {"study_code": visit.subject.study_code, "visit_number": 1, "tube_type": "SST"}
    response = client.post(
        "/api/v1/specimens", json={**body, "collected_at": FUTURE}, headers=headers
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "collected_at"
    assert written(session)[:3] == before[:3]


def test_the_accession_form_refuses_a_future_collection_and_says_why(
    client: FlaskClient, app: Flask, session: Session, tech: Actor
) -> None:
    _clock(app)
    visit = make_visit(session, make_subject(session))
    sign_in(client, "tech")
    page = f"/subjects/{visit.subject.study_code}/visits/1/accession"
    before = written(session)
    response = client.post(
        page,
        data={"tube_type": "SST", "collected_at": FUTURE, "csrf_token": csrf_token(client, page)},
    )
    assert response.status_code == 422
    assert "is in the future" in response.get_data(as_text=True)
    assert written(session) == before


# ---- a collection far from its visit ---------------------------------------------------------


def test_a_collection_two_days_from_its_visit_is_refused_one_day_is_allowed(
    session: Session, tech: Actor
) -> None:
    assert _accession(session, tech, collected_at=datetime(2026, 3, 17, 20, 0, tzinfo=UTC)).id
    before = written(session)
    with pytest.raises(InvalidInput, match=r"2 days from the visit's date \(2026-03-18\)"):
        _accession(session, tech, collected_at=datetime(2026, 3, 16, 9, 0, tzinfo=UTC))
    assert written(session)[2:] == (before[2], before[3] + 2)  # only the new subject and visit


def test_a_visit_dated_years_from_the_collection_is_refused(session: Session, tech: Actor) -> None:
    with pytest.raises(InvalidInput, match="730 days from the visit's date"):
        _accession(session, tech, collected_at=datetime(2024, 3, 18, 9, 0, tzinfo=UTC))


def test_the_visit_tolerance_is_configurable(session: Session, tech: Actor) -> None:
    three_days = datetime(2026, 3, 15, 9, 0, tzinfo=UTC)
    assert _accession(session, tech, collected_at=three_days, limits=Limits(visit_tolerance_days=3))


# ---- study code and site -----------------------------------------------------------------------


def _register(session: Session, tech: Actor, code: str, site: str) -> Subject:
    return register_subject(
        session,
        tech,
        study_code=code,
        site_code=site,
        sex=Sex.FEMALE,
        primary_diagnosis=Dystonia.CERVICAL,
    )


def test_a_study_code_of_another_site_is_refused(session: Session, tech: Actor) -> None:
    make_site(session, "EU1")
    before = written(session)
    with pytest.raises(InvalidInput, match="does not begin with its site's code EU1-") as refused:
        _register(session, tech, "NA1-0001", "EU1")
    assert refused.value.field_errors.keys() == {"study_code"}
    assert written(session) == before
    assert _register(session, tech, "EU1-0001", "EU1").site.code == "EU1"


def test_the_api_and_the_form_refuse_a_study_code_of_another_site(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    make_site(session, "EU1")
    body = {
        "study_code": "NA1-0002",
        "site_code": "EU1",
        "sex": "male",
        "primary_diagnosis": "limb",
    }
    before = written(session)
    response = client.post("/api/v1/subjects", json=body, headers=bearer(client, "tech"))
    assert response.status_code == 422 and "EU1-" in response.get_json()["detail"]
    sign_in(client, "tech")
    form = {**body, "csrf_token": csrf_token(client, "/subjects/new")}
    page = client.post("/subjects", data=form)
    assert page.status_code == 422 and "does not begin with its site" in page.get_data(as_text=True)
    assert written(session)[0] == before[0]


# ---- aliquots adding up to more than the tube ----------------------------------------------------


def test_a_hundred_5000_ul_aliquots_from_a_6_ml_tube_are_refused(
    session: Session, tech: Actor
) -> None:
    tube = make_specimen(session)  # 6 mL
    before = written(session)
    with pytest.raises(Conflict, match="only 6000 µL remain, and 100 × 5000 µL needs 500000 µL"):
        aliquot_specimen(
            session,
            tech,
            specimen_barcode=tube.barcode,
            specimen_type=SpecimenType.SERUM,
            count=100,
            volume_ul=5000,
        )
    assert written(session) == before


def test_splits_of_one_tube_add_up_against_what_it_holds(session: Session, tech: Actor) -> None:
    tube = make_specimen(session)
    split = {"specimen_barcode": tube.barcode, "specimen_type": SpecimenType.SERUM}
    aliquot_specimen(session, tech, **split, count=4, volume_ul=1000)
    aliquot_specimen(session, tech, **split, count=1, volume_ul=2000)
    with pytest.raises(Conflict, match="6000 µL is already aliquoted: only 0 µL remain"):
        aliquot_specimen(session, tech, **split, count=1, volume_ul=1)


def test_the_api_and_the_form_refuse_an_overdrawn_split(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tube = make_specimen(session)
    before = written(session)
    response = client.post(
        f"/api/v1/specimens/{tube.barcode}/aliquots",
        json={"specimen_type": "serum", "count": 100, "volume_ul": 5000},
        headers=bearer(client, "tech"),
    )
    assert response.status_code == 409 and "only 6000 µL remain" in response.get_json()["detail"]
    sign_in(client, "tech")
    page = f"/specimens/{tube.barcode}"
    form = {"count": 100, "volume_ul": 5000, "csrf_token": csrf_token(client, page)}
    answer = client.post(f"/specimens/{tube.barcode}/aliquots", data=form, follow_redirects=True)
    assert "only 6000 µL remain" in answer.get_data(as_text=True)
    assert written(session)[2] == before[2]


def test_using_an_aliquot_does_not_give_its_volume_back_to_the_tube(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tube = make_specimen(session)  # 6 mL
    split = {"specimen_barcode": tube.barcode, "specimen_type": SpecimenType.SERUM}
    (first,) = aliquot_specimen(session, tech, **split, count=1, volume_ul=6000)
    use_aliquot(session, tech, barcode=first.barcode, volume_ul=4000)
    assert (first.volume_ul, first.drawn_ul) == (2000, 6000)
    before = written(session)
    with pytest.raises(Conflict, match="6000 µL is already aliquoted: only 0 µL remain"):
        aliquot_specimen(session, tech, **split, count=1, volume_ul=1000)
    response = client.post(
        f"/api/v1/specimens/{tube.barcode}/aliquots",
        json={"specimen_type": "serum", "count": 1, "volume_ul": 1000},
        headers=bearer(client, "tech"),
    )
    assert response.status_code == 409 and "only 0 µL remain" in response.get_json()["detail"]
    assert written(session)[2] == before[2]


def test_a_dna_stock_gives_sub_aliquots_only_what_remains_after_use(
    session: Session, tech: Actor
) -> None:
    tube = make_specimen(session, tube_type=TubeType.PED)
    stock = extract_dna(
        session, tech, specimen_barcode=tube.barcode, volume_ul=200, concentration_ng_ul=50
    )
    use_aliquot(session, tech, barcode=stock.barcode, volume_ul=150)
    before = written(session)
    with pytest.raises(Conflict, match=f"Stock {stock.barcode} holds 50 µL; 2 × 30 µL needs 60"):
        sub_aliquot(session, tech, parent_barcode=stock.barcode, count=2, volume_ul=30)
    assert written(session) == before
    (child,) = sub_aliquot(session, tech, parent_barcode=stock.barcode, count=1, volume_ul=50)
    assert (stock.volume_ul, stock.drawn_ul, child.drawn_ul) == (0, 200, 50)
    with pytest.raises(Conflict, match="only 50 µL remain; 51 µL cannot be used"):
        use_aliquot(session, tech, barcode=child.barcode, volume_ul=51)


def test_the_import_counts_what_a_known_tube_gave_even_after_use(
    session: Session, tech: Actor
) -> None:
    make_subject(session, study_code="SUBJ-0001")
    first = import_row(aliquot_barcode="AQ-001", volume_ul=5000)
    import_aliquots(session, tech, data=csv_bytes([first]), now=NOW)
    used = session.scalars(select(Aliquot).where(Aliquot.barcode == "AQ-001")).one()
    use_aliquot(session, tech, barcode=used.barcode, volume_ul=4500)
    with pytest.raises(InvalidInput) as refused:
        import_aliquots(
            session,
            tech,
            data=csv_bytes([import_row(aliquot_barcode="AQ-002", volume_ul=2000)]),
            now=NOW,
        )
    assert "5000 µL is already aliquoted: only 1000 µL remain" in str(refused.value.errors)


# ---- the CSV import ------------------------------------------------------------------------------


def _import(session: Session, tech: Actor, rows: list[dict[str, str]]) -> InvalidInput:
    make_subject(session, study_code="SUBJ-0001")
    before = written(session)
    with pytest.raises(InvalidInput) as refused:
        import_aliquots(session, tech, data=csv_bytes(rows), now=NOW)
    assert written(session) == before
    return refused.value


def test_the_import_refuses_a_future_collection(session: Session, tech: Actor) -> None:
    future = {
        "visit_on": "2026-03-19",
        "collected_at": "2026-03-19 09:00",
        "received_at": "",
        "processing_started_at": "",
        "processed_at": "",
    }
    refused = _import(session, tech, [import_row(**future)])
    assert [(e["row"], e["field"]) for e in refused.errors] == [(2, "collected_at")]
    assert "in the future" in refused.errors[0]["message"]


def test_the_import_refuses_a_collection_far_from_its_visit(session: Session, tech: Actor) -> None:
    refused = _import(session, tech, [import_row(visit_on="2025-03-18")])
    assert "365 days from the visit's date" in refused.errors[0]["message"]


def test_the_import_sums_aliquot_volumes_per_tube_across_rows(
    session: Session, tech: Actor
) -> None:
    rows = [import_row(aliquot_barcode=f"AQ-{n:03d}", volume_ul=2500) for n in range(3)]
    refused = _import(session, tech, rows)  # 3 x 2,500 µL from a 6 mL tube
    assert [e["field"] for e in refused.errors] == ["volume_ul"]
    assert "only 6000 µL remain, and 1 × 7500 µL needs 7500 µL (rows 2, 3, 4)" in str(
        refused.errors[0]["message"]
    )


def test_the_import_counts_what_a_known_tube_already_gave(session: Session, tech: Actor) -> None:
    make_subject(session, study_code="SUBJ-0001")
    first = import_row(aliquot_barcode="AQ-001", volume_ul=5000)
    import_aliquots(session, tech, data=csv_bytes([first]), now=NOW)
    before = written(session)
    with pytest.raises(InvalidInput, match="1 problem found") as refused:
        import_aliquots(
            session,
            tech,
            data=csv_bytes([import_row(aliquot_barcode="AQ-002", volume_ul=2000)]),
            now=NOW,
        )
    assert "5000 µL is already aliquoted: only 1000 µL remain" in str(refused.value.errors)
    assert written(session) == before


def test_the_import_form_and_api_list_the_refusal(
    client: FlaskClient, app: Flask, session: Session, tech: Actor
) -> None:
    _clock(app)
    make_subject(session, study_code="SUBJ-0001")
    data = csv_bytes([import_row(aliquot_barcode="AQ-001", volume_ul=9000)])
    before = written(session)
    response = client.post(
        "/api/v1/aliquot-imports",
        data=data,
        headers=bearer(client, "tech"),
        content_type="text/csv",
    )
    assert response.status_code == 422
    assert "only 6000 µL remain" in response.get_json()["errors"][0]["message"]
    sign_in(client, "tech")
    form = {
        "file": (io.BytesIO(data), "log.csv"),
        "csrf_token": csrf_token(client, "/specimens/import"),
    }
    page = client.post("/specimens/import", data=form, content_type="multipart/form-data")
    assert page.status_code == 422 and "only 6000 µL remain" in page.get_data(as_text=True)
    assert written(session)[1:3] == before[1:3]


# ---- messages ------------------------------------------------------------------------------------


def test_messages_name_the_fields_label_not_its_internal_name(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tube = make_specimen(session)
    response = client.post(
        f"/api/v1/specimens/{tube.barcode}/aliquots",
        json={"count": 1, "volume_ul": "lots"},
        headers=bearer(client, "tech"),
    )
    problem = response.get_json()
    assert problem["detail"].startswith("Volume (µL): ")
    assert problem["errors"][0]["field"] == "volume_ul"  # scripts keep the name


def test_ten_thousand_characters_of_input_are_not_echoed_back(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    headers = bearer(client, "tech")
    pasted = "X" * 10_000
    unknown = client.post("/api/v1/subjects", json={pasted: 1}, headers=headers).get_json()
    barcode = client.get(f"/api/v1/aliquots/{'Z' * 10_000}", headers=headers).get_json()
    for problem in (unknown, barcode):
        assert len(problem["detail"]) < 300 and "…" in str(problem), problem["detail"][:200]
