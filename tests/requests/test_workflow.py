"""A request's lifecycle: each state and who may move it, the draft, submission, review,
the decision, withdrawal, and an investigator's reach (only their own requests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.services import events_for
from lims.errors import Conflict, Forbidden, InvalidInput, NotFound
from lims.requests.models import (
    REQUEST_TRANSITIONS,
    ItemStatus,
    RequestItem,
    RequestState,
    SpecimenRequest,
)
from lims.requests.services import (
    add_review,
    change_state,
    decide_request,
    edit_draft,
    find_request,
    list_requests,
    move_state,
    submit_request,
)
from lims.specimens.duo import DuoTerm
from tests.factories import make_aliquots
from tests.requests.workflow_factories import (
    attach_protocol,
    draft_request,
    second_investigator,
    submitted_request,
    under_review_request,
)

S = RequestState
# Who may make each move (issue 19): the request's own investigator, reviewers, technicians,
# admins. Written out by hand, not read from the service's table, so the test states the rule.
WHO_MAY_MOVE: dict[tuple[RequestState, RequestState], set[str]] = {
    (S.DRAFT, S.SUBMITTED): {"owner", "admin"},
    (S.DRAFT, S.WITHDRAWN): {"owner", "admin"},
    (S.SUBMITTED, S.UNDER_REVIEW): {"reviewer", "admin"},
    (S.SUBMITTED, S.WITHDRAWN): {"owner", "admin"},
    (S.UNDER_REVIEW, S.REVISION_REQUESTED): {"admin"},
    (S.UNDER_REVIEW, S.APPROVED): {"admin"},
    (S.UNDER_REVIEW, S.REJECTED): {"admin"},
    (S.UNDER_REVIEW, S.WITHDRAWN): {"owner", "admin"},
    (S.REVISION_REQUESTED, S.SUBMITTED): {"owner", "admin"},
    (S.REVISION_REQUESTED, S.WITHDRAWN): {"owner", "admin"},
    (S.APPROVED, S.FULFILLING): {"technician", "admin"},
    (S.APPROVED, S.WITHDRAWN): {"owner", "admin"},
    (S.FULFILLING, S.SHIPPED): {"technician", "admin"},
    (S.FULFILLING, S.WITHDRAWN): {"owner", "admin"},
    (S.SHIPPED, S.CLOSED): {"admin"},
}


def test_each_move_is_allowed_to_exactly_the_roles_the_issue_names(
    session: Session, investigator: Actor, tech: Actor, reviewer: Actor, admin: Actor
) -> None:
    # The table test sets the starting state directly: reaching all ten states through the
    # services for every (move, actor) pair would build ~75 requests per database.
    actors = {
        "owner": investigator,
        "other investigator": second_investigator(session),
        "technician": tech,
        "reviewer": reviewer,
        "admin": admin,
    }
    found: dict[tuple[RequestState, RequestState], set[str]] = {}
    for start, targets in REQUEST_TRANSITIONS.items():
        for to in targets:
            found[(start, to)] = set()
            for name, actor in actors.items():
                req = draft_request(session, investigator)
                req.state = start
                try:
                    move_state(session, actor, req, to, note="why")
                except Forbidden:
                    continue
                assert req.state is to
                assert events_for(session, req)[-1].after == {"state": to.value, "note": "why"}
                found[(start, to)].add(name)

    assert found == WHO_MAY_MOVE


@pytest.mark.parametrize("start", [S.REJECTED, S.CLOSED, S.WITHDRAWN, S.SHIPPED])
def test_a_move_the_lifecycle_lacks_is_refused_even_to_an_admin(
    session: Session, investigator: Actor, admin: Actor, start: RequestState
) -> None:
    req = draft_request(session, investigator)
    req.state = start

    with pytest.raises(Conflict, match=f"is {start.label} and cannot become withdrawn"):
        move_state(session, admin, req, S.WITHDRAWN)


def test_an_investigator_reaches_only_their_own_requests_and_another_s_reads_as_missing(
    session: Session, investigator: Actor
) -> None:
    mine = draft_request(session, investigator)
    other = second_investigator(session)
    theirs = draft_request(session, other, title="Theirs")

    with pytest.raises(NotFound) as refused:
        find_request(session, investigator, theirs.code)
    with pytest.raises(NotFound) as missing:
        find_request(session, investigator, "REQ-9999")

    assert str(refused.value.detail).replace(theirs.code, "X") == str(missing.value.detail).replace(
        "REQ-9999", "X"
    )
    assert find_request(session, investigator, mine.code.lower()) is mine
    assert list_requests(session, investigator) == ([mine], 1)


def test_staff_list_every_request_and_filter_by_state(
    session: Session, investigator: Actor, reviewer: Actor, tmp_path: Path
) -> None:
    draft = draft_request(session, investigator)
    sent = submitted_request(session, investigator, tmp_path)

    assert list_requests(session, reviewer) == ([sent, draft], 2)
    assert list_requests(session, reviewer, state=S.SUBMITTED) == ([sent], 1)


def test_request_codes_count_up_from_req_0001(session: Session, investigator: Actor) -> None:
    first, second = draft_request(session, investigator), draft_request(session, investigator)

    assert int(second.code.removeprefix("REQ-")) == int(first.code.removeprefix("REQ-")) + 1
    assert first.code.startswith("REQ-") and len(first.code) >= 8


def test_submitting_an_incomplete_request_names_every_missing_part(
    session: Session, investigator: Actor
) -> None:
    req = draft_request(session, investigator, title=" ", aims="", criteria={})

    with pytest.raises(InvalidInput) as refused:
        submit_request(session, investigator, request=req.code)

    assert {e["field"] for e in refused.value.errors} == {"title", "aims", "criteria", "file"}
    assert req.state is S.DRAFT


def test_a_draft_keeps_its_criteria_canonical_with_the_purpose_inside(
    session: Session, investigator: Actor
) -> None:
    req = draft_request(
        session,
        investigator,
        criteria={"specimen_types": ["serum", "plasma"], "age": {"max": 60}},
        purpose=DuoTerm.DS,
        purpose_modifiers=[DuoTerm.NCU],
    )

    assert json.loads(req.criteria) == {
        "age": {"max": 60},
        "purpose": {"modifiers": ["DUO:0000046"], "term": "DUO:0000007"},
        "specimen_types": ["plasma", "serum"],
    }
    assert (req.purpose, req.modifiers) == (DuoTerm.DS, (DuoTerm.NCU,))


def test_a_modifier_as_purpose_or_criteria_the_engine_refuses_never_become_a_draft(
    session: Session, investigator: Actor
) -> None:
    with pytest.raises(InvalidInput) as modifier:
        draft_request(session, investigator, purpose=DuoTerm.NCU, purpose_modifiers=[])
    with pytest.raises(InvalidInput) as unknown:
        draft_request(session, investigator, criteria={"age": {"min": "old"}})
    with pytest.raises(InvalidInput, match="give it once"):
        draft_request(session, investigator, criteria={"purpose": {"term": "GRU"}})

    assert [e["field"] for e in modifier.value.errors] == ["criteria.purpose.term"]
    assert [e["field"] for e in unknown.value.errors] == ["criteria.age.min"]
    assert list_requests(session, investigator) == ([], 0)


def test_a_submission_notifies_reviewers_and_admins_but_not_the_investigator(
    session: Session, investigator: Actor, reviewer: Actor, admin: Actor, tmp_path: Path
) -> None:
    from lims.requests.services import list_notifications, unread_count

    req = submitted_request(session, investigator, tmp_path)

    assert req.state is S.SUBMITTED and req.submitted_at is not None
    assert [n.message for n in list_notifications(session, reviewer)] == [
        f"{req.code} submitted: {req.title}"
    ]
    assert unread_count(session, admin) == 1
    assert unread_count(session, investigator) == 0


def test_only_the_investigator_edits_and_only_a_draft_or_a_request_sent_back(
    session: Session, investigator: Actor, reviewer: Actor, tmp_path: Path
) -> None:
    req = draft_request(session, investigator)
    edit_draft(session, investigator, request=req.code, title="A better title", quantity_ul=100)
    with pytest.raises(NotFound):
        edit_draft(session, second_investigator(session), request=req.code, title="Mine now")
    with pytest.raises(Forbidden):
        edit_draft(session, reviewer, request=req.code, title="Reviewer's")
    attach_protocol(session, investigator, req, tmp_path)
    submit_request(session, investigator, request=req.code)

    with pytest.raises(Conflict, match="only a draft or a request sent back"):
        edit_draft(session, investigator, request=req.code, title="Too late")
    assert (req.title, req.quantity_ul) == ("A better title", 100)
    edited = [e for e in events_for(session, req) if e.action == "request.edited"]
    assert edited[0].before == {
        "title": "Serum biomarkers of cervical dystonia progression",
        "quantity_ul": 250.0,
    }


def test_a_reviewer_s_later_vote_replaces_the_earlier_one_in_the_tally(
    session: Session, investigator: Actor, reviewer: Actor, tmp_path: Path
) -> None:
    from lims.requests.models import Vote
    from lims.requests.services import vote_tally

    req = under_review_request(session, investigator, reviewer, tmp_path)
    add_review(session, reviewer, request=req.code, vote=Vote.REJECT, comment="Too broad")
    add_review(session, reviewer, request=req.code, vote=Vote.APPROVE)

    assert vote_tally(req) == {Vote.APPROVE: 1, Vote.REVISE: 0, Vote.REJECT: 0}
    assert [r.vote for r in req.reviews] == [Vote.REJECT, Vote.APPROVE]


def test_votes_wait_for_the_review_and_investigators_do_not_vote(
    session: Session, investigator: Actor, reviewer: Actor, tmp_path: Path
) -> None:
    from lims.requests.models import Vote

    req = submitted_request(session, investigator, tmp_path)
    with pytest.raises(Conflict, match="votes are cast while it is under review"):
        add_review(session, reviewer, request=req.code, vote=Vote.APPROVE)
    change_state(session, reviewer, request=req.code, to=S.UNDER_REVIEW)

    with pytest.raises(Forbidden):
        add_review(session, investigator, request=req.code, vote=Vote.APPROVE)
    add_review(session, investigator, request=req.code, comment="Happy to narrow the ages")
    assert [r.comment for r in req.reviews] == ["Happy to narrow the ages"]


def test_approving_needs_a_note_sets_the_pseudonym_secret_and_tells_the_investigator(
    session: Session, investigator: Actor, reviewer: Actor, admin: Actor, tmp_path: Path
) -> None:
    from lims.requests.services import list_notifications

    req = under_review_request(session, investigator, reviewer, tmp_path)
    assert req.pseudonym_secret == b""
    with pytest.raises(InvalidInput, match="Say why"):
        decide_request(session, admin, request=req.code, decision=S.APPROVED, note=" ")
    with pytest.raises(Forbidden):
        decide_request(session, reviewer, request=req.code, decision=S.APPROVED, note="ok")

    decide_request(session, admin, request=req.code, decision=S.APPROVED, note="Fits consent")

    assert req.state is S.APPROVED and len(req.pseudonym_secret) == 32
    assert (req.decided_by_id, req.decision_note) == (admin.user_id, "Fits consent")
    assert list_notifications(session, investigator)[0].message == (
        f"Request {req.code} is now approved: Fits consent"
    )


def test_a_request_sent_back_for_revision_is_edited_and_submitted_again(
    session: Session, investigator: Actor, reviewer: Actor, admin: Actor, tmp_path: Path
) -> None:
    req = under_review_request(session, investigator, reviewer, tmp_path)
    decide_request(
        session, admin, request=req.code, decision=S.REVISION_REQUESTED, note="Narrow the ages"
    )
    edit_draft(session, investigator, request=req.code, aims="Ages 40 to 60 only.")

    submit_request(session, investigator, request=req.code)

    assert req.state is S.SUBMITTED
    assert [e.action for e in events_for(session, req)][-3:] == [
        "request.revision_requested",
        "request.edited",
        "request.submitted",
    ]


def test_the_investigator_withdraws_before_shipping_but_not_after(
    session: Session, investigator: Actor, tmp_path: Path
) -> None:
    req = submitted_request(session, investigator, tmp_path)
    change_state(session, investigator, request=req.code, to=S.WITHDRAWN, note="Funding ended")
    shipped = draft_request(session, investigator)
    shipped.state = S.SHIPPED  # the fulfilment services bring it here; the rule is ours

    with pytest.raises(Conflict, match="is shipped and cannot become withdrawn"):
        change_state(session, investigator, request=shipped.code, to=S.WITHDRAWN)
    assert req.state is S.WITHDRAWN
    assert isinstance(req, SpecimenRequest)


def test_a_request_holding_reserved_tubes_is_not_withdrawn_until_they_are_let_go(
    session: Session, investigator: Actor
) -> None:
    req = draft_request(session, investigator)
    req.state = S.FULFILLING  # the pick list's reservation brings it here (fulfilment.py)
    (tube,) = make_aliquots(session, 1)
    req.items.append(RequestItem(aliquot=tube, open_aliquot_id=tube.id))
    session.flush()

    with pytest.raises(Conflict, match="holds 1 reserved tube"):
        change_state(session, investigator, request=req.code, to=S.WITHDRAWN)
    req.items[0].status, req.items[0].open_aliquot_id = ItemStatus.CANCELLED, None
    change_state(session, investigator, request=req.code, to=S.WITHDRAWN)

    assert req.state is S.WITHDRAWN
