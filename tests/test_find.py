"""The find box in every page's header and GET /api/v1/find: one service over the features."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.errors import Forbidden, InvalidInput, NotFound
from lims.find import find
from lims.labels.services import print_labels
from lims.specimens.models import Sex
from lims.specimens.services import register_subject
from tests.conftest import bearer, sign_in
from tests.factories import make_aliquot, make_box, make_specimen, make_subject, make_visit
from tests.storage.factories import stored


def _kinds(session: Session, actor: Actor, code: str) -> list[tuple[str, str]]:
    return [(n.kind, n.code) for n in find(session, actor, code)]


def test_each_kind_of_record_is_found_by_its_code(session: Session, tech: Actor) -> None:
    subject = make_subject(session)
    visit = make_visit(session, subject, number=2)
    tube = make_specimen(session, visit)
    aliquot = make_aliquot(session, specimen=tube)
    box = make_box(session)
    job = print_labels(session, tech, barcodes=[aliquot.barcode], stock_id="cryo-1x0.5-300").job

    assert _kinds(session, tech, subject.study_code.lower()) == [("subject", subject.study_code)]
    assert _kinds(session, tech, f"{subject.study_code} v2") == [
        ("visit", f"{subject.study_code} V2")
    ]
    assert _kinds(session, tech, tube.barcode) == [("specimen", tube.barcode)]
    assert _kinds(session, tech, f" {aliquot.barcode} ") == [("aliquot", aliquot.barcode)]
    assert _kinds(session, tech, box.barcode) == [("box", box.barcode)]
    assert _kinds(session, tech, f"pj-{job.id}") == [("print_job", f"PJ-{job.id}")]


def test_a_pre_printed_tube_barcode_and_a_ninds_guid_are_found(
    session: Session, tech: Actor
) -> None:
    make_subject(session)
    subject = register_subject(
        session, tech, study_code="NA1-7001", site_code="NA1", sex=Sex.MALE,
        primary_diagnosis=make_subject(session).primary_diagnosis, ninds_guid="NIHAB123CDE",
    )  # fmt: skip
    tube = make_specimen(session, make_visit(session, subject))

    assert _kinds(session, tech, "nihab123cde") == [("subject", "NA1-7001")]
    assert _kinds(session, tech, tube.barcode) == [("specimen", tube.barcode)]


def test_a_code_naming_several_records_lists_them_all(session: Session, tech: Actor) -> None:
    # A box name repeats across racks; the find box lists each box of that name.
    first, second = make_box(session), make_box(session)
    second.name = first.name
    session.commit()

    assert {code for _, code in _kinds(session, tech, first.name)} == {
        first.barcode,
        second.barcode,
    }


def test_nothing_found_names_the_code_and_what_was_searched(session: Session, tech: Actor) -> None:
    with pytest.raises(NotFound, match="Nothing has the code NOPE-123: no aliquot, primary tube"):
        find(session, tech, "nope-123")
    with pytest.raises(InvalidInput, match="wrong check digit"):
        find(session, tech, "10000000")


def test_an_investigator_finds_nothing_staff_may_see(
    session: Session, investigator: Actor, tech: Actor
) -> None:
    aliquot = stored(session, tech)

    with pytest.raises(Forbidden):
        find(session, investigator, aliquot.barcode)


def test_the_header_find_box_goes_straight_to_a_single_record(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    aliquot = stored(session, tech)
    tube, subject = aliquot.specimen, aliquot.subject
    sign_in(client, "tech")

    def lands(code: str) -> str:
        response = client.get(f"/find?q={code}")
        assert response.status_code == 303
        return response.headers["Location"]

    assert 'id="find-q"' in client.get("/storage/").get_data(as_text=True)
    assert lands(aliquot.barcode) == f"/aliquots/{aliquot.barcode}"
    assert lands(tube.barcode) == f"/specimens/{tube.barcode}"
    assert lands(subject.study_code.lower()) == f"/subjects/{subject.study_code}"
    assert lands(f"{subject.study_code}+V1") == f"/subjects/{subject.study_code}#visit-1"


def test_the_find_page_lists_several_and_says_when_there_is_none(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    first, second = make_box(session), make_box(session)
    second.name = first.name
    session.commit()
    sign_in(client, "tech")

    several = client.get(f"/find?q={first.name}").get_data(as_text=True)
    missing = client.get("/find?q=NOPE-123")

    assert 'id="find-results"' in several and "2 records have this code" in several
    assert f'href="/storage/boxes/{second.id}"' in several
    assert missing.status_code == 404
    assert "Nothing has the code NOPE-123" in missing.get_data(as_text=True)


def test_an_investigator_has_no_find_box_and_the_find_page_refuses(
    client: FlaskClient, session: Session, investigator: Actor
) -> None:
    sign_in(client, "investigator")

    assert 'id="find-q"' not in client.get("/").get_data(as_text=True)
    assert client.get("/find?q=NA1-0001").status_code == 403


def test_the_api_finds_with_the_same_service(
    client: FlaskClient, session: Session, tech: Actor, investigator: Actor
) -> None:
    aliquot = stored(session, tech)

    found = client.get(f"/api/v1/find?q={aliquot.barcode}", headers=bearer(client, "tech"))
    missing = client.get("/api/v1/find?q=NOPE-123", headers=bearer(client, "tech"))
    refused = client.get("/api/v1/find?q=NOPE-123", headers=bearer(client, "investigator"))

    assert found.get_json()["items"] == [
        {
            "kind": "aliquot",
            "code": aliquot.barcode,
            "detail": "serum aliquot, stored",
            "url": f"/aliquots/{aliquot.barcode}",
        }
    ]
    assert missing.status_code == 404 and missing.content_type == "application/problem+json"
    assert refused.status_code == 403
