"""Consent on the subject page and over the API."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.auth.services import set_site_time_zone
from lims.specimens.consent_models import WithdrawalLevel
from lims.specimens.services import consent_events, withdraw_consent
from tests.conftest import bearer, csrf_token, sign_in
from tests.factories import SYSTEM, make_subject
from tests.specimens.factories import give_consent, make_consent_form

PROBLEM = "application/problem+json"


def _radios(form: Any, **answers: str) -> dict[str, str]:
    return {f"answer_{s.code}": answers.get(s.code, "yes") for s in form.statements}


def test_the_subject_page_shows_statements_by_answers_and_what_they_permit(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    subject = make_subject(session, study_code="C-0001")
    v1 = make_consent_form(session)
    give_consent(session, subject, v1, date(2023, 1, 10), future_research=False, genetic=False)
    sign_in(client, "tech")
    html = client.get("/subjects/C-0001").get_data(as_text=True)
    assert "Statements and answers" in html and "My DNA may be stored" in html
    assert "Dystonia Biobank participant consent v1.0" in html
    assert "GRU (general research use) is not covered" in html  # the permits table
    assert 'name="answer_genetic"' in html  # the form to record a (re-)consent


def test_a_technician_records_consent_with_the_form(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    subject = make_subject(session, study_code="C-0002")
    form = make_consent_form(session)
    sign_in(client, "tech")
    data = {
        "document_id": str(form.id),
        "consented_on": "2023-02-01",
        **_radios(form, commercial="no"),
        "csrf_token": csrf_token(client, "/subjects/C-0002"),
    }
    response = client.post("/subjects/C-0002/consent-events", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    (event,) = consent_events(session, subject)
    assert {a.statement.code: a.answer for a in event.answers}["commercial"] is False


def test_a_consent_form_with_an_unanswered_statement_marks_it(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    subject = make_subject(session, study_code="C-0003")
    form = make_consent_form(session)
    sign_in(client, "tech")
    data = {
        "document_id": str(form.id),
        "consented_on": "2023-02-01",
        **{k: v for k, v in _radios(form).items() if k != "answer_genetic"},
        "csrf_token": csrf_token(client, "/subjects/C-0003"),
    }
    response = client.post("/subjects/C-0003/consent-events", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "answer yes or no: My DNA" in html
    assert consent_events(session, subject) == []


def test_the_withdrawal_form_records_the_level(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    subject = make_subject(session, study_code="C-0004")
    sign_in(client, "tech")
    data = {
        "withdrawn_at": "2026-11-02T14:00",
        "reason": "phone call, documented",
        "level": "no_further_contact",
        "csrf_token": csrf_token(client, "/subjects/C-0004"),
    }
    response = client.post("/subjects/C-0004/consent-withdrawal", data=data)
    assert response.status_code == 302
    assert subject.has_consent  # only "no further use" ends bench work
    html = client.get("/subjects/C-0004").get_data(as_text=True)
    assert "no further contact" in html


def test_the_api_records_consent_and_answers_what_it_permits(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    make_subject(session, study_code="C-0005")
    form = make_consent_form(session)
    headers = bearer(client, "tech")
    answers = {s.code: s.code != "genetic" for s in form.statements}
    body = {"document_id": form.id, "consented_on": "2023-02-01", "answers": answers}
    response = client.post("/api/v1/subjects/C-0005/consent-events", json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["kind"] == "consented"
    assert response.get_json()["answers"]["genetic"] is False

    got = client.get("/api/v1/subjects/C-0005/consent?on=2023-01-31", headers=headers).get_json()
    assert got["current"] is None and not any(p["permitted"] for p in got["permits"])
    now = client.get("/api/v1/subjects/C-0005/consent", headers=headers).get_json()
    assert now["current"]["document"] == "Dystonia Biobank participant consent v1.0"
    permits = {"+".join([p["purpose"], *p["modifiers"]]): p["permitted"] for p in now["permits"]}
    assert permits == {"GRU": True, "HMB": True, "DS": True, "POA": True, "HMB+GSO": False}


def test_the_api_refuses_a_consent_with_missing_answers_as_a_problem(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    make_subject(session, study_code="C-0006")
    form = make_consent_form(session)
    headers = bearer(client, "tech")
    body = {"document_id": form.id, "consented_on": "2023-02-01", "answers": {"genetic": True}}
    response = client.post("/api/v1/subjects/C-0006/consent-events", json=body, headers=headers)
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert {"field": "answer_recontact", "message": "answer yes or no: I may be contacted "
            "again about this study."} in response.get_json()["errors"]  # fmt: skip


def test_only_an_administrator_registers_a_consent_document(
    client: FlaskClient, session: Session, admin: Actor, tech: Actor
) -> None:
    body = {
        "name": "Substudy consent",
        "version": "1",
        "effective_on": "2025-01-01",
        "irb_reference": "IRB-2025-001",
        "statements": [
            {"code": "health", "text": "Health research", "kind": "permission",
             "duo_id": "DUO:0000006"},
            {"code": "commercial", "text": "Companies", "kind": "restriction",
             "duo_id": "DUO:0000046", "restricts_on": False},
        ],
    }  # fmt: skip
    refused = client.post("/api/v1/consent-documents", json=body, headers=bearer(client, "tech"))
    assert refused.status_code == 403
    headers = bearer(client, "admin")
    made = client.post("/api/v1/consent-documents", json=body, headers=headers)
    assert made.status_code == 201, made.get_data(as_text=True)
    assert [s["duo_code"] for s in made.get_json()["statements"]] == ["HMB", "NCU"]
    listed = client.get("/api/v1/consent-documents", headers=headers).get_json()["items"]
    assert [d["name"] for d in listed] == ["Substudy consent"]


def test_a_withdrawal_is_entered_and_shown_on_the_subjects_site_clock(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    subject = make_subject(session, study_code="LA1-0001")
    set_site_time_zone(session, SYSTEM, code="LA1", time_zone="America/Los_Angeles")
    give_consent(session, subject, make_consent_form(session), date(2023, 1, 10))
    sign_in(client, "tech")
    data = {
        "withdrawn_at": "2026-11-02 19:30",  # an evening in California: 03:30 UTC next day
        "reason": "letter",
        "level": "no_further_use",
        "csrf_token": csrf_token(client, "/subjects/LA1-0001"),
    }
    assert client.post("/subjects/LA1-0001/consent-withdrawal", data=data).status_code == 302
    assert subject.consent_withdrawn_at == datetime(2026, 11, 3, 3, 30, tzinfo=UTC)
    withdrawal = consent_events(session, subject)[-1]
    assert withdrawal.occurred_on == date(2026, 11, 2)  # the day at the site, not UTC's
    html = client.get("/subjects/LA1-0001").get_data(as_text=True)
    assert "Consent withdrawn on 2026-11-02 19:30 PST" in html
    assert "withdrawn <span" in html and "by tech" in html  # the history, from the trail
    assert "03:30 UTC" not in html


def test_a_withdrawal_time_the_clocks_skipped_is_refused_with_the_offset_to_give(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    subject = make_subject(session, study_code="LA1-0002")
    set_site_time_zone(session, SYSTEM, code="LA1", time_zone="America/Los_Angeles")
    sign_in(client, "tech")
    data = {
        "withdrawn_at": "2026-03-08 02:30",  # clocks went from 02:00 PST to 03:00 PDT
        "reason": "letter",
        "csrf_token": csrf_token(client, "/subjects/LA1-0002"),
    }
    response = client.post("/subjects/LA1-0002/consent-withdrawal", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "did not exist in America/Los_Angeles" in html
    assert subject.has_consent and consent_events(session, subject) == []


def test_after_no_further_access_the_page_offers_no_new_visit_but_a_stronger_withdrawal(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    subject = make_subject(session, study_code="C-0009")
    sign_in(client, "tech")
    assert "Register a visit" in client.get("/subjects/C-0009").get_data(as_text=True)
    withdraw_consent(
        session,
        tech,
        study_code=subject.study_code,
        withdrawn_at=datetime(2026, 11, 2, 14, 0, tzinfo=UTC),
        reason="letter",
        level=WithdrawalLevel.NO_FURTHER_ACCESS,
    )
    html = client.get("/subjects/C-0009").get_data(as_text=True)
    assert "Register a visit" not in html and "Record a withdrawal of consent" in html
