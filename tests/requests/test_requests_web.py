"""The request pages: an investigator drafts, attaches and submits through the forms; staff
filter the list by state; the page offers only the actions the reader may take; the header
counts unread notifications; and a second investigator meets another's request, on every page
route, exactly as a missing one."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lims import create_app
from lims.actors import Actor
from lims.requests.models import RequestState
from tests.conftest import csrf_token, sign_in
from tests.requests.workflow_factories import (
    MAX_BYTES,
    PDF,
    attach_protocol,
    draft_request,
    second_investigator,
    submitted_request,
    under_review_request,
)


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


def test_an_investigator_drafts_attaches_and_submits_through_the_pages(
    client: FlaskClient, session: Session, investigator: Actor, reviewer: Actor
) -> None:
    sign_in(client, "investigator")
    token = csrf_token(client, "/requests/new")
    created = client.post(
        "/requests/",
        data={
            "csrf_token": token,
            "title": "Serum markers",
            "aims": "Track progression.",
            "specimen_types": "serum",
            "age.max": "60",
            "quantity_ul": "250",
            "aliquots_per_visit": "1",
            "phenotype_fields": ["twstrs_severity", "weeks_since_toxin"],
            "purpose.term": "DS",
            "purpose.modifiers": ["NCU", "NPUNCU"],
        },
    )
    assert created.status_code == 303, created.get_data(as_text=True)
    page_url = created.headers["Location"]
    code = page_url.rsplit("/", 1)[-1]
    page = client.get(page_url).get_data(as_text=True)
    assert "attach the protocol or data use agreement (PDF)" in page
    attached = client.post(
        f"/requests/{code}/attachments",
        data={"csrf_token": token, "kind": "protocol", "file": (io.BytesIO(PDF), "p.pdf")},
    )
    assert attached.status_code == 303

    submitted = client.post(f"/requests/{code}/submit", data={"csrf_token": token})

    assert submitted.status_code == 303
    page = client.get(page_url).get_data(as_text=True)
    assert "submitted" in page and "Submit for review" not in page
    assert (
        "Specimen type: serum" in page
        and "Age at collection: at most 60 years" in page
        and "p.pdf" in page
    )
    assert "NCU · non-commercial use only" in page


def test_criteria_the_engine_refuses_are_shown_again_beside_their_input(
    client: FlaskClient, investigator: Actor
) -> None:
    sign_in(client, "investigator")
    token = csrf_token(client, "/requests/new")

    response = client.post(
        "/requests/",
        data={"csrf_token": token, "title": "Typed title", "age.min": "old", "quantity_ul": "5",
              "purpose.term": "GRU"},
    )  # fmt: skip

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="e-age.min"' in page and 'value="Typed title"' in page


def test_the_form_offers_phenotype_fields_as_boxes_by_scale_and_refuses_an_unknown_one(
    client: FlaskClient, session: Session, investigator: Actor
) -> None:
    draft = draft_request(session, investigator, phenotype_fields=["vhi_f1", "gen_result_gnal"])
    sign_in(client, "investigator")
    token = csrf_token(client, "/requests/new")

    form = client.get(f"/requests/{draft.code}/edit").get_data(as_text=True)
    refused = client.post(
        "/requests/",
        data={"csrf_token": token, "quantity_ul": "5", "specimen_types": "serum",
              "purpose.term": "DS", "phenotype_fields": ["twstrs_total", "no_such_field"]},
    )  # fmt: skip

    assert form.count('name="phenotype_fields"') > 150
    assert 'value="vhi_f1" checked' in form and 'value="gen_result_gnal" checked' in form
    assert 'value="twstrs_total" >' in form  # not asked: not ticked
    assert "<details open>" in form and "(1 ticked)" in form  # the VHI items, opened
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "no_such_field" in page, page
    assert 'id="e-phenotype_fields"' in page
    assert 'value="twstrs_total" checked' in page


def test_the_edit_form_shows_the_stored_criteria_in_their_inputs(
    client: FlaskClient, session: Session, investigator: Actor
) -> None:
    req = draft_request(session, investigator, criteria={"age": {"min": 40}})
    sign_in(client, "investigator")

    page = client.get(f"/requests/{req.code}/edit").get_data(as_text=True)

    assert 'name="age.min" id="f-age.min" value="40"' in page
    assert 'value="DS" selected' in page and 'value="NCU" checked' in page


def test_staff_see_every_request_and_filter_by_state_and_investigators_only_theirs(
    client: FlaskClient, session: Session, investigator: Actor, reviewer: Actor, files_dir: Path
) -> None:
    draft = draft_request(session, investigator, title="Still a draft")
    sent = submitted_request(session, investigator, files_dir, title="Sent for review")
    other = second_investigator(session)
    theirs = draft_request(session, other, title="Someone else's")

    sign_in(client, "reviewer")
    filtered = client.get("/requests/?state=submitted").get_data(as_text=True)
    everything = client.get("/requests/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/requests/")})
    sign_in(client, "investigator2")
    own = client.get("/requests/").get_data(as_text=True)

    assert sent.code in filtered and draft.code not in filtered
    assert all(r.code in everything for r in (draft, sent, theirs))
    assert theirs.code in own and draft.code not in own and sent.code not in own


def test_the_request_page_offers_each_reader_only_their_actions(
    client: FlaskClient,
    session: Session,
    investigator: Actor,
    reviewer: Actor,
    admin: Actor,
    files_dir: Path,
) -> None:
    req = under_review_request(session, investigator, reviewer, files_dir)
    pages = {}
    for username in ("investigator", "reviewer", "admin"):
        sign_in(client, username)
        pages[username] = client.get(f"/requests/{req.code}").get_data(as_text=True)
        client.post("/logout", data={"csrf_token": csrf_token(client, "/requests/")})

    assert "Record decision" in pages["admin"] and "Record decision" not in pages["reviewer"]
    assert 'name="vote"' in pages["reviewer"] and 'name="vote"' not in pages["investigator"]
    assert "Withdraw the request" in pages["investigator"]
    assert "<h2>Votes</h2>" not in pages["investigator"]


def test_the_header_counts_unread_notifications_until_they_are_marked_read(
    client: FlaskClient, session: Session, investigator: Actor, reviewer: Actor, files_dir: Path
) -> None:
    req = submitted_request(session, investigator, files_dir)
    sign_in(client, "reviewer")
    assert 'aria-label="1 unread"' in client.get("/requests/").get_data(as_text=True)
    listed = client.get("/notifications").get_data(as_text=True)
    assert f"{req.code} submitted" in listed

    client.post("/notifications/read", data={"csrf_token": csrf_token(client, "/notifications")})

    assert "unread" not in client.get("/requests/").get_data(as_text=True).split("<main>")[0]


# Every page route of a request, with the form it takes (one its own investigator or staff could
# send successfully); a POST carries the CSRF token.
PAGE_ROUTES: dict[tuple[str, str], dict[str, object] | None] = {
    ("GET", "/requests/{code}"): None,
    ("GET", "/requests/{code}/edit"): None,
    ("POST", "/requests/{code}/edit"): {
        "title": "Mine now",
        "quantity_ul": "1",
        "purpose.term": "GRU",
    },
    ("POST", "/requests/{code}/attachments"): {"kind": "protocol", "file": PDF},
    ("GET", "/requests/{code}/attachments/{attachment}"): None,
    ("POST", "/requests/{code}/submit"): {},
    ("POST", "/requests/{code}/review"): {},
    ("POST", "/requests/{code}/reviews"): {"comment": "hello"},
    ("POST", "/requests/{code}/decision"): {"decision": "approved", "note": "x"},
    ("POST", "/requests/{code}/withdraw"): {"note": "x"},
    ("POST", "/requests/{code}/close"): {},
    # release (lims/requests/views/release.py)
    ("GET", "/requests/{code}/release"): None,
    ("POST", "/requests/{code}/delivery"): {},
    ("GET", "/requests/{code}/data-set.csv"): None,
    ("GET", "/requests/{code}/data-dictionary.csv"): None,
    ("GET", "/requests/{code}/data-dictionary.json"): None,
}


def test_the_page_table_names_every_request_page(app: Flask) -> None:
    rules = {
        (
            method,
            rule.rule.replace("<code>", "{code}").replace("<int:attachment_id>", "{attachment}"),
        )
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("requests.") and rule.rule.startswith("/requests/<code>")
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    }

    assert rules == set(PAGE_ROUTES)


def test_a_second_investigator_meets_another_s_request_on_every_page_as_a_missing_one(
    client: FlaskClient, session: Session, investigator: Actor, files_dir: Path
) -> None:
    theirs = draft_request(session, investigator)
    attach_protocol(session, investigator, theirs, files_dir)
    attachment = theirs.attachments[0].id
    second_investigator(session)
    sign_in(client, "investigator2")
    token = csrf_token(client, "/requests/")

    answers = {}
    for (method, path), fields in PAGE_ROUTES.items():
        for code in (theirs.code, "REQ-9999"):
            url = path.format(code=code, attachment=attachment)
            data = None
            if fields is not None:
                data = {"csrf_token": token, **fields}
                if "file" in data:
                    data["file"] = (io.BytesIO(PDF), "p.pdf")
            answers[(method, path, code)] = client.open(url, method=method, data=data).status_code

    for method, path in PAGE_ROUTES:
        assert answers[(method, path, theirs.code)] == answers[(method, path, "REQ-9999")]
        assert answers[(method, path, theirs.code)] in {403, 404}, (method, path)
    assert (theirs.state, theirs.title) == (RequestState.DRAFT, theirs.title)
    assert theirs.title != "Mine now" and len(theirs.attachments) == 1
