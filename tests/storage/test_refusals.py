"""What storage must refuse (issue 15): using more than remains, consuming or disposing without
saying so, and a tube in a box set up for another specimen type. Each refusal writes nothing."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.models import AuditEvent
from lims.errors import Conflict, InvalidInput
from lims.specimens.models import Aliquot, AliquotStatus, SpecimenType
from lims.storage.models import Placement
from lims.storage.services import (
    check_out,
    import_placements,
    location_of,
    move_aliquot,
    store_aliquot,
    use_aliquot,
)
from tests.conftest import bearer, csrf_token, sign_in
from tests.factories import make_aliquot, make_box
from tests.storage.factories import stored


def out(session: Session, tech: Actor, volume_ul: int = 250) -> Aliquot:
    """A stored tube checked out to the bench, where use is recorded."""
    tube = stored(session, tech, volume_ul=volume_ul)
    check_out(session, tech, barcode=tube.barcode)
    return tube


def written(session: Session) -> tuple[int, int]:
    """Audit events and placements: a refusal adds neither."""
    return (
        session.scalar(select(func.count(AuditEvent.id))) or 0,
        session.scalar(select(func.count(Placement.id))) or 0,
    )


def _step(client: FlaskClient, barcode: str, step: str, data: dict[str, object]) -> str:
    """Post a step from the aliquot page and return the page it leads back to."""
    page = f"/aliquots/{barcode}"
    client.post(f"{page}/{step}", data={**data, "csrf_token": csrf_token(client, page)})
    return client.get(page).get_data(as_text=True)


# ---- using more than remains -------------------------------------------------------------------


def test_using_more_than_remains_is_refused_naming_what_remains(
    session: Session, tech: Actor
) -> None:
    tube = out(session, tech, volume_ul=500)
    before = written(session)
    with pytest.raises(Conflict, match="only 500 µL remain; 99999 µL cannot be used"):
        use_aliquot(session, tech, barcode=tube.barcode, volume_ul=99_999)
    assert (tube.volume_ul, tube.status, written(session)) == (
        500,
        AliquotStatus.CHECKED_OUT,
        before,
    )


def test_the_api_refuses_99999_ul_from_a_500_ul_tube(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tube = out(session, tech, volume_ul=500)
    headers = bearer(client, "tech")  # issuing a token is an audit event of its own
    before = written(session)
    response = client.post(
        f"/api/v1/aliquots/{tube.barcode}/use", json={"volume_ul": 99_999}, headers=headers
    )
    assert response.status_code == 409
    assert "only 500 µL remain" in response.get_json()["detail"]
    assert (tube.volume_ul, written(session)) == (500, before)


def test_the_use_form_refuses_more_than_remains(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tube = out(session, tech, volume_ul=500)
    sign_in(client, "tech")  # signing in is an audit event of its own
    before = written(session)
    page = _step(client, tube.barcode, "use", {"volume_ul": 99_999})
    assert "only 500 µL remain" in page
    assert (tube.volume_ul, written(session)) == (500, before)


# ---- consuming all is asked for, never inferred --------------------------------------------------


def test_use_with_no_quantity_and_no_consume_all_is_refused(session: Session, tech: Actor) -> None:
    tube = out(session, tech)
    before = written(session)
    with pytest.raises(InvalidInput, match="Give the volume used, or choose to consume all 250"):
        use_aliquot(session, tech, barcode=tube.barcode)
    assert (tube.status, written(session)) == (AliquotStatus.CHECKED_OUT, before)


def test_the_api_needs_consume_all_to_use_up_a_tube(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tube = out(session, tech)
    headers = bearer(client, "tech")
    url = f"/api/v1/aliquots/{tube.barcode}/use"
    assert client.post(url, json={}, headers=headers).status_code == 422
    assert tube.status is AliquotStatus.CHECKED_OUT
    both = client.post(url, json={"volume_ul": 10, "consume_all": True}, headers=headers)
    assert both.status_code == 422
    done = client.post(url, json={"consume_all": True}, headers=headers)
    assert done.status_code == 200 and done.get_json()["status"] == "consumed"


def test_the_use_form_needs_the_consume_all_box(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tube = out(session, tech)
    sign_in(client, "tech")
    page = _step(client, tube.barcode, "use", {})
    assert "choose to consume all" in page and tube.status is AliquotStatus.CHECKED_OUT
    _step(client, tube.barcode, "use", {"consume_all": "true"})
    assert tube.status is AliquotStatus.CONSUMED and location_of(tube) is None


# ---- disposal asks for confirmation --------------------------------------------------------------


def test_the_dispose_form_says_what_will_happen_and_needs_the_confirm_box(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tube = stored(session, tech)
    sign_in(client, "tech")  # signing in is an audit event of its own
    before = written(session)
    cracked = {"reason": "damaged", "note": "cracked", "authorised_by": "tech"}
    page = _step(client, tube.barcode, "dispose", cracked)
    assert "It cannot be undone" in page and "tick the box to confirm the disposal" in page
    assert (tube.status, written(session)) == (AliquotStatus.STORED, before)
    _step(client, tube.barcode, "dispose", {**cracked, "confirm": "true"})
    assert tube.status is AliquotStatus.DISPOSED


def test_the_api_keeps_the_required_reason_as_its_confirmation(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tube = stored(session, tech)
    headers = bearer(client, "tech")
    refused = client.post(f"/api/v1/aliquots/{tube.barcode}/dispose", json={}, headers=headers)
    assert refused.status_code == 422 and tube.status is AliquotStatus.STORED
    assert refused.get_json()["detail"].startswith("Reason: ")  # the label, not the name


def test_batch_disposal_shows_the_tubes_and_asks_before_disposing(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tubes = [stored(session, tech), stored(session, tech)]
    sign_in(client, "tech")  # signing in is an audit event of its own
    before = written(session)
    form = {
        "barcodes": [t.barcode for t in tubes],
        "reason": "consent_withdrawn",
        "authorised_by": "tech",
    }
    token = csrf_token(client, "/storage/dispose")
    review = client.post("/storage/dispose", data={**form, "csrf_token": token})
    page = review.get_data(as_text=True)
    assert review.status_code == 200 and "cannot be undone" in page and tubes[1].barcode in page
    assert written(session) == before
    done = client.post("/storage/dispose", data={**form, "confirm": "true", "csrf_token": token})
    assert done.status_code == 303
    assert [t.status for t in tubes] == [AliquotStatus.DISPOSED] * 2


# ---- a box set up for one specimen type ------------------------------------------------------


def test_a_dna_aliquot_is_refused_by_a_serum_box(session: Session, tech: Actor) -> None:
    box = make_box(session, specimen_type=SpecimenType.SERUM)
    dna = make_aliquot(session, specimen_type=SpecimenType.DNA)
    before = written(session)
    with pytest.raises(Conflict, match=f"holds dna, but box {box.barcode} is set up for serum"):
        store_aliquot(session, tech, barcode=dna.barcode, box_id=box.id, position="A1")
    assert (location_of(dna), written(session)) == (None, before)


def test_a_mixed_box_takes_any_specimen_type(session: Session, tech: Actor) -> None:
    box = make_box(session)  # specimen_type None: mixed
    dna = make_aliquot(session, specimen_type=SpecimenType.DNA)
    serum = make_aliquot(session)
    for tube, position in ((dna, "A1"), (serum, "A2")):
        store_aliquot(session, tech, barcode=tube.barcode, box_id=box.id, position=position)
    assert len(box.placements) == 2


def test_moving_a_dna_aliquot_into_a_serum_box_is_refused(session: Session, tech: Actor) -> None:
    dna = stored(session, tech, specimen_type=SpecimenType.DNA)
    serum_box = make_box(session, specimen_type=SpecimenType.SERUM)
    before = written(session)
    with pytest.raises(Conflict, match="is set up for serum"):
        move_aliquot(session, tech, barcode=dna.barcode, box_id=serum_box.id)
    assert written(session) == before and location_of(dna)["box_id"] != serum_box.id  # type: ignore[index]


def test_the_placement_import_lists_a_tube_of_the_wrong_type(session: Session, tech: Actor) -> None:
    box = make_box(session, specimen_type=SpecimenType.SERUM)
    serum, dna = make_aliquot(session), make_aliquot(session, specimen_type=SpecimenType.DNA)
    rows = [
        {"barcode": serum.barcode, "box_barcode": box.barcode, "position": "A1"},
        {"barcode": dna.barcode, "box_barcode": box.barcode, "position": "A2"},
    ]
    before = written(session)
    with pytest.raises(InvalidInput) as refused:
        import_placements(session, tech, rows=rows)
    assert [(e["row"], e["field"]) for e in refused.value.errors] == [(3, "box_barcode")]
    assert written(session) == before


def test_the_api_and_the_scan_page_refuse_a_dna_tube_in_a_serum_box(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    headers = bearer(client, "tech")
    created = client.post(
        "/api/v1/boxes", json={"n_rows": 9, "n_cols": 9, "specimen_type": "serum"}, headers=headers
    ).get_json()
    assert created["specimen_type"] == "serum"
    dna = make_aliquot(session, specimen_type=SpecimenType.DNA)
    sign_in(client, "tech")
    before = written(session)
    response = client.post(
        f"/api/v1/boxes/{created['id']}/aliquots", json={"barcode": dna.barcode}, headers=headers
    )
    assert response.status_code == 409 and "set up for serum" in response.get_json()["detail"]
    token = csrf_token(client, "/storage/scan")
    page = client.post(
        "/storage/scan",
        data={"code": dna.barcode, "box_id": created["id"], "csrf_token": token},
        follow_redirects=True,
    )
    assert "set up for serum" in page.get_data(as_text=True)
    assert written(session) == before


def test_a_box_declared_mixed_is_stored_as_mixed(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    body = {"n_rows": 9, "n_cols": 9, "specimen_type": "mixed"}
    created = client.post("/api/v1/boxes", json=body, headers=bearer(client, "tech"))
    assert created.status_code == 201 and created.get_json()["specimen_type"] == "mixed"
