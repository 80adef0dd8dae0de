"""A freeze-thaw cycle is counted when a tube that thawed is frozen again, not for every return
to a freezer (issue #16): check-out asks how the tube leaves, on dry ice or thawed."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.services import events_for
from lims.specimens.models import OutCondition
from lims.storage.services import (
    check_in,
    check_out,
    scan_into_box,
    store_aliquot,
    take_out,
)
from lims.storage.services._common import placement_of
from tests.conftest import bearer
from tests.factories import make_box
from tests.specimens.factories import make_dna_stock
from tests.storage.factories import stored

DRY_ICE, THAWED = OutCondition.ON_DRY_ICE, OutCondition.THAWED


def test_a_tube_that_travelled_on_dry_ice_counts_no_cycle_when_checked_in(
    session: Session, tech: Actor
) -> None:
    aliquot = stored(session, tech)
    check_out(session, tech, barcode=aliquot.barcode, condition=DRY_ICE)
    check_in(session, tech, barcode=aliquot.barcode)
    assert aliquot.freeze_thaw_count == 0 and aliquot.out_condition is None


def test_a_tube_that_left_thawed_counts_one_cycle_when_checked_in(
    session: Session, tech: Actor
) -> None:
    aliquot = stored(session, tech)
    check_out(session, tech, barcode=aliquot.barcode, condition=THAWED)
    check_in(session, tech, barcode=aliquot.barcode)
    check_out(session, tech, barcode=aliquot.barcode, condition=DRY_ICE)
    check_in(session, tech, barcode=aliquot.barcode)
    assert aliquot.freeze_thaw_count == 1


def test_check_out_and_check_in_record_how_the_tube_travelled(
    session: Session, tech: Actor
) -> None:
    aliquot = stored(session, tech)
    check_out(session, tech, barcode=aliquot.barcode, condition=THAWED, reason="ELISA")
    check_in(session, tech, barcode=aliquot.barcode)
    out, back = events_for(session, aliquot)[-2:]
    assert out.after is not None and out.after["condition"] == "thawed"
    assert back.after is not None
    assert (back.after["condition"], back.after["freeze_thaw_count"]) == ("thawed", 1)


def test_scanning_a_dry_ice_tube_back_into_its_box_counts_no_cycle(
    session: Session, tech: Actor
) -> None:
    aliquot = stored(session, tech)
    box_id = placement_of(session, aliquot).box_id  # type: ignore[union-attr]
    check_out(session, tech, barcode=aliquot.barcode, condition=DRY_ICE)
    result = scan_into_box(session, tech, box_id=box_id, barcode=aliquot.barcode)
    assert result.outcome == "checked_in" and aliquot.freeze_thaw_count == 0


def test_a_tube_taken_out_on_dry_ice_and_stored_elsewhere_counts_no_cycle(
    session: Session, tech: Actor
) -> None:
    aliquot = stored(session, tech)
    take_out(session, tech, barcode=aliquot.barcode, reason="box retired", condition=DRY_ICE)
    store_aliquot(session, tech, barcode=aliquot.barcode, box_id=make_box(session).id)
    assert aliquot.freeze_thaw_count == 0


def test_the_dna_code_keeps_its_freeze_thaw_element_right(session: Session, tech: Actor) -> None:
    stock = make_dna_stock(session)
    store_aliquot(session, tech, barcode=stock.barcode, box_id=make_box(session).id)
    assert stock.sprec_code is not None and stock.sprec_code.endswith("-0")
    check_out(session, tech, barcode=stock.barcode, condition=DRY_ICE)
    check_in(session, tech, barcode=stock.barcode)
    assert stock.sprec_code.endswith("-0")
    check_out(session, tech, barcode=stock.barcode, condition=THAWED)
    check_in(session, tech, barcode=stock.barcode)
    assert stock.sprec_code.endswith("-1") and stock.freeze_thaw_count == 1
    assert events_for(session, stock)[-1].after["sprec_code"] == stock.sprec_code  # type: ignore[index]


def test_the_api_asks_how_the_tube_leaves(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    aliquot = stored(session, tech)
    auth = bearer(client, "tech")
    url = f"/api/v1/aliquots/{aliquot.barcode}"
    refused = client.post(f"{url}/check-out", json={"reason": "assay"}, headers=auth)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.get_json()["errors"]] == ["condition"]
    client.post(f"{url}/check-out", json={"condition": "on_dry_ice"}, headers=auth)
    back = client.post(f"{url}/check-in", json={}, headers=auth).get_json()
    assert (back["status"], back["freeze_thaw_count"]) == ("stored", 0)
