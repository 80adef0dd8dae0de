"""Reviewing a request: reviewers comment and vote, an admin records the decision (issue 19).

Each vote is kept as it was cast (the history shows it); a reviewer's current vote is their
latest, so voting again replaces the earlier one in the tally without rewriting the record.
Votes are the committee's deliberation: the investigator sees the comments, not the votes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from lims import audit
from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.audit.services import events_for
from lims.errors import Conflict, Forbidden, InvalidInput
from lims.requests.models import EDITABLE_STATES, RequestReview, RequestState, SpecimenRequest, Vote
from lims.requests.services.notifications import notify, notify_roles
from lims.requests.services.workflow import DECISIONS, find_request, may_move, move_state

S = RequestState
# While a request is with the committee, anyone on it may comment; votes wait for the review.
COMMENTABLE = frozenset({S.SUBMITTED, S.UNDER_REVIEW, S.REVISION_REQUESTED})
VOTABLE = frozenset({S.UNDER_REVIEW})
COMMENT_MAX = 10_000


def may_comment(actor: Actor, req: SpecimenRequest) -> bool:
    if req.state not in COMMENTABLE:
        return False
    return actor.role in (Role.ADMIN, Role.REVIEWER) or req.investigator_id == actor.user_id


def may_vote(actor: Actor, req: SpecimenRequest) -> bool:
    return req.state in VOTABLE and actor.role in (Role.ADMIN, Role.REVIEWER)


def add_review(
    session: Session,
    actor: Actor,
    *,
    request: str | int,
    comment: str = "",
    vote: Vote | None = None,
    at: datetime | None = None,
) -> RequestReview:
    """A comment, a vote, or both, on a request under review."""
    req = find_request(session, actor, request, for_update=True)
    comment = comment.strip()
    if vote is None and not comment:
        raise InvalidInput("Write a comment or cast a vote", field="comment")
    if len(comment) > COMMENT_MAX:
        raise InvalidInput(f"A comment holds at most {COMMENT_MAX} characters", field="comment")
    if vote is not None and not may_vote(actor, req):
        if actor.role not in (Role.ADMIN, Role.REVIEWER):
            raise Forbidden(f"{actor.username} ({actor.role.value}) may not vote on requests")
        raise Conflict(
            f"Request {req.code} is {req.state.label}; votes are cast while it is under review",
            field="vote",
        )
    if not may_comment(actor, req):
        if actor.role not in (Role.ADMIN, Role.REVIEWER) and req.investigator_id != actor.user_id:
            raise Forbidden(f"{actor.username} ({actor.role.value}) may not review requests")
        raise Conflict(
            f"Request {req.code} is {req.state.label}; it takes no more comments", field="comment"
        )
    assert actor.user_id is not None  # may_comment: a reviewer, an admin or the investigator
    review = RequestReview(author_id=actor.user_id, vote=vote, comment=comment)
    if at is not None:
        review.created_at = at
    req.reviews.append(review)
    audit.record(
        session,
        actor,
        Action.REQUEST_VOTED if vote is not None else Action.REQUEST_COMMENTED,
        req,
        vote=vote,
        comment=comment or None,
        at=at,
    )
    if actor.user_id == req.investigator_id:
        notify_roles(
            session, (Role.REVIEWER, Role.ADMIN), req, f"{req.code}: the investigator commented"
        )
    elif comment:
        notify(session, [req.investigator_id], req, f"{req.code}: a reviewer commented")
    session.commit()
    return review


def actions_for(actor: Actor, req: SpecimenRequest) -> list[str]:
    """What this actor may do with the request now: the pages show these and only these."""
    own = req.investigator_id == actor.user_id
    moves = {
        "submit": S.SUBMITTED,
        "start_review": S.UNDER_REVIEW,
        "withdraw": S.WITHDRAWN,
        "close": S.CLOSED,
    }
    actions = [name for name, to in moves.items() if may_move(actor, req, to)]
    if own and req.state in EDITABLE_STATES:
        actions[:0] = ["edit", "attach"]
    if may_comment(actor, req):
        actions.append("comment")
    if may_vote(actor, req):
        actions.append("vote")
    if any(may_move(actor, req, d) for d in DECISIONS):
        actions.append("decide")
    return actions


def current_votes(req: SpecimenRequest) -> dict[int, Vote]:
    """Each reviewer's latest vote, by author id (a later vote replaces an earlier one)."""
    votes: dict[int, Vote] = {}
    for review in sorted(req.reviews, key=lambda r: r.id):
        if review.vote is not None:
            votes[review.author_id] = review.vote
    return votes


def vote_tally(req: SpecimenRequest) -> dict[Vote, int]:
    """How many reviewers currently vote each way (every vote named, zero included)."""
    counted = Counter(current_votes(req).values())
    return {vote: counted.get(vote, 0) for vote in Vote}


def visible_reviews(actor: Actor, req: SpecimenRequest) -> list[RequestReview]:
    """The reviews this actor may read: staff all; the investigator the comments only."""
    if actor.is_staff:
        return list(req.reviews)
    return [r for r in req.reviews if r.comment]


def decide_request(
    session: Session,
    actor: Actor,
    *,
    request: str | int,
    decision: RequestState,
    note: str,
    at: datetime | None = None,
) -> SpecimenRequest:
    """The admin records the committee's decision (approve, reject, send back), with a note."""
    actor.require(Role.ADMIN)
    if decision not in DECISIONS:
        raise InvalidInput(
            f"A decision is one of {', '.join(sorted(d.value for d in DECISIONS))}",
            field="decision",
        )
    if not note.strip():
        raise InvalidInput("Say why: the note goes to the investigator", field="note")
    req = find_request(session, actor, request, for_update=True)
    move_state(session, actor, req, decision, note=note, at=at)
    session.commit()
    return req


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    who: str
    what: str  # "submitted", "approved", "commented", ...
    note: str | None


def request_history(session: Session, actor: Actor, req: SpecimenRequest) -> list[HistoryEntry]:
    """The request's story from the audit trail, oldest first; an investigator sees every move
    and comment but not the committee's votes (a vote with a comment reads as a comment)."""
    find_request(session, actor, req.id)  # the object check, for callers holding a row
    entries = []
    for event in events_for(session, req):
        after = event.after or {}
        what = event.action.removeprefix("request.").replace("_", " ")
        if event.action == Action.REQUEST_VOTED:
            if not actor.is_staff:
                if not after.get("comment"):
                    continue
                what = "commented"
            else:
                what = f"voted {after.get('vote')}"
        note = after.get("note") or after.get("comment") or after.get("filename")
        entries.append(HistoryEntry(event.occurred_at, event.actor_username, what, note))
    return entries
