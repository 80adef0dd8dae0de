"""Feasibility: how many subjects, visits and aliquots match, as each reader may see it.

Investigators see counts protected by lims/requests/protection.py (hidden below k, otherwise
noise seeded by the canonical criteria and a server secret, rounded); staff and admins see the
exact counts. Every query is logged (FeasibilityQuery: the criteria's hash and the true subject
count, staff-only) and audited (the criteria and what was shown, never a true count shown to an
investigator). Investigators are rate-limited, and locked out when more than `lockout_limit`
different criteria gave one true count in the window (protection.repeated_count_lockout); an
admin unlocks them. docs/user/feasibility-counts.md states the method and its threat model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims import audit
from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.auth.models import User
from lims.errors import Conflict, Forbidden, NotFound, RateLimited
from lims.requests import protection
from lims.requests.criteria import Counts, Criteria, count_matches, parse_criteria
from lims.requests.feasibility_models import FeasibilityLockout
from lims.requests.models import FeasibilityQuery
from lims.requests.protection import ProtectedCount
from lims.specimens.models import Dystonia

COUNTS = ("subjects", "visits", "aliquots")


@dataclass(frozen=True)
class FeasibilitySettings:
    """From the app's configuration (config.py, FEASIBILITY_*)."""

    secret: bytes
    k: int = protection.K
    rate_limit: int = 30
    rate_window: timedelta = timedelta(hours=1)
    lockout_limit: int = protection.LOCKOUT_LIMIT
    lockout_window: timedelta = timedelta(days=30)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> FeasibilitySettings:
        return cls(
            secret=config["FEASIBILITY_SECRET"],
            k=config["FEASIBILITY_K"],
            rate_limit=config["FEASIBILITY_RATE_LIMIT"],
            rate_window=timedelta(minutes=config["FEASIBILITY_RATE_WINDOW_MINUTES"]),
            lockout_limit=config["FEASIBILITY_LOCKOUT_LIMIT"],
            lockout_window=timedelta(days=config["FEASIBILITY_LOCKOUT_DAYS"]),
        )


@dataclass(frozen=True)
class CountRow:
    """One line of the answer: a diagnosis (None: all of them) and its three counts."""

    diagnosis: Dystonia | None
    subjects: ProtectedCount
    visits: ProtectedCount
    aliquots: ProtectedCount

    @property
    def label(self) -> str:
        return self.diagnosis.value.replace("_", " ") if self.diagnosis else "all"


@dataclass(frozen=True)
class FeasibilityAnswer:
    criteria: Criteria
    criteria_hash: str
    rows: tuple[CountRow, ...]  # one per diagnosis asked about (all five if none)
    total: CountRow
    is_exact: bool
    k: int


def check_feasibility(
    session: Session,
    actor: Actor,
    *,
    criteria: Mapping[str, Any],
    settings: FeasibilitySettings,
    now: datetime,
    counting: Session | None = None,
) -> FeasibilityAnswer:
    """Count what matches the criteria, today, protected for investigators; logged and audited.

    `counting`, when given, runs the counting query only (a hot standby's session, which the
    caller closes); the checks, the log and the audit stay on `session`, the primary.
    """
    actor.require(Role.INVESTIGATOR, Role.TECHNICIAN, Role.REVIEWER)
    parsed = parse_criteria(criteria)
    document = parsed.document()
    digest = protection.criteria_hash(document)
    is_exact = actor.is_staff
    if not is_exact:
        _require_unlocked(session, actor)
        _require_under_rate_limit(session, actor, settings, now)
    counts = count_matches(session if counting is None else counting, parsed, on=now.date())
    refusal = None if is_exact else _lockout(session, actor, settings, digest, counts, now)
    logged = FeasibilityQuery(
        user_id=actor.user_id, criteria_hash=digest, true_subjects=counts.subjects, created_at=now
    )
    session.add(logged)
    if refusal is not None:
        lock = FeasibilityLockout(
            user_id=actor.user_id, locked_at=now, distinct_criteria=refusal.distinct_criteria
        )
        session.add(lock)
        audit.record(
            session, actor, Action.FEASIBILITY_LOCKED_OUT, lock, at=now,
            criteria_hash=digest, distinct_criteria=refusal.distinct_criteria,
            limit=refusal.limit,
        )  # fmt: skip
        session.commit()  # the lockout stands, although the query is refused
        raise Forbidden(f"Feasibility queries refused: {refusal.detail}")
    answer = _answer(parsed, digest, counts, settings, is_exact=is_exact)
    audit.record(
        session, actor, Action.FEASIBILITY_QUERIED, logged, at=now,
        criteria=document, criteria_hash=digest, is_exact=is_exact,
        # what the reader saw: for an investigator the protected total, never the true count
        shown_subjects=answer.total.subjects.shown,
    )  # fmt: skip
    session.commit()
    return answer


def _answer(
    criteria: Criteria, digest: str, counts: Counts, s: FeasibilitySettings, *, is_exact: bool
) -> FeasibilityAnswer:
    document = criteria.document()

    def shown(n: int, kind: str) -> ProtectedCount:
        if is_exact:
            return protection.exact(n)
        seed = protection.criteria_seed(s.secret, document, kind=kind)
        return protection.protect(n, seed_material=seed, k=s.k)

    found = {row.diagnosis: row for row in counts.by_diagnosis}
    # Every diagnosis asked about gets a row, zero or not: a row present only when something
    # matched would tell "none" from "fewer than k".
    rows = []
    for diagnosis in sorted(criteria.diagnoses or Dystonia, key=list(Dystonia).index):
        true = found.get(diagnosis)
        values = (true.subjects, true.visits, true.aliquots) if true else (0, 0, 0)
        cells = [
            shown(n, f"{kind}/{diagnosis.value}") for n, kind in zip(values, COUNTS, strict=True)
        ]
        rows.append(CountRow(diagnosis, *cells))
    total = CountRow(None, *(shown(getattr(counts, kind), kind) for kind in COUNTS))
    return FeasibilityAnswer(criteria, digest, tuple(rows), total, is_exact, s.k)


def _require_unlocked(session: Session, actor: Actor) -> None:
    open_lock = session.scalar(
        select(FeasibilityLockout.id).where(
            FeasibilityLockout.user_id == actor.user_id, FeasibilityLockout.unlocked_at.is_(None)
        )
    )
    if open_lock is not None:
        raise Forbidden(
            "Your feasibility queries are locked: too many different queries gave the same "
            "underlying count. An administrator must unlock the account."
        )


def _require_under_rate_limit(
    session: Session, actor: Actor, s: FeasibilitySettings, now: datetime
) -> None:
    since = now - s.rate_window
    asked, oldest = session.execute(
        select(func.count(), func.min(FeasibilityQuery.created_at)).where(
            FeasibilityQuery.user_id == actor.user_id, FeasibilityQuery.created_at > since
        )
    ).one()
    if asked >= s.rate_limit and oldest is not None:
        wait = int((oldest + s.rate_window - now).total_seconds()) + 1
        minutes = int(s.rate_window.total_seconds() // 60)
        raise RateLimited(
            f"{asked} feasibility queries in the last {minutes} minutes; the limit is "
            f"{s.rate_limit}. Try again in {max(wait, 1) // 60 + 1} minutes.",
            retry_after_s=wait,
        )


def _lockout(
    session: Session,
    actor: Actor,
    s: FeasibilitySettings,
    digest: str,
    counts: Counts,
    now: datetime,
) -> protection.Lockout | None:
    """The window starts 30 days back, or at the last unlock if later: unlocked, one starts
    afresh."""
    last_unlock = session.scalar(
        select(func.max(FeasibilityLockout.unlocked_at)).where(
            FeasibilityLockout.user_id == actor.user_id
        )
    )
    since = max(now - s.lockout_window, last_unlock) if last_unlock else now - s.lockout_window
    history = session.execute(
        select(FeasibilityQuery.criteria_hash, FeasibilityQuery.true_subjects).where(
            FeasibilityQuery.user_id == actor.user_id,
            FeasibilityQuery.created_at > since,
        )
    ).all()
    window = [(h, n) for h, n in history] + [(digest, counts.subjects)]
    return protection.repeated_count_lockout(window, k=s.k, limit=s.lockout_limit)


@dataclass(frozen=True)
class LockedInvestigator:
    lockout_id: int
    username: str
    locked_at: datetime
    distinct_criteria: int


def list_lockouts(session: Session, actor: Actor) -> list[LockedInvestigator]:
    """Investigators whose feasibility queries are locked, for an administrator."""
    actor.require(Role.ADMIN)
    stmt = (
        select(FeasibilityLockout, User.username)
        .join(User, User.id == FeasibilityLockout.user_id)
        .where(FeasibilityLockout.unlocked_at.is_(None))
        .order_by(FeasibilityLockout.locked_at)
    )
    return [
        LockedInvestigator(lock.id, username, lock.locked_at, lock.distinct_criteria)
        for lock, username in session.execute(stmt)
    ]


def unlock_feasibility(
    session: Session, actor: Actor, *, lockout_id: int, note: str, now: datetime
) -> FeasibilityLockout:
    """Lift an investigator's feasibility lockout (administrator), saying why."""
    actor.require(Role.ADMIN)
    # Locked: two admins unlocking at once record one unlock, not two.
    lock = session.get(FeasibilityLockout, lockout_id, with_for_update=True)
    if lock is None:
        raise NotFound(f"Feasibility lockout {lockout_id} does not exist", field="lockout_id")
    if lock.unlocked_at is not None:
        raise Conflict(
            f"This lockout was lifted on {lock.unlocked_at:%Y-%m-%d}", field="lockout_id"
        )
    lock.unlocked_at, lock.unlocked_by_id = now, actor.user_id
    lock.unlock_note = note.strip() or None
    audit.record(session, actor, Action.FEASIBILITY_UNLOCKED, lock, at=now, reason=lock.unlock_note)
    session.commit()
    return lock
