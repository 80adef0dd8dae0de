"""Storage over /api/v1: status codes, bodies, and problem+json for every refusal."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.storage.services import location_of
from tests.conftest import bearer
from tests.factories import make_aliquot, make_box, make_rack
from tests.storage.factories import stored

PROBLEM = "application/problem+json"


def test_a_technician_sets_up_a_freezer_rack_and_box(client: FlaskClient, tech: Actor) -> None:
    auth = bearer(client, "tech")
    freezer = client.post(
        "/api/v1/freezers",
        json={"name": "F7 -80", "temperature_c": -80, "room": "B204"},
        headers=auth,
    )
    assert freezer.status_code == 201, freezer.get_json()
    freezer_id = freezer.get_json()["id"]
    rack = client.post(f"/api/v1/freezers/{freezer_id}/racks", json={"name": "R1"}, headers=auth)
    assert rack.status_code == 201
    box = client.post(
        "/api/v1/boxes",
        json={"name": "DNA 1", "n_rows": 10, "n_cols": 10, "rack_id": rack.get_json()["id"]},
        headers=auth,
    )
    assert box.status_code == 201
    body = box.get_json()
    assert (
        body["barcode"].startswith("B") and body["capacity"] == 100 and body["freezer"] == "F7 -80"
    )
    listed = client.get(f"/api/v1/freezers/{freezer_id}", headers=auth).get_json()
    assert [r["name"] for r in listed["racks"]] == ["R1"]
    assert client.get("/api/v1/boxes", headers=auth).get_json()["items"][0]["id"] == body["id"]


def test_a_bad_grid_is_a_422_problem(client: FlaskClient, tech: Actor) -> None:
    response = client.post(
        "/api/v1/boxes", json={"n_rows": 40, "n_cols": 10}, headers=bearer(client, "tech")
    )
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert response.get_json()["errors"][0]["field"] == "n_rows"


def test_storing_and_reading_a_box_grid(client: FlaskClient, session: Session, tech: Actor) -> None:
    box, aliquot = make_box(session), make_aliquot(session)
    auth = bearer(client, "tech")
    response = client.post(
        f"/api/v1/boxes/{box.id}/aliquots", json={"barcode": aliquot.barcode}, headers=auth
    )
    assert response.status_code == 201
    assert response.get_json() == {
        "barcode": aliquot.barcode,
        "box_id": box.id,
        "box_barcode": box.barcode,
        "position": "A1",
        "status": "stored",
    }
    grid = client.get(f"/api/v1/boxes/{box.id}", headers=auth).get_json()
    assert grid["box"]["used"] == 1
    assert grid["positions"] == [
        {
            "position": "A1",
            "barcode": aliquot.barcode,
            "specimen_type": "serum",
            "status": "stored",
            "consent_withdrawn": False,
            "withdrawal_level": None,
        }
    ]


def test_an_occupied_position_is_a_409_problem_naming_the_occupant(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    box = make_box(session)
    occupant = stored(session, tech, box=box, position="A1")
    response = client.post(
        f"/api/v1/boxes/{box.id}/aliquots",
        json={"barcode": make_aliquot(session).barcode, "position": "A1"},
        headers=bearer(client, "tech"),
    )
    assert response.status_code == 409 and response.mimetype == PROBLEM
    problem = response.get_json()
    assert problem["type"] == "/problems/conflict" and occupant.barcode in problem["detail"]
    assert problem["errors"][0]["field"] == "position"


def test_an_investigator_may_not_store_or_move(
    client: FlaskClient, session: Session, tech: Actor, investigator: Actor
) -> None:
    box, aliquot = make_box(session), make_aliquot(session)
    auth = bearer(client, "investigator")
    response = client.post(
        f"/api/v1/boxes/{box.id}/aliquots", json={"barcode": aliquot.barcode}, headers=auth
    )
    assert response.status_code == 403 and response.mimetype == PROBLEM
    placed = stored(session, tech)
    response = client.post(
        f"/api/v1/aliquots/{placed.barcode}/move", json={"box_id": box.id}, headers=auth
    )
    assert response.status_code == 403


def test_every_lifecycle_step_works_over_the_api(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    aliquot = stored(session, tech, position="B2", volume_ul=300)
    auth = bearer(client, "tech")
    url = f"/api/v1/aliquots/{aliquot.barcode}"
    out = client.post(
        f"{url}/check-out", json={"reason": "assay", "condition": "thawed"}, headers=auth
    ).get_json()
    assert out["status"] == "checked_out" and out["location"]["position"] == "B2"
    out = client.post(f"{url}/use", json={"volume_ul": 100}, headers=auth).get_json()
    assert out["volume_ul"] == 200
    out = client.post(f"{url}/check-in", json={}, headers=auth).get_json()
    assert (out["status"], out["freeze_thaw_count"]) == ("stored", 1)
    out = client.post(f"{url}/quarantine", json={"reason": "alarm"}, headers=auth).get_json()
    assert out["status"] == "quarantined"
    out = client.post(f"{url}/clear-quarantine", json={}, headers=auth).get_json()
    assert out["status"] == "stored"
    out = client.post(f"{url}/missing", json={}, headers=auth).get_json()
    assert out["status"] == "missing"
    out = client.post(f"{url}/found", json={}, headers=auth).get_json()
    assert out["status"] == "stored"
    box = make_box(session)
    moved = client.post(
        f"{url}/move", json={"box_barcode": box.barcode, "position": "c3"}, headers=auth
    )
    assert moved.get_json()["position"] == "C3"
    disposal = {"reason": "expired", "authorised_by": "tech"}
    out = client.post(f"{url}/dispose", json=disposal, headers=auth).get_json()
    assert out["status"] == "disposed" and out["location"] is None
    custody = client.get(f"{url}/custody", headers=auth).get_json()
    assert [e["action"] for e in custody["events"]][-3:] == [
        "aliquot.found",
        "aliquot.moved",
        "aliquot.disposed",
    ]
    refused = client.post(f"{url}/check-out", json={"condition": "on_dry_ice"}, headers=auth)
    assert refused.status_code == 409 and refused.mimetype == PROBLEM
    assert "no further changes" in refused.get_json()["detail"]


def test_disposal_without_a_reason_is_a_422(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    aliquot = stored(session, tech)
    response = client.post(
        f"/api/v1/aliquots/{aliquot.barcode}/dispose", json={}, headers=bearer(client, "tech")
    )
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "reason"


WITHDRAWN = {"reason": "consent_withdrawn", "authorised_by": "tech"}


def test_batch_disposal_is_all_or_nothing(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tubes = [stored(session, tech) for _ in range(2)]
    auth = bearer(client, "tech")
    codes = [t.barcode for t in tubes]
    refused = client.post(
        "/api/v1/aliquots/dispose",
        json={"barcodes": [*codes, "NOPE-42"], **WITHDRAWN},
        headers=auth,
    )
    assert refused.status_code == 422 and refused.mimetype == PROBLEM
    assert all(location_of(t) is not None for t in tubes)
    done = client.post(
        "/api/v1/aliquots/dispose", json={"barcodes": codes, **WITHDRAWN}, headers=auth
    )
    assert done.get_json() == {"disposed": codes}


def test_the_list_filters_pages_and_counts(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    box = make_box(session)
    tubes = [stored(session, tech, box=box) for _ in range(3)]
    make_aliquot(session)
    auth = bearer(client, "tech")
    body = client.get(f"/api/v1/aliquots?box={box.barcode}&per_page=2", headers=auth).get_json()
    assert body["total"] == 3 and len(body["items"]) == 2
    assert body["items"][0]["barcode"] == tubes[0].barcode and body["items"][0]["position"] == "A1"
    page2 = client.get(
        f"/api/v1/aliquots?box={box.barcode}&per_page=2&page=2", headers=auth
    ).get_json()
    assert [i["barcode"] for i in page2["items"]] == [tubes[2].barcode]
    assert body["total_kind"] == "exact" and page2["next_after"] is None
    after = client.get(
        f"/api/v1/aliquots?box={box.barcode}&per_page=2&after={body['next_after']}", headers=auth
    ).get_json()
    assert after["items"] == page2["items"]
    back = client.get(
        f"/api/v1/aliquots?box={box.barcode}&per_page=2&before={after['prev_before']}",
        headers=auth,
    ).get_json()
    assert back["items"] == body["items"] and back["prev_before"] is None
    bad = client.get("/api/v1/aliquots?status=thawed", headers=auth)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "status"


def test_a_placement_import_with_one_bad_row_writes_nothing(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    box = make_box(session)
    good, other = make_aliquot(session), make_aliquot(session)
    auth = bearer(client, "tech")
    sheet = (
        "barcode,box_barcode,position\n"
        f"{good.barcode},{box.barcode},A1\n{other.barcode},{box.barcode},A1\n"
    )
    refused = client.post("/api/v1/placements/import", json={"csv": sheet}, headers=auth)
    assert refused.status_code == 422 and refused.mimetype == PROBLEM
    assert refused.get_json()["errors"] == [
        {"row": 3, "field": "position", "message": f"row 2 also places a tube at {box.barcode} A1"}
    ]
    assert location_of(good) is None
    fixed = sheet.replace(f"{box.barcode},A1\n", f"{box.barcode},A2\n", 2).replace(
        f"{good.barcode},{box.barcode},A2", f"{good.barcode},{box.barcode},A1"
    )
    done = client.post(
        "/api/v1/placements/import", data=fixed, content_type="text/csv", headers=auth
    )
    assert done.status_code == 201 and done.get_json()["placed"] == 2


def test_the_capacity_report_counts_free_positions(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    rack = make_rack(session)
    box = make_box(session, rows=2, cols=5, rack=rack)
    stored(session, tech, box=box)
    body = client.get("/api/v1/storage/capacity", headers=bearer(client, "tech")).get_json()
    freezer = next(f for f in body["freezers"] if f["name"] == rack.freezer.name)
    assert (freezer["capacity"], freezer["used"], freezer["free"]) == (10, 1, 9)
    assert freezer["boxes"][0]["barcode"] == box.barcode


def test_an_unknown_box_id_is_a_404_problem(client: FlaskClient, tech: Actor) -> None:
    for path in ("/api/v1/boxes/999999", "/api/v1/boxes/not-a-number"):
        response = client.get(path, headers=bearer(client, "tech"))
        assert response.status_code == 404 and response.mimetype == PROBLEM
