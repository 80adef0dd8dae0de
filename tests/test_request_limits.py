"""Bounded requests: a size limit answered with 413 naming it, a row limit per import answered
with 422 naming it, and a 405 that says which methods the URL allows."""

from __future__ import annotations

import hashlib
import io

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

import config
from lims import create_app
from lims.actors import Actor
from lims.errors import InvalidInput
from lims.specimens.services import import_aliquots
from lims.storage.services import read_placement_csv
from tests.conftest import bearer, csrf_token, sign_in
from tests.factories import make_subject
from tests.specimens.factories import csv_bytes, import_row

PROBLEM = "application/problem+json"


@pytest.fixture
def small_app(session: Session) -> Flask:
    """The app with limits small enough to reach in a test: 1 KiB per request, 3 rows."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-only",
            "SESSION_FACTORY": lambda: session,
            "MAX_CONTENT_LENGTH": 1024,
            "MAX_IMPORT_ROWS": 3,
        }
    )


def _rows(n: int) -> bytes:
    return csv_bytes([import_row(aliquot_barcode=f"AQ-{i:04d}") for i in range(n)])


def test_the_default_size_limit_fits_a_hundred_thousand_import_rows() -> None:
    settings = config.load()
    row = len(csv_bytes([import_row(aliquot_barcode="NA1-A-0000001")]).splitlines()[1]) + 2
    assert settings["MAX_IMPORT_ROWS"] == 100_000
    assert 100_000 * row < settings["MAX_CONTENT_LENGTH"] <= 20 * 2**20


def test_a_request_over_the_size_limit_is_a_413_problem_naming_the_limit(
    small_app: Flask, tech: Actor
) -> None:
    client = small_app.test_client()
    response = client.post(
        "/api/v1/aliquot-imports",
        data=b"x" * 2048,
        content_type="text/csv",
        headers=bearer(client, "tech"),
    )
    assert response.status_code == 413 and response.mimetype == PROBLEM
    assert "0 MiB (1,024 bytes)" in response.get_json()["detail"]


def test_an_upload_over_the_size_limit_gets_a_page_naming_the_limit(
    small_app: Flask, tech: Actor
) -> None:
    client = small_app.test_client()
    sign_in(client, "tech")
    response = client.post(
        "/specimens/import",
        data={"file": (io.BytesIO(b"x" * 2048), "log.csv"), "csrf_token": csrf_token(client)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert "1,024 bytes" in response.get_data(as_text=True)


def test_an_aliquot_import_over_the_row_limit_is_a_422_naming_the_limit(
    small_app: Flask, session: Session, tech: Actor
) -> None:
    make_subject(session, study_code="SUBJ-0001")
    client = small_app.test_client()
    headers = bearer(client, "tech")
    response = client.post(
        "/api/v1/aliquot-imports", data=_rows(4), content_type="text/csv", headers=headers
    )
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert "more than 3 rows" in response.get_json()["detail"]
    assert response.get_json()["errors"] == [
        {"row": 5, "field": "file", "message": "more than 3 rows"}
    ]
    fits = client.post(
        "/api/v1/aliquot-imports", data=_rows(3), content_type="text/csv", headers=headers
    )
    assert fits.status_code == 201, fits.get_data(as_text=True)


def test_a_placement_import_over_the_row_limit_is_a_422_naming_the_limit(
    small_app: Flask, tech: Actor
) -> None:
    client = small_app.test_client()
    sheet = "barcode,box_barcode,position\n" + "A-1,B-1,A1\n" * 4
    response = client.post(
        "/api/v1/placements/import",
        data=sheet,
        content_type="text/csv",
        headers=bearer(client, "tech"),
    )
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert response.get_json()["detail"].startswith("At most 3 rows per file")


def test_the_streamed_import_hashes_the_whole_file(session: Session, tech: Actor) -> None:
    make_subject(session, study_code="SUBJ-0001")
    data = b"\xef\xbb\xbf" + _rows(2) + b"\n\n"  # a BOM and blank lines at the end
    result = import_aliquots(session, tech, data=io.BytesIO(data), filename="log.csv")
    assert result.aliquots == 2
    assert result.sha256 == hashlib.sha256(data).hexdigest()


def test_a_file_that_is_not_utf8_names_where_it_stops_being_text(
    session: Session, tech: Actor
) -> None:
    with pytest.raises(InvalidInput, match="not UTF-8 text"):
        import_aliquots(session, tech, data=_rows(1) + b"\xff\xfe bad\n")


def test_a_nul_in_an_import_cell_is_a_row_error_not_a_database_error(
    session: Session, tech: Actor
) -> None:
    make_subject(session, study_code="SUBJ-0001")
    with pytest.raises(InvalidInput) as refused:
        import_aliquots(session, tech, data=csv_bytes([import_row(tube_barcode="T-\x001")]))
    assert refused.value.errors[0]["field"] == "tube_barcode"
    with pytest.raises(InvalidInput, match="NUL"):
        read_placement_csv("barcode,box_barcode,position\nA-1,B\x00,A1\n")


def test_a_wrong_method_answers_405_with_allow(client: FlaskClient, tech: Actor) -> None:
    response = client.delete("/api/v1/freezers", headers=bearer(client, "tech"))
    assert response.status_code == 405 and response.mimetype == PROBLEM
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    page = client.delete("/storage/freezers")
    assert page.status_code == 405 and "POST" in page.headers["Allow"]
