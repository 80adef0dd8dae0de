"""Feasibility over HTTP: POST /api/v1/feasibility and the page (both dialects)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lims.actors import Actor
from tests.conftest import bearer, csrf_token, sign_in
from tests.requests.criteria_factories import a_box, stored, subject, visit
from tests.specimens.factories import make_consent_form

PROBLEM = "application/problem+json"
HMB = {"purpose": {"term": "HMB"}}


@pytest.fixture
def tubes(session: Session) -> None:
    form, box = make_consent_form(session), a_box(session)
    for _ in range(3):
        stored(session, visit(session, subject(session, form)), box)


@pytest.mark.usefixtures("tubes")
def test_the_api_answers_staff_with_exact_counts_per_diagnosis(
    client: FlaskClient, tech: Actor
) -> None:
    response = client.post(
        "/api/v1/feasibility", json={"criteria": HMB}, headers=bearer(client, "tech")
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["is_exact"] is True
    assert body["criteria"] == {"purpose": {"term": "DUO:0000006"}}
    assert body["total"]["subjects"] == {"shown": "3", "value": 3, "exact": True}
    cervical = next(row for row in body["by_diagnosis"] if row["diagnosis"] == "cervical")
    assert cervical["aliquots"]["value"] == 3 and len(body["by_diagnosis"]) == 5


@pytest.mark.usefixtures("tubes")
def test_the_api_answers_an_investigator_with_protected_counts(
    client: FlaskClient, investigator: Actor
) -> None:
    headers = bearer(client, "investigator")

    body = client.post("/api/v1/feasibility", json={"criteria": HMB}, headers=headers).get_json()

    assert body["is_exact"] is False
    assert body["total"]["subjects"] == {"shown": "fewer than 5", "value": None, "exact": False}


def test_bad_criteria_are_a_problem_naming_each_path(
    client: FlaskClient, investigator: Actor
) -> None:
    criteria = {"purpose": {"term": "HMB"}, "age": {"min": 70, "max": 20}, "sexes": ["x"]}

    response = client.post(
        "/api/v1/feasibility", json={"criteria": criteria}, headers=bearer(client, "investigator")
    )

    assert response.status_code == 422 and response.mimetype == PROBLEM
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert fields == {"criteria.age.max", "criteria.sexes[0]"}


def test_over_the_rate_limit_the_api_says_429_with_retry_after(
    app: Flask, client: FlaskClient, investigator: Actor
) -> None:
    app.config["FEASIBILITY_RATE_LIMIT"] = 1
    headers = bearer(client, "investigator")
    assert (
        client.post("/api/v1/feasibility", json={"criteria": HMB}, headers=headers).status_code
        == 200
    )

    response = client.post("/api/v1/feasibility", json={"criteria": HMB}, headers=headers)

    assert response.status_code == 429 and response.mimetype == PROBLEM
    assert 3500 <= int(response.headers["Retry-After"]) <= 3601


@pytest.mark.usefixtures("tubes")
def test_a_locked_out_investigator_gets_403_until_an_admin_unlocks(
    app: Flask, client: FlaskClient, investigator: Actor, admin: Actor
) -> None:
    app.config.update(FEASIBILITY_LOCKOUT_LIMIT=1, FEASIBILITY_K=1)
    mine, url = bearer(client, "investigator"), "/api/v1/feasibility"
    rewrite = HMB | {"max_freeze_thaw": 9}  # the same 3 subjects, fresh noise

    assert client.post(url, json={"criteria": HMB}, headers=mine).status_code == 200
    refused = client.post(url, json={"criteria": rewrite}, headers=mine)
    assert refused.status_code == 403 and refused.mimetype == PROBLEM
    assert "An administrator must unlock" in refused.get_json()["detail"]
    assert client.post(url, json={"criteria": HMB}, headers=mine).status_code == 403

    theirs = bearer(client, "admin")
    (lock,) = client.get(f"{url}/lockouts", headers=theirs).get_json()["items"]
    unlock = f"{url}/lockouts/{lock['lockout_id']}/unlock"
    assert client.post(unlock, json={"note": "self-unlock"}, headers=mine).status_code == 403
    assert client.post(unlock, json={"note": "spoke to them"}, headers=theirs).status_code == 200
    assert client.post(url, json={"criteria": HMB}, headers=mine).status_code == 200


def test_the_page_counts_and_marks_a_bad_field(client: FlaskClient, investigator: Actor) -> None:
    sign_in(client, "investigator")
    token = csrf_token(client, "/requests/feasibility")

    good = client.post(
        "/requests/feasibility",
        data={"csrf_token": token, "purpose.term": "HMB", "diagnoses": "cervical"},
    )
    bad = client.post(
        "/requests/feasibility", data={"csrf_token": token, "purpose.term": "HMB", "age.min": "old"}
    )

    assert good.status_code == 200
    page = good.get_data(as_text=True)
    assert "Protected counts" in page and re.search(
        r"cervical</td><td class=\"num\">fewer than 5", page
    )
    assert bad.status_code == 422
    assert 'name="age.min" id="f-age.min" value="old" aria-invalid="true"' in bad.get_data(
        as_text=True
    )
