from __future__ import annotations

import io
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.specimens.models import Aliquot
from tests.conftest import bearer
from tests.factories import make_subject, make_visit
from tests.specimens.factories import csv_bytes, import_row, make_dna_stock, make_edta_tube

PROBLEM = "application/problem+json"
TUBE = {
    "tube_type": "SST",
    "volume_ml": 6,
    "collected_at": "2026-03-18T09:00:00Z",
    "received_at": "2026-03-18T09:20:00Z",
    "processing_started_at": "2026-03-18T09:45",
    "pre_processing_temperature": "RT",
    "centrifuge_g": 1300,
    "centrifuge_minutes": 10,
    "centrifuge_temperature": "RT",
    "centrifuge_braked": True,
    "processed_at": "2026-03-18T10:25",
    "storage_temperature_c": -80,
    "is_second_spun": False,
}


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_registering_a_subject_and_a_visit_answers_201(client: FlaskClient, tech: Actor) -> None:
    headers = bearer(client, "tech")
    body = {
        "study_code": "na1-0001",
        "site_code": "NA1",
        "sex": "male",
        "primary_diagnosis": "limb",
    }
    response = client.post("/api/v1/subjects", json=body, headers=headers)
    assert response.status_code == 201 and response.mimetype == "application/json"
    assert response.get_json()["study_code"] == "NA1-0001"
    assert response.get_json()["has_consent"] is True

    visit = client.post(
        "/api/v1/subjects/NA1-0001/visits",
        json={"visit_number": 1, "visit_on": "2026-03-18"},
        headers=headers,
    )
    assert visit.status_code == 201 and visit.get_json()["visit_number"] == 1
    again = client.post("/api/v1/subjects", json=body, headers=headers)
    assert _problem(again, 409)["type"] == "/problems/conflict"


def test_a_bad_enum_is_a_422_naming_the_field(client: FlaskClient, tech: Actor) -> None:
    body = {"study_code": "X-1", "site_code": "NA1", "sex": "other", "primary_diagnosis": "limb"}
    response = client.post("/api/v1/subjects", json=body, headers=bearer(client, "tech"))
    assert {e["field"] for e in _problem(response, 422)["errors"]} == {"sex"}


def test_the_subject_list_filters_and_pages(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    for code in ("L-0001", "L-0002", "L-0003"):
        make_subject(session, study_code=code)
    response = client.get(
        "/api/v1/subjects?site=L&per_page=2&page=2&enrolment_status=enrolled",
        headers=bearer(client, "tech"),
    )
    body = response.get_json()
    assert response.status_code == 200
    assert body["total"] == 3 and [s["study_code"] for s in body["items"]] == ["L-0003"]
    assert body["items"][0]["visits"] == 0


def test_an_investigator_gets_403_on_subjects(
    client: FlaskClient, session: Session, tech: Actor, investigator: Actor
) -> None:
    make_subject(session, study_code="L-0001")
    headers = bearer(client, "investigator")
    assert _problem(client.get("/api/v1/subjects", headers=headers), 403)
    assert _problem(client.get("/api/v1/subjects/L-0001", headers=headers), 403)


def test_accession_then_aliquot_through_the_api(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    visit = make_visit(session, make_subject(session, study_code="L-0001"))
    headers = bearer(client, "tech")
    body = {"study_code": "L-0001", "visit_number": visit.visit_number, **TUBE}
    response = client.post("/api/v1/specimens", json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    tube = response.get_json()
    assert tube["sprec_code"] == "SER-SST-A-B-N-B-A" and tube["sprec_version"] == "2.0"

    made = client.post(
        f"/api/v1/specimens/{tube['barcode']}/aliquots",
        json={"count": 3, "volume_ul": 250},
        headers=headers,
    )
    assert made.status_code == 201
    codes = [a["barcode"] for a in made.get_json()["aliquots"]]
    assert len(codes) == 3 and made.get_json()["print_labels_url"].endswith(",".join(codes))
    fetched = client.get(f"/api/v1/specimens/{tube['barcode']}", headers=headers).get_json()
    assert [a["barcode"] for a in fetched["aliquots"]] == codes
    subject = client.get("/api/v1/subjects/L-0001", headers=headers).get_json()
    assert subject["visits"][0]["specimens"][0]["aliquots"][0]["barcode"] == codes[0]


def test_a_time_before_collection_is_a_422_on_that_field(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    make_visit(session, make_subject(session, study_code="L-0001"))
    body = {"study_code": "L-0001", "visit_number": 1, **TUBE, "received_at": "2026-03-17T09:00"}
    response = client.post("/api/v1/specimens", json=body, headers=bearer(client, "tech"))
    assert [e["field"] for e in _problem(response, 422)["errors"]] == ["received_at"]


def test_accessioning_for_an_unknown_visit_is_a_404(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    make_subject(session, study_code="L-0001")
    body = {"study_code": "L-0001", "visit_number": 4, **TUBE}
    response = client.post("/api/v1/specimens", json=body, headers=bearer(client, "tech"))
    assert "no visit 4" in _problem(response, 404)["detail"]


def test_dna_extraction_and_sub_aliquots_through_the_api(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tube = make_edta_tube(session)
    headers = bearer(client, "tech")
    response = client.post(
        f"/api/v1/specimens/{tube.barcode}/dna-extractions",
        json={"volume_ul": 200, "concentration_ng_ul": 40, "a260_280": 1.8},
        headers=headers,
    )
    assert response.status_code == 201
    stock = response.get_json()
    assert stock["specimen_type"] == "dna" and stock["total_ug"] == 8.0
    subs = client.post(
        f"/api/v1/aliquots/{stock['barcode']}/sub-aliquots",
        json={"count": 2, "volume_ul": 50, "barcodes": ["SUB-0001", "SUB-0002"]},
        headers=headers,
    )
    assert subs.status_code == 201
    assert [a["parent_barcode"] for a in subs.get_json()["aliquots"]] == [stock["barcode"]] * 2
    too_much = client.post(
        f"/api/v1/aliquots/{stock['barcode']}/sub-aliquots",
        json={"count": 3, "volume_ul": 50},
        headers=headers,
    )
    assert "holds 100 µL" in _problem(too_much, 409)["detail"]


def test_consent_withdrawal_through_the_api_refuses_a_second_time(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    stock = make_dna_stock(session)
    code = stock.subject.study_code
    headers = bearer(client, "tech")
    body = {"withdrawn_at": "2026-11-02T14:00", "reason": "letter of 2026-11-01"}
    response = client.post(
        f"/api/v1/subjects/{code}/consent-withdrawal", json=body, headers=headers
    )
    assert response.status_code == 200
    assert response.get_json()["aliquots_affected"] == 1
    assert response.get_json()["subject"]["enrolment_status"] == "consent_withdrawn"
    again = client.post(f"/api/v1/subjects/{code}/consent-withdrawal", json=body, headers=headers)
    assert _problem(again, 409)["errors"][0]["field"] == "study_code"


def test_a_csv_import_as_a_file_or_a_body(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    make_subject(session, study_code="SUBJ-0001")
    headers = bearer(client, "tech")
    data = csv_bytes([import_row()])
    response = client.post(
        "/api/v1/aliquot-imports",
        data={"file": (io.BytesIO(data), "log.csv")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["aliquots"] == 1 and len(response.get_json()["sha256"]) == 64
    second = csv_bytes([import_row(aliquot_barcode="AQ-0002")])
    response = client.post(
        "/api/v1/aliquot-imports", data=second, headers=headers, content_type="text/csv"
    )
    assert response.status_code == 201 and response.get_json()["tubes"] == 0


def test_a_bad_import_is_a_422_listing_rows_and_writes_nothing(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    make_subject(session, study_code="SUBJ-0001")
    rows = [import_row(aliquot_barcode=f"AQ-{i:04d}") for i in range(3)]
    rows[1]["specimen_type"] = "urine"
    before = session.scalar(select(func.count(Aliquot.id)))
    response = client.post(
        "/api/v1/aliquot-imports",
        data=csv_bytes(rows),
        headers=bearer(client, "tech"),
        content_type="text/csv",
    )
    problem = _problem(response, 422)
    assert problem["errors"] == [
        {
            "row": 3,
            "field": "specimen_type",
            "message": "'urine' is not one of whole_blood, serum, plasma, buffy_coat, dna, rna",
        }
    ]
    assert session.scalar(select(func.count(Aliquot.id))) == before


def test_an_import_without_a_file_is_a_422(client: FlaskClient, tech: Actor) -> None:
    response = client.post("/api/v1/aliquot-imports", json={}, headers=bearer(client, "tech"))
    assert _problem(response, 422)["errors"][0]["field"] == "file"
