"""Input that used to reach the database and fail there (a 500) is refused at the edge:
NUL characters, whole numbers beyond INTEGER, non-ASCII digits in ids, names longer than
their column. Each answer names the field."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lims.actors import Actor
from tests.conftest import bearer, csrf_token, sign_in
from tests.factories import make_aliquot, make_box, make_rack, make_subject

PROBLEM = "application/problem+json"
BIG = 2**31


def _refused(response: object, field: str) -> None:
    assert response.status_code == 422, response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert response.mimetype == PROBLEM  # type: ignore[attr-defined]
    fields = [e.get("field") for e in response.get_json()["errors"]]  # type: ignore[attr-defined]
    assert field in fields, fields


def test_a_nul_in_a_json_field_is_a_422_naming_the_field(client: FlaskClient, tech: Actor) -> None:
    response = client.post(
        "/api/v1/freezers",
        json={"name": "F1\x00", "temperature_c": -80, "room": "B204"},
        headers=bearer(client, "tech"),
    )
    _refused(response, "name")
    assert "NUL" in response.get_json()["detail"]


def test_a_nul_in_a_list_item_names_its_place(client: FlaskClient, tech: Actor) -> None:
    response = client.post(
        "/api/v1/aliquots/dispose",
        json={"barcodes": ["A-1", "A\x002"], "reason": "spilt"},
        headers=bearer(client, "tech"),
    )
    _refused(response, "barcodes.1")


def test_a_nul_in_a_path_value_or_query_argument_is_a_422(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    auth = bearer(client, "tech")
    _refused(client.get("/api/v1/subjects/NA1\x00", headers=auth), "study_code")
    _refused(client.get("/api/v1/aliquots?subject=NA1%00", headers=auth), "subject")


def test_a_nul_in_a_form_field_is_refused_on_the_page(client: FlaskClient, tech: Actor) -> None:
    sign_in(client, "tech")
    token = csrf_token(client, "/storage/")
    response = client.post(
        "/storage/freezers",
        data={"name": "F\x001", "temperature_c": "-80", "room": "B204", "csrf_token": token},
    )
    assert response.status_code == 422
    assert "NUL" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/api/v1/boxes/{}", "/api/v1/freezers/{}"])
@pytest.mark.parametrize("value", [str(BIG), "²", "٣"])
def test_an_id_that_is_not_a_small_ascii_number_is_not_found(
    client: FlaskClient, tech: Actor, path: str, value: str
) -> None:
    response = client.get(path.format(value), headers=bearer(client, "tech"))
    assert response.status_code == 404 and response.mimetype == PROBLEM


@pytest.mark.parametrize("value", [str(BIG), "²", "٣"])
def test_a_page_id_beyond_integer_or_in_other_digits_is_not_found(
    client: FlaskClient, tech: Actor, value: str
) -> None:
    sign_in(client, "tech")
    assert client.get(f"/storage/boxes/{value}").status_code == 404


def test_numbers_beyond_integer_are_a_422_naming_the_field(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    auth = bearer(client, "tech")
    box = make_box(session)
    _refused(
        client.post(f"/api/v1/boxes/{box.id}/move", json={"rack_id": BIG}, headers=auth), "rack_id"
    )
    _refused(
        client.post(
            "/api/v1/boxes", json={"n_rows": 9, "n_cols": 9, "rack_id": -BIG - 1}, headers=auth
        ),
        "rack_id",
    )
    _refused(client.get(f"/api/v1/aliquots?freezer_id={BIG}", headers=auth), "freezer_id")
    aliquot = make_aliquot(session)
    use = client.post(
        f"/api/v1/aliquots/{aliquot.barcode}/use", json={"volume_ul": BIG}, headers=auth
    )
    _refused(use, "volume_ul")


def test_a_freezer_name_longer_than_its_column_is_a_422_not_a_500(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    auth = bearer(client, "tech")
    long_name = {"name": "F" * 61, "temperature_c": -80, "room": "B204"}
    _refused(client.post("/api/v1/freezers", json=long_name, headers=auth), "name")
    rack = make_rack(session)
    _refused(
        client.post(
            f"/api/v1/freezers/{rack.freezer_id}/racks", json={"name": "R" * 61}, headers=auth
        ),
        "name",
    )
    fits = client.post("/api/v1/freezers", json={**long_name, "name": "F" * 60}, headers=auth)
    assert fits.status_code == 201


def test_a_subject_code_of_nul_characters_is_refused_before_the_database(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    make_subject(session)
    response = client.post(
        "/api/v1/subjects",
        json={
            "study_code": "NA1-9",
            "site_code": "NA1\x00",
            "sex": "female",
            "primary_diagnosis": "cervical",
        },
        headers=bearer(client, "tech"),
    )
    _refused(response, "site_code")


@pytest.mark.parametrize("page", ["５", "٣", "5_0", " 5", "+5", "5.0"])
def test_a_page_number_not_written_in_ascii_digits_is_a_422_naming_it(
    client: FlaskClient, tech: Actor, page: str
) -> None:
    """int() would take each of these; the documented contract says integer (schemathesis
    found "５１０５１０" accepted as page 510510)."""
    response = client.get(
        "/api/v1/aliquots", query_string={"page": page}, headers=bearer(client, "tech")
    )

    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "page"


def test_a_query_value_given_twice_is_a_422_naming_it(client: FlaskClient, tech: Actor) -> None:
    """?page=2&page=x: the first value would win and the second would never be checked."""
    response = client.get("/api/v1/aliquots?page=2&page=x", headers=bearer(client, "tech"))

    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "page"
