"""The consent form pages: administrators register a form version with its statements and their
DUO terms; staff read them. Each registration is one audit event; a refused one writes nothing."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.models import Action, AuditEvent
from lims.specimens.consent_models import ConsentDocument, StatementKind
from lims.specimens.duo import DuoTerm
from tests.conftest import csrf_token, sign_in
from tests.specimens.factories import make_consent_form


def _counts(session: Session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count(ConsentDocument.id))) or 0,
        session.scalar(select(func.count(AuditEvent.id))) or 0,
    )


def _form(client: FlaskClient, **extra: str) -> dict[str, str]:
    return {
        "name": "Dystonia Biobank participant consent",
        "version": "3.0",
        "effective_on": "2026-11-01",
        "irb_reference": "IRB-2026-114",
        "statements-0-code": "research",
        "statements-0-text": "My samples may be used for any research.",
        "statements-0-kind": "permission",
        "statements-0-duo_id": DuoTerm.GRU.value,
        # row 1 left blank: not a statement
        "statements-2-code": "commercial",
        "statements-2-text": "My samples may be used by companies.",
        "statements-2-kind": "restriction",
        "statements-2-duo_id": DuoTerm.NCU.value,
        "statements-2-restricts_on": "no",
        "csrf_token": csrf_token(client, "/consent-documents/new"),
        **extra,
    }


def test_an_administrator_registers_a_consent_form_with_its_statements(
    client: FlaskClient, session: Session, admin: Actor
) -> None:
    sign_in(client, "admin")
    response = client.post("/consent-documents", data=_form(client))
    assert response.status_code == 302, response.get_data(as_text=True)
    document = session.scalars(select(ConsentDocument)).one()
    made = [(s.position, s.code, s.kind, s.duo_id, s.restricts_on) for s in document.statements]
    assert made == [
        (1, "research", StatementKind.PERMISSION, DuoTerm.GRU, None),
        (2, "commercial", StatementKind.RESTRICTION, DuoTerm.NCU, False),
    ]
    (event,) = session.scalars(
        select(AuditEvent).where(AuditEvent.action == Action.CONSENT_DOCUMENT_CREATED)
    )
    assert event.actor_username == "admin" and event.after["version"] == "3.0"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "IRB-2026-114" in page and "non-commercial use only" in page


def test_a_refused_form_names_the_statement_row_and_field_and_writes_nothing(
    client: FlaskClient, session: Session, admin: Actor
) -> None:
    sign_in(client, "admin")
    before = _counts(session)
    bad = _form(client, **{"statements-2-code": "Commercial Use!", "version": ""})
    response = client.post("/consent-documents", data=bad)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Statement 2, code" in html and "Version" in html
    assert "statements.1.code" not in html and "My samples may be used by companies." in html
    assert _counts(session) == before


def test_a_duo_term_that_does_not_fit_the_statement_kind_is_refused_by_row(
    client: FlaskClient, session: Session, admin: Actor
) -> None:
    sign_in(client, "admin")
    before = _counts(session)
    bad = _form(client, **{"statements-0-duo_id": DuoTerm.NCU.value})
    html = client.post("/consent-documents", data=bad).get_data(as_text=True)
    message = "Statement 1, DUO term: research: a permission statement maps to GRU, HMB, DS or POA"
    assert message in html
    assert _counts(session) == before


def test_a_new_version_starts_from_the_statements_of_the_earlier_one(
    client: FlaskClient, session: Session, admin: Actor
) -> None:
    v1 = make_consent_form(session)
    sign_in(client, "admin")
    html = client.get(f"/consent-documents/new?from={v1.id}").get_data(as_text=True)
    assert 'value="Dystonia Biobank participant consent"' in html
    assert all(f'value="{s.code}"' in html for s in v1.statements)


def test_staff_read_the_forms_but_only_administrators_register_them(
    client: FlaskClient, session: Session, tech: Actor, reviewer: Actor
) -> None:
    v1 = make_consent_form(session)
    for user in ("tech", "reviewer"):
        sign_in(client, user)
        listing = client.get("/consent-documents").get_data(as_text=True)
        assert v1.irb_reference in listing and "Register a consent form" not in listing
        page = client.get(f"/consent-documents/{v1.id}").get_data(as_text=True)
        assert "DUO:0000042" in page and "MONDO:0003441" in page
        assert client.get("/consent-documents/new").status_code == 403
    before = _counts(session)
    response = client.post("/consent-documents", data=_form(client))
    assert response.status_code == 403 and _counts(session) == before


def test_investigators_do_not_see_consent_forms(
    client: FlaskClient, session: Session, investigator: Actor
) -> None:
    sign_in(client, "investigator")
    assert client.get("/consent-documents").status_code == 403
    assert client.get("/consent-documents/999").status_code == 403
