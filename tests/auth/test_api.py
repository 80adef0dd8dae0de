from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.openapi import build_spec
from tests.conftest import bearer
from tests.factories import make_aliquot


def test_a_token_is_issued_for_a_valid_password(client: FlaskClient, tech: Actor) -> None:
    response = client.post("/api/v1/tokens", json={"username": "tech", "password": "biobank-demo"})
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"token", "expires_at"}
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.get_json()["role"] == "technician"


def test_a_wrong_password_is_a_401_problem(client: FlaskClient, tech: Actor) -> None:
    response = client.post("/api/v1/tokens", json={"username": "tech", "password": "wrong-one"})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"] == "/problems/not-authenticated"
    assert problem["status"] == 401 and problem["title"] and problem["detail"]


def test_a_missing_field_is_a_422_problem_naming_the_field(client: FlaskClient) -> None:
    response = client.post("/api/v1/tokens", json={"username": "tech", "extra": 1})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    errors = {e["field"]: e["message"] for e in response.get_json()["errors"]}
    assert "password" in errors and "extra" in errors


def test_calls_without_a_token_are_401(client: FlaskClient) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic x"}):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"


def test_a_role_that_may_not_gets_403(
    client: FlaskClient, session: Session, tech: Actor, investigator: Actor
) -> None:
    aliquot = make_aliquot(session)
    headers = bearer(client, "investigator")
    response = client.get(f"/api/v1/aliquots/{aliquot.barcode}", headers=headers)
    assert response.status_code == 403
    assert response.get_json()["type"] == "/problems/forbidden"
    assert client.get("/api/v1/audit-events", headers=headers).status_code == 403


def test_unknown_urls_and_methods_are_problems_too(client: FlaskClient) -> None:
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    wrong = client.put("/api/v1/tokens")
    assert wrong.status_code == 405 and wrong.mimetype == "application/problem+json"


def test_the_openapi_document_covers_every_api_endpoint(client: FlaskClient, app: Flask) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.endpoint == "openapi.openapi_json":
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, f"{method} {rule.rule} undocumented"
    token_op = doc["paths"]["/api/v1/tokens"]["post"]
    assert token_op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "TokenIn"
    )
    assert build_spec(app) == doc


def test_the_openapi_document_is_valid_openapi_3(client: FlaskClient) -> None:
    validate(client.get("/api/v1/openapi.json").get_json())  # raises on any violation


def test_the_aliquot_endpoint_reports_subject_status_and_location(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    from lims.storage.services import store_aliquot
    from tests.factories import make_box

    aliquot = make_aliquot(session)
    box = make_box(session)
    store_aliquot(session, tech, barcode=aliquot.barcode, box_id=box.id, position="B3")
    body = client.get(
        f"/api/v1/aliquots/{aliquot.barcode}", headers=bearer(client, "tech")
    ).get_json()
    assert body["subject_code"] == aliquot.subject.study_code
    assert body["status"] == "stored" and body["specimen_type"] == "serum"
    assert body["location"]["position"] == "B3" and body["location"]["box"] == box.name


def test_a_mistyped_check_digit_is_a_422(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    aliquot = make_aliquot(session)
    typo = aliquot.barcode[:-1] + str((int(aliquot.barcode[-1]) + 1) % 10)
    response = client.get(f"/api/v1/aliquots/{typo}", headers=bearer(client, "tech"))
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "barcode"


def test_an_absurd_page_number_is_a_422_naming_the_page(
    client: FlaskClient, tech: Actor, admin: Actor
) -> None:
    headers = bearer(client, "admin")  # the audit trail is the admin's; every path reaches paging
    for path in ("/api/v1/aliquots", "/api/v1/subjects", "/api/v1/audit-events"):
        response = client.get(f"{path}?page=78395785989225696985088", headers=headers)
        assert response.status_code == 422, path
        assert response.get_json()["errors"][0]["field"] == "page"


def test_a_body_that_is_not_a_json_object_is_a_422(client: FlaskClient, tech: Actor) -> None:
    for data in (b"\x8f\x00random bytes", b"[1, 2]", b"{not json"):
        response = client.post("/api/v1/tokens", data=data, content_type="application/json")
        assert response.status_code == 422
        assert response.get_json()["errors"] == [
            {"field": "body", "message": response.get_json()["detail"]}
        ]
