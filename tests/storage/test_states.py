"""The states a biobank records beyond the bench steps (issue #16): voided (entered in error),
returned after distribution, and disposal with a reason from the list and who authorised it."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lims.actors import Actor, Role
from lims.audit.services import events_for
from lims.errors import Conflict, InvalidInput
from lims.find import find
from lims.specimens.models import (
    ALIQUOT_TRANSITIONS,
    Aliquot,
    AliquotStatus,
    DisposalReason,
    OutCondition,
)
from lims.specimens.services import find_aliquot, specimen_overview, sub_aliquot
from lims.storage.services import (
    AliquotFilter,
    dispose_aliquot,
    dispose_aliquots,
    list_aliquots,
    location_of,
    return_aliquot,
    store_aliquot,
    take_out,
    void_aliquot,
)
from tests.conftest import bearer, csrf_token, sign_in
from tests.factories import make_box, make_user
from tests.specimens.factories import make_dna_stock
from tests.storage.factories import actions, snapshot, stored

S = AliquotStatus


def released(session: Session, tech: Actor, **kwargs: object) -> Aliquot:
    """A tube released to an investigator. The last step is set directly: release comes with
    the requests feature (issue 19), not built yet; the map allows checked out -> released."""
    aliquot = stored(session, tech, **kwargs)
    take_out(session, tech, barcode=aliquot.barcode, reason="to the investigator")
    aliquot.status = S.RELEASED
    session.commit()
    return aliquot


# ---- voided ----------------------------------------------------------------------------------


def test_a_voided_tube_leaves_its_position_and_says_why(session: Session, tech: Actor) -> None:
    aliquot = stored(session, tech, position="B2")
    void_aliquot(session, tech, barcode=aliquot.barcode, reason="label printed twice")
    assert aliquot.status is S.VOIDED and location_of(aliquot) is None
    event = events_for(session, aliquot)[-1]
    assert (event.action, event.reason) == ("aliquot.voided", "label printed twice")
    assert event.before is not None and event.before["position"] == "B2"


def test_a_voided_tube_drops_out_of_lists_and_counts_but_stays_findable(
    session: Session, tech: Actor
) -> None:
    kept, voided = stored(session, tech), stored(session, tech)
    count_before = specimen_overview(session, tech).aliquots
    void_aliquot(session, tech, barcode=voided.barcode, reason="entered twice")
    listed = list_aliquots(session, tech, filters=AliquotFilter())
    assert [r.barcode for r in listed.rows] == [kept.barcode] and listed.total == 1
    assert specimen_overview(session, tech).aliquots == count_before - 1
    asked = list_aliquots(session, tech, filters=AliquotFilter(status=S.VOIDED))
    assert [r.barcode for r in asked.rows] == [voided.barcode]
    assert [(n.kind, n.code) for n in find(session, tech, voided.barcode)] == [
        ("aliquot", voided.barcode)
    ]
    assert find_aliquot(session, tech, voided.barcode).status is S.VOIDED


def test_voiding_needs_a_reason_and_changes_nothing_without_one(
    session: Session, tech: Actor
) -> None:
    aliquot = stored(session, tech)
    before = snapshot(session, aliquot)
    with pytest.raises(InvalidInput, match="Say why the aliquot is voided"):
        void_aliquot(session, tech, barcode=aliquot.barcode, reason=" ")
    assert snapshot(session, aliquot) == before


def test_a_stock_with_sub_aliquots_is_voided_only_after_them(session: Session, tech: Actor) -> None:
    stock = make_dna_stock(session)
    (child,) = sub_aliquot(session, tech, parent_barcode=stock.barcode, count=1, volume_ul=20)
    with pytest.raises(Conflict, match=rf"\({child.barcode}\); void those first"):
        void_aliquot(session, tech, barcode=stock.barcode, reason="wrong tube")
    void_aliquot(session, tech, barcode=child.barcode, reason="wrong tube")
    void_aliquot(session, tech, barcode=stock.barcode, reason="wrong tube")
    assert (stock.status, child.status) == (S.VOIDED, S.VOIDED)


def test_a_disposed_tube_cannot_be_voided(session: Session, tech: Actor) -> None:
    aliquot = stored(session, tech)
    dispose_aliquot(
        session, tech, barcode=aliquot.barcode, reason=DisposalReason.EXPIRED, authorised_by="tech"
    )
    with pytest.raises(Conflict, match="cannot become voided"):
        void_aliquot(session, tech, barcode=aliquot.barcode, reason="oops")


def test_the_api_and_the_page_void_a_tube(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    by_api, by_page = stored(session, tech), stored(session, tech)
    response = client.post(
        f"/api/v1/aliquots/{by_api.barcode}/void",
        json={"reason": "entered twice"},
        headers=bearer(client, "tech"),
    )
    assert response.status_code == 200 and response.get_json()["status"] == "voided"
    sign_in(client, "tech")
    token = csrf_token(client, f"/aliquots/{by_page.barcode}")
    client.post(
        f"/aliquots/{by_page.barcode}/void", data={"reason": "wrong box", "csrf_token": token}
    )
    page = client.get(f"/aliquots/{by_page.barcode}").get_data(as_text=True)
    assert by_page.status is S.VOIDED and "entered in error and never existed" in page


# ---- returned after distribution ------------------------------------------------------------


def test_a_returned_tube_is_received_again_ready_to_be_placed(
    session: Session, tech: Actor
) -> None:
    aliquot = released(session, tech, volume_ul=250)
    return_aliquot(
        session, tech, barcode=aliquot.barcode, condition=OutCondition.THAWED, volume_ul=200
    )
    assert (aliquot.status, aliquot.volume_ul) == (S.RECEIVED, 200)
    event = events_for(session, aliquot)[-1]
    assert event.action == "aliquot.returned" and event.after["condition"] == "thawed"  # type: ignore[index]
    store_aliquot(session, tech, barcode=aliquot.barcode, box_id=make_box(session).id)
    assert (aliquot.status, aliquot.freeze_thaw_count) == (S.STORED, 1)


def test_a_tube_returned_on_dry_ice_counts_no_cycle_when_stored(
    session: Session, tech: Actor
) -> None:
    aliquot = released(session, tech)
    return_aliquot(session, tech, barcode=aliquot.barcode, condition=OutCondition.ON_DRY_ICE)
    store_aliquot(session, tech, barcode=aliquot.barcode, box_id=make_box(session).id)
    assert aliquot.freeze_thaw_count == 0


def test_only_a_released_tube_can_be_returned_and_not_with_more_volume(
    session: Session, tech: Actor
) -> None:
    here = stored(session, tech)
    with pytest.raises(Conflict, match="cannot become received"):
        return_aliquot(session, tech, barcode=here.barcode, condition=OutCondition.THAWED)
    away = released(session, tech, volume_ul=100)
    with pytest.raises(InvalidInput, match="150 µL cannot have come back"):
        return_aliquot(
            session, tech, barcode=away.barcode, condition=OutCondition.THAWED, volume_ul=150
        )
    assert away.status is S.RELEASED


# ---- disposal: a reason from the list, and who authorised it ---------------------------------


def test_a_disposal_records_its_reason_and_who_authorised_it(session: Session, tech: Actor) -> None:
    lead = make_user(session, "lab-lead", Role.TECHNICIAN)
    aliquot = stored(session, tech)
    dispose_aliquot(
        session,
        tech,
        barcode=aliquot.barcode,
        reason=DisposalReason.QUALITY_FAILURE,
        note="haemolysed",
        authorised_by="lab-lead",
    )
    assert aliquot.disposal_reason is DisposalReason.QUALITY_FAILURE
    assert aliquot.disposal_authorised_by_id == lead.id
    event = events_for(session, aliquot)[-1]
    assert event.reason == "quality failure: haemolysed"
    assert event.after is not None
    assert (event.after["disposal_reason"], event.after["authorised_by"]) == (
        "quality_failure",
        "lab-lead",
    )


def test_other_needs_a_note(session: Session, tech: Actor) -> None:
    aliquot = stored(session, tech)
    with pytest.raises(InvalidInput, match="Say what the other reason is"):
        dispose_aliquot(
            session,
            tech,
            barcode=aliquot.barcode,
            reason=DisposalReason.OTHER,
            authorised_by="tech",
        )
    assert aliquot.status is S.STORED


@pytest.mark.parametrize("who", ["", "nobody", "investigator", "gone"])
def test_a_disposal_is_authorised_by_an_active_technician_or_administrator(
    session: Session, tech: Actor, investigator: Actor, who: str
) -> None:
    make_user(session, "gone", Role.TECHNICIAN).is_active = False
    aliquot = stored(session, tech)
    with pytest.raises(InvalidInput) as refused:
        dispose_aliquot(
            session, tech, barcode=aliquot.barcode, reason=DisposalReason.DAMAGED, authorised_by=who
        )
    assert refused.value.field_errors.keys() == {"authorised_by"}
    assert aliquot.status is S.STORED


def test_a_list_disposal_carries_the_reason_and_the_authoriser_for_each_tube(
    session: Session, tech: Actor
) -> None:
    tubes = [stored(session, tech) for _ in range(2)]
    dispose_aliquots(
        session,
        tech,
        barcodes=[t.barcode for t in tubes],
        reason=DisposalReason.CONSENT_WITHDRAWN,
        authorised_by="tech",
    )
    assert {t.disposal_reason for t in tubes} == {DisposalReason.CONSENT_WITHDRAWN}
    assert all(actions(session, t)[-1] == "aliquot.disposed" for t in tubes)


def test_the_api_refuses_a_reason_that_is_not_on_the_list(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    aliquot = stored(session, tech)
    response = client.post(
        f"/api/v1/aliquots/{aliquot.barcode}/dispose",
        json={"reason": "felt like it", "authorised_by": "tech"},
        headers=bearer(client, "tech"),
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["reason"]


def test_the_user_guide_states_the_status_map_as_it_is() -> None:
    guide = (Path(__file__).parents[2] / "docs/user/aliquot-lifecycle.md").read_text()
    block = guide.split("```text\n", 1)[1].split("```", 1)[0]
    written = {}
    for line in block.splitlines():
        state, moves = (part.strip() for part in line.split("→"))
        written[state] = set() if moves == "(final)" else set(moves.split(", "))
    assert written == {
        s.value.replace("_", " "): {t.value.replace("_", " ") for t in targets}
        for s, targets in ALIQUOT_TRANSITIONS.items()
    }


def test_the_withdrawal_offer_reviews_with_its_reason_chosen_and_asks_who_authorised_it(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    make_user(session, "lab-lead", Role.ADMIN)
    tubes = [stored(session, tech) for _ in range(2)]
    sign_in(client, "tech")
    form = {"barcodes": [t.barcode for t in tubes], "reason": "consent_withdrawn"}
    review = client.post(
        "/storage/dispose", data={**form, "csrf_token": csrf_token(client, "/storage/dispose")}
    )
    page = review.get_data(as_text=True)
    assert '<option value="consent_withdrawn" selected>' in page
    assert '<option value="tech" selected>' in page and 'value="lab-lead"' in page
    assert all(t.status is S.STORED for t in tubes)  # nothing happens before the confirmation
