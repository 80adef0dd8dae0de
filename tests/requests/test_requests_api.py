"""Requests over /api/v1: the whole review by token, the PDF upload's limits, notifications,
and every endpoint tried with a second investigator's token (another's request reads as a
missing one)."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lims import create_app
from lims.actors import Actor
from lims.audit.services import events_for
from lims.requests.models import RequestState
from lims.requests.services import AttachmentKind, attach_file
from lims.requests.services.release_fields import offered_fields
from tests.conftest import bearer
from tests.requests.workflow_factories import (
    CRITERIA,
    MAX_BYTES,
    PDF,
    draft_request,
    second_investigator,
    submitted_request,
)

PROBLEM = "application/problem+json"


@pytest.fixture
def files_dir(tmp_path: Path) -> Path:
    return tmp_path / "request-files"


@pytest.fixture
def app(session: Session, files_dir: Path) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-only",
            "SESSION_FACTORY": lambda: session,
            "REQUEST_FILES_DIR": files_dir,
            "REQUEST_FILE_MAX_BYTES": MAX_BYTES,
        }
    )


def _pdf_json(data: bytes = PDF, **more: Any) -> dict[str, Any]:
    return {"content_base64": base64.b64encode(data).decode(), **more}


def test_an_investigator_drafts_attaches_and_submits_and_the_committee_approves(
    client: FlaskClient, session: Session, investigator: Actor, reviewer: Actor, admin: Actor
) -> None:
    mine, rev, adm = (bearer(client, u) for u in ("investigator", "reviewer", "admin"))
    created = client.post(
        "/api/v1/requests",
        json={
            "title": "Serum markers",
            "aims": "Track progression.",
            "criteria": CRITERIA,
            "quantity_ul": 200,
            "purpose": "DUO:0000007",
            "purpose_modifiers": ["DUO:0000046"],
        },
        headers=mine,
    )
    assert created.status_code == 201, created.get_json()
    code = created.get_json()["code"]
    assert created.get_json()["actions"] == ["edit", "attach", "submit", "withdraw"]
    attached = client.post(
        f"/api/v1/requests/{code}/attachments",
        json=_pdf_json(kind="dua", filename="dua.pdf"),
        headers=mine,
    )
    assert attached.status_code == 201, attached.get_json()
    assert client.post(f"/api/v1/requests/{code}/submit", headers=mine).status_code == 200
    assert client.post(f"/api/v1/requests/{code}/review", headers=rev).status_code == 200
    voted = client.post(
        f"/api/v1/requests/{code}/reviews", json={"vote": "approve", "comment": "Fine"}, headers=rev
    )
    assert voted.status_code == 201, voted.get_json()

    decided = client.post(
        f"/api/v1/requests/{code}/decision",
        json={"decision": "approved", "note": "Within consent"},
        headers=adm,
    )

    assert decided.status_code == 200, decided.get_json()
    assert decided.get_json()["votes"] == {"approve": 1, "revise": 0, "reject": 0}
    seen = client.get(f"/api/v1/requests/{code}", headers=mine).get_json()
    assert seen["state"] == "approved" and seen["decision_note"] == "Within consent"
    assert seen["votes"] is None and "vote" not in seen["reviews"][0]
    assert "pseudonym_secret" not in seen
    assert [h["what"] for h in seen["history"]] == [
        "created",
        "file attached",
        "submitted",
        "review started",
        "commented",
        "approved",
    ]


def test_a_pdf_uploads_as_a_multipart_form_and_downloads_unchanged(
    client: FlaskClient, session: Session, investigator: Actor, files_dir: Path
) -> None:
    req = draft_request(session, investigator)
    mine = bearer(client, "investigator")

    uploaded = client.post(
        f"/api/v1/requests/{req.code}/attachments",
        data={"file": (io.BytesIO(PDF), "Protocol v2.pdf"), "kind": "protocol"},
        headers=mine,
    )

    assert uploaded.status_code == 201, uploaded.get_json()
    body = uploaded.get_json()
    assert (body["filename"], body["size_bytes"]) == ("Protocol v2.pdf", len(PDF))
    assert [p.name for p in files_dir.iterdir()] == [req.attachments[0].stored_name]
    download = client.get(f"/api/v1/requests/{req.code}/attachments/{body['id']}", headers=mine)
    assert (download.status_code, download.mimetype, download.data) == (
        200,
        "application/pdf",
        PDF,
    )


def test_an_uploaded_name_keeps_neither_folders_nor_control_characters(
    session: Session, investigator: Actor, files_dir: Path
) -> None:
    req = draft_request(session, investigator)

    attachment = attach_file(
        session,
        investigator,
        request=req.code,
        kind=AttachmentKind.DUA,
        filename="C:\\Users\\lee\\proto\x00col.pdf",  # as a Windows browser may send it
        data=PDF,
        files_dir=files_dir,
        max_bytes=MAX_BYTES,
    )

    assert attachment.filename == "protocol.pdf"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04 a zip, not a pdf", "is not a PDF"),
        (b"%PDF-1.7\n" + b"0" * MAX_BYTES, "larger than the limit of 65,536 bytes"),
        (b"", "is empty"),
    ],
    ids=["not a pdf", "too large", "empty"],
)
def test_an_upload_that_is_not_a_pdf_or_too_large_is_refused_and_nothing_is_kept(
    client: FlaskClient,
    session: Session,
    investigator: Actor,
    files_dir: Path,
    data: bytes,
    message: str,
) -> None:
    req = draft_request(session, investigator)

    response = client.post(
        f"/api/v1/requests/{req.code}/attachments",
        data={"file": (io.BytesIO(data), "x.pdf")},
        headers=bearer(client, "investigator"),
    )

    assert (response.status_code, response.mimetype) == (422, PROBLEM)
    assert message in response.get_json()["detail"]
    assert req.attachments == []
    assert not files_dir.exists() or list(files_dir.iterdir()) == []


def test_notifications_are_listed_newest_first_and_marked_read(
    client: FlaskClient, session: Session, investigator: Actor, reviewer: Actor, files_dir: Path
) -> None:
    first = submitted_request(session, investigator, files_dir)
    second = submitted_request(session, investigator, files_dir)
    rev = bearer(client, "reviewer")
    listed = client.get("/api/v1/notifications", headers=rev).get_json()
    assert listed["unread"] == 2
    assert [n["request"] for n in listed["items"]] == [second.code, first.code]

    one = client.post(
        "/api/v1/notifications/read", json={"ids": [listed["items"][0]["id"]]}, headers=rev
    )
    assert one.get_json() == {"marked": 1, "unread": 1}
    # Another's notifications cannot be marked: the ids are not theirs.
    theirs = client.post(
        "/api/v1/notifications/read",
        json={"ids": [listed["items"][1]["id"]]},
        headers=bearer(client, "investigator"),
    )
    assert theirs.get_json() == {"marked": 0, "unread": 0}
    everything = client.post("/api/v1/notifications/read", json={}, headers=rev)
    assert everything.get_json() == {"marked": 1, "unread": 0}


# Every request endpoint, with a body that would succeed for the request's own investigator
# (or for staff). {code} is filled with another investigator's request, then with a missing one.
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/v1/requests/{code}", None),
    ("PATCH", "/api/v1/requests/{code}", {"title": "Taken over"}),
    ("POST", "/api/v1/requests/{code}/submit", None),
    ("POST", "/api/v1/requests/{code}/review", {}),
    ("POST", "/api/v1/requests/{code}/reviews", {"comment": "Mine?"}),
    ("POST", "/api/v1/requests/{code}/decision", {"decision": "approved", "note": "ok"}),
    ("POST", "/api/v1/requests/{code}/withdraw", {"note": "not yours"}),
    ("POST", "/api/v1/requests/{code}/close", {}),
    ("POST", "/api/v1/requests/{code}/attachments", _pdf_json()),
    ("GET", "/api/v1/requests/{code}/attachments/{attachment}", None),
    ("GET", "/api/v1/requests/{code}/phenotype-fields", None),
]


def test_the_endpoint_table_names_every_request_endpoint(app: Flask) -> None:
    rules = {
        (
            method,
            rule.rule.replace("<code>", "{code}").replace("<int:attachment_id>", "{attachment}"),
        )
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("requests_requests_api.") and "<code>" in rule.rule
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    }

    assert rules == {(method, path) for method, path, _ in ENDPOINTS}


def test_a_second_investigator_s_token_meets_every_endpoint_as_if_the_request_did_not_exist(
    client: FlaskClient, session: Session, investigator: Actor, files_dir: Path
) -> None:
    theirs = submitted_request(session, investigator, files_dir)
    attachment = theirs.attachments[0].id
    second_investigator(session)
    token = bearer(client, "investigator2")
    events_before = len(events_for(session, theirs))

    answers = {}
    for method, path, body in ENDPOINTS:
        for code in (theirs.code, "REQ-9999"):
            url = path.format(code=code, attachment=attachment)
            response = client.open(url, method=method, json=body, headers=token)
            answers[(method, path, code)] = (
                response.status_code,
                response.mimetype,
                response.get_json()["detail"].replace(code, "{code}"),
            )

    for method, path, _ in ENDPOINTS:
        assert answers[(method, path, theirs.code)] == answers[(method, path, "REQ-9999")]
        assert answers[(method, path, theirs.code)][:2] in {(404, PROBLEM), (403, PROBLEM)}
    listed = client.get("/api/v1/requests", headers=token).get_json()
    assert listed["items"] == [] and listed["total"] == 0
    assert (theirs.state, theirs.title) == (RequestState.SUBMITTED, theirs.title)
    assert len(theirs.attachments) == 1
    assert len(events_for(session, theirs)) == events_before


def test_a_technician_may_read_requests_but_not_decide_them(
    client: FlaskClient, session: Session, investigator: Actor, tech: Actor, files_dir: Path
) -> None:
    req = submitted_request(session, investigator, files_dir)
    token = bearer(client, "tech")

    assert client.get(f"/api/v1/requests/{req.code}", headers=token).status_code == 200
    refused = client.post(
        f"/api/v1/requests/{req.code}/decision",
        json={"decision": "approved", "note": "no"},
        headers=token,
    )
    assert (refused.status_code, refused.mimetype) == (403, PROBLEM)


def test_a_phenotype_field_the_data_set_does_not_offer_is_refused_at_draft_and_edit(
    client: FlaskClient, session: Session, investigator: Actor
) -> None:
    mine = bearer(client, "investigator")
    body = {"criteria": CRITERIA, "quantity_ul": 200, "purpose": "DUO:0000007"}
    asked = ["twstrs_total", "weeks_since_toxin", "rater_name"]

    created = client.post("/api/v1/requests", json=body | {"phenotype_fields": asked}, headers=mine)
    draft = draft_request(session, investigator)
    edited = client.patch(
        f"/api/v1/requests/{draft.code}",
        json={"phenotype_fields": ["gen_result_tor1a", "voice_comment"]},
        headers=mine,
    )

    assert (created.status_code, created.mimetype) == (422, PROBLEM)
    [error] = created.get_json()["errors"]
    assert error["field"] == "phenotype_fields" and "rater_name" in error["message"]
    assert "twstrs_total" not in error["message"]
    assert edited.status_code == 422
    assert "voice_comment: free text is never released" in edited.get_json()["detail"]
    session.refresh(draft)
    assert draft.phenotype_fields == "twstrs_severity body_regions"


def test_a_request_lists_the_fields_its_data_set_offers_and_marks_those_it_asks_for(
    client: FlaskClient, session: Session, investigator: Actor
) -> None:
    draft = draft_request(
        session, investigator, phenotype_fields=["twstrs_total", "weeks_since_toxin"]
    )

    response = client.get(
        f"/api/v1/requests/{draft.code}/phenotype-fields", headers=bearer(client, "investigator")
    )

    assert (response.status_code, response.mimetype) == (200, "application/json")
    body = response.get_json()
    by_name = {f["name"]: f for f in body["fields"]}
    assert body["code"] == draft.code
    assert set(by_name) == set(offered_fields())  # every offered field, in the form's groups
    assert sorted(n for n, f in by_name.items() if f["requested"]) == [
        "twstrs_total", "weeks_since_toxin",
    ]  # fmt: skip
    assert by_name["weeks_since_toxin"]["unit"] == "weeks"
    assert by_name["gen_result_tor1a"]["codes"]["1"].lower().startswith("pathogenic")
    assert not any(f["kind"] == "text" for f in body["fields"])
