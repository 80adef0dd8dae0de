"""Phenotype over /api/v1 and on the subject's timeline page."""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.phenotype.services import record_visit_phenotype
from tests.conftest import bearer, sign_in
from tests.factories import make_aliquot, make_specimen, make_visit
from tests.phenotype.factories import jrs, phenotype, toxin


def _recorded_aliquot(session: Session, tech: Actor) -> str:
    visit = make_visit(session)
    aliquot = make_aliquot(session, specimen=make_specimen(session, visit))
    record_visit_phenotype(
        session, tech, study_code=visit.subject.study_code, visit_number=1,
        phenotype=phenotype(scales=(jrs(3, 2),), treatments=(toxin(date(2026, 2, 16)),)),
    )  # fmt: skip
    return aliquot.barcode


def test_an_aliquot_carries_its_visits_phenotype_summary_without_codes_or_dates(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    barcode = _recorded_aliquot(session, tech)
    answer = client.get(f"/api/v1/aliquots/{barcode}", headers=bearer(client, "tech"))

    assert answer.status_code == 200
    assert answer.get_json()["phenotype"] == {
        "diagnoses": ["blepharospasm"],
        "body_regions": ["eyes"],
        "distribution": "focal",
        "scale_totals": {"jrs": 5.0},
        "days_since_botulinum_toxin": 30,
    }


def test_staff_get_a_subjects_longitudinal_phenotype(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    visit = make_visit(session)
    record_visit_phenotype(
        session, tech, study_code=visit.subject.study_code, visit_number=1,
        phenotype=phenotype(scales=(jrs(3, 2),)),
    )  # fmt: skip
    answer = client.get(
        f"/api/v1/subjects/{visit.subject.study_code}/phenotype", headers=bearer(client, "tech")
    )

    assert answer.status_code == 200
    body = answer.get_json()
    assert body["visits"][0]["scales"][0]["total_score"] == 5.0
    assert body["visits"][0]["diagnoses"][0]["dystonia"] == "blepharospasm"


def test_an_investigator_is_refused_a_subjects_phenotype(
    client: FlaskClient, session: Session, investigator: Actor
) -> None:
    code = make_visit(session).subject.study_code
    answer = client.get(
        f"/api/v1/subjects/{code}/phenotype", headers=bearer(client, "investigator")
    )

    assert answer.status_code == 403
    assert answer.content_type == "application/problem+json"
    assert code not in answer.get_data(as_text=True)


def test_the_redcap_dictionary_is_a_csv_with_redcaps_columns(
    client: FlaskClient, tech: Actor
) -> None:
    answer = client.get("/api/v1/phenotype/redcap-dictionary.csv", headers=bearer(client, "tech"))

    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert answer.get_data(as_text=True).startswith('"Variable / Field Name"')


def test_the_timeline_page_draws_a_chart_per_scale(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    visit = make_visit(session)
    record_visit_phenotype(
        session, tech, study_code=visit.subject.study_code, visit_number=1,
        phenotype=phenotype(scales=(jrs(3, 2),)),
    )  # fmt: skip
    sign_in(client, "tech")
    page = client.get(f"/subjects/{visit.subject.study_code}/timeline")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-scale="jrs"' in html and "<svg" in html
