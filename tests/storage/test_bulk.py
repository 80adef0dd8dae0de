"""Scanned lists of tubes checked out, checked in or used: all of them, or none, with each bad
line named by its number, its barcode and why (issue #16)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.errors import Conflict, Forbidden, InvalidInput
from lims.specimens.models import AliquotStatus, OutCondition
from lims.storage.services import (
    check_in_many,
    check_out,
    check_out_many,
    take_out,
    use_many,
)
from tests.conftest import bearer, csrf_token, sign_in
from tests.storage.factories import actions, snapshot, stored, withdraw

S = AliquotStatus
PROBLEM = "application/problem+json"


def test_a_scanned_list_is_checked_out_together(session: Session, tech: Actor) -> None:
    tubes = [stored(session, tech) for _ in range(3)]
    done = check_out_many(
        session, tech, barcodes=[t.barcode for t in tubes], condition=OutCondition.ON_DRY_ICE
    )
    assert done == tubes
    assert {(t.status, t.out_condition) for t in tubes} == {
        (S.CHECKED_OUT, OutCondition.ON_DRY_ICE)
    }
    assert all(actions(session, t)[-1] == "aliquot.checked_out" for t in tubes)


def test_one_unknown_barcode_changes_nothing_and_is_named_by_its_line(
    session: Session, tech: Actor
) -> None:
    tubes = [stored(session, tech) for _ in range(2)]
    before = [snapshot(session, t) for t in tubes]
    lines = [tubes[0].barcode, "", "NO-SUCH-TUBE", tubes[1].barcode]
    with pytest.raises(InvalidInput, match="1 of 3 tubes cannot be checked out") as refused:
        check_out_many(session, tech, barcodes=lines, condition=OutCondition.THAWED)
    assert refused.value.errors == [
        {
            "field": "barcodes",
            "row": 3,
            "message": "Line 3, NO-SUCH-TUBE: No aliquot has barcode NO-SUCH-TUBE",
        }
    ]
    assert [snapshot(session, t) for t in tubes] == before


def test_a_tube_the_step_does_not_suit_refuses_the_whole_list(
    session: Session, tech: Actor
) -> None:
    ready, already_out = stored(session, tech), stored(session, tech)
    check_out(session, tech, barcode=already_out.barcode)
    before = snapshot(session, ready)
    with pytest.raises(Conflict) as refused:
        check_out_many(
            session,
            tech,
            barcodes=[ready.barcode, already_out.barcode],
            condition=OutCondition.THAWED,
        )
    (problem,) = refused.value.errors
    assert problem["row"] == 2 and problem["message"].startswith(f"Line 2, {already_out.barcode}:")
    assert "is checked_out and cannot become checked_out" in problem["message"]
    assert snapshot(session, ready) == before


def test_a_tube_scanned_twice_is_named_with_its_first_line(session: Session, tech: Actor) -> None:
    tube = stored(session, tech)
    with pytest.raises(InvalidInput) as refused:
        check_out_many(
            session, tech, barcodes=[tube.barcode, tube.barcode], condition=OutCondition.THAWED
        )
    assert refused.value.errors[0]["message"] == (
        f"Line 2, {tube.barcode}: scanned twice (first on line 1)"
    )
    assert tube.status is S.STORED


def test_a_withdrawn_subjects_tube_in_the_list_stops_the_check_out(
    session: Session, tech: Actor
) -> None:
    ready, withdrawn = stored(session, tech), stored(session, tech)
    withdraw(session, withdrawn.subject)
    with pytest.raises(Conflict, match="nothing was changed"):
        check_out_many(
            session,
            tech,
            barcodes=[ready.barcode, withdrawn.barcode],
            condition=OutCondition.THAWED,
        )
    assert ready.status is S.STORED


def test_a_list_checked_in_counts_a_cycle_only_for_tubes_that_thawed(
    session: Session, tech: Actor
) -> None:
    iced, thawed = stored(session, tech), stored(session, tech)
    check_out(session, tech, barcode=iced.barcode, condition=OutCondition.ON_DRY_ICE)
    check_out(session, tech, barcode=thawed.barcode, condition=OutCondition.THAWED)
    check_in_many(session, tech, barcodes=[iced.barcode, thawed.barcode])
    assert (iced.status, iced.freeze_thaw_count) == (S.STORED, 0)
    assert (thawed.status, thawed.freeze_thaw_count) == (S.STORED, 1)


def test_a_list_check_in_refuses_a_tube_with_no_held_position(
    session: Session, tech: Actor
) -> None:
    held, taken = stored(session, tech), stored(session, tech)
    check_out(session, tech, barcode=held.barcode)
    take_out(session, tech, barcode=taken.barcode, reason="box retired")
    with pytest.raises(Conflict) as refused:
        check_in_many(session, tech, barcodes=[held.barcode, taken.barcode])
    assert "no position is held for it" in refused.value.errors[0]["message"]
    assert held.status is S.CHECKED_OUT


def test_the_same_use_is_recorded_for_each_tube_or_for_none(session: Session, tech: Actor) -> None:
    big, small = stored(session, tech, volume_ul=300), stored(session, tech, volume_ul=40)
    for tube in (big, small):
        check_out(session, tech, barcode=tube.barcode)
    with pytest.raises(Conflict) as refused:
        use_many(session, tech, barcodes=[big.barcode, small.barcode], volume_ul=50)
    assert refused.value.errors[0]["row"] == 2 and big.volume_ul == 300
    use_many(session, tech, barcodes=[big.barcode], volume_ul=50)
    assert big.volume_ul == 250
    use_many(session, tech, barcodes=[big.barcode, small.barcode], consume_all=True)
    assert (big.status, small.status) == (S.CONSUMED, S.CONSUMED)


def test_a_reviewer_cannot_work_through_a_list(
    session: Session, tech: Actor, reviewer: Actor
) -> None:
    tube = stored(session, tech)
    with pytest.raises(Forbidden):
        check_out_many(session, reviewer, barcodes=[tube.barcode], condition=OutCondition.THAWED)


def test_the_api_checks_out_a_list_or_answers_a_problem_naming_each_line(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tubes = [stored(session, tech) for _ in range(2)]
    auth = bearer(client, "tech")
    codes = [t.barcode for t in tubes]
    refused = client.post(
        "/api/v1/aliquots/check-out",
        json={"barcodes": [*codes, "NOPE-1"], "condition": "thawed"},
        headers=auth,
    )
    assert refused.status_code == 422 and refused.mimetype == PROBLEM
    assert refused.get_json()["errors"][0]["row"] == 3
    assert all(t.status is S.STORED for t in tubes)
    done = client.post(
        "/api/v1/aliquots/check-out", json={"barcodes": codes, "condition": "thawed"}, headers=auth
    )
    assert done.status_code == 200 and done.get_json()["count"] == 2
    back = client.post("/api/v1/aliquots/check-in", json={"barcodes": codes}, headers=auth)
    assert [a["freeze_thaw_count"] for a in back.get_json()["aliquots"]] == [1, 1]
    used = client.post(
        "/api/v1/aliquots/use", json={"barcodes": codes[:1], "volume_ul": 10}, headers=auth
    )
    assert used.status_code == 409  # stored tubes are checked out before use


def test_the_scanned_list_page_checks_out_the_tubes_or_lists_the_bad_lines(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tubes = [stored(session, tech) for _ in range(2)]
    sign_in(client, "tech")
    token = csrf_token(client, "/storage/tubes")
    form = {"step": "check-out", "condition": "on_dry_ice", "csrf_token": token}
    lines = f"{tubes[0].barcode}\nNOPE-1\n{tubes[1].barcode}\n"
    refused = client.post("/storage/tubes", data={**form, "barcodes": lines})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Line 2, NOPE-1" in page
    assert tubes[1].barcode in page  # the list comes back to be corrected
    assert all(t.status is S.STORED for t in tubes)
    codes = "\n".join(t.barcode for t in tubes)
    done = client.post("/storage/tubes", data={**form, "barcodes": codes})
    assert done.status_code == 303
    assert [t.status for t in tubes] == [S.CHECKED_OUT] * 2
