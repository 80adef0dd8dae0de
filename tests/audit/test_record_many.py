from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lims import audit
from lims.actors import Actor
from lims.audit.models import Action, AuditEvent
from lims.audit.services import chain_head, events_for, verify_chain
from lims.db import make_engine
from lims.specimens.models import BarcodeCounter
from tests.conftest import DatabaseMaker
from tests.factories import make_box, make_subject


def test_a_batch_is_chained_after_the_head_in_list_order(session: Session, tech: Actor) -> None:
    subject, box = make_subject(session), make_box(session)
    head = chain_head(session)

    audit.record_many(
        session,
        tech,
        [
            audit.Event(Action.SUBJECT_REGISTERED, subject, after={"study_code": "X"}),
            audit.Event(Action.BOX_MOVED, audit.ref(type(box), box.id), before={"rack": "R1"}),
            audit.Event(Action.SITE_CREATED, ("site", "NA9"), reason="new centre"),
        ],
    )

    batch = session.scalars(select(AuditEvent).where(AuditEvent.id > head.id)).all()
    assert [e.action for e in batch] == [
        Action.SUBJECT_REGISTERED,
        Action.BOX_MOVED,
        Action.SITE_CREATED,
    ]
    assert batch[0].prev_hash == head.row_hash
    assert all(b.prev_hash == a.row_hash for a, b in itertools.pairwise(batch))
    assert events_for(session, box)[-1].before == {"rack": "R1"}
    assert verify_chain(session).is_intact


def test_a_batch_naming_an_undeclared_class_writes_nothing(session: Session, tech: Actor) -> None:
    before = session.scalar(select(func.count()).select_from(AuditEvent))
    events = [
        audit.Event(Action.SITE_CREATED, ("site", "NA9")),
        audit.Event(Action.SITE_CREATED, BarcodeCounter(name="x", next_value=1)),
    ]

    with pytest.raises(TypeError, match="declares no audit type"):
        audit.record_many(session, tech, events)

    assert session.scalar(select(func.count()).select_from(AuditEvent)) == before


@pytest.fixture(scope="module")
def pg_engine(databases: DatabaseMaker) -> Iterator[Engine]:
    url = databases.migrated("postgresql", "lims_chain_lock")
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_a_batch_waits_for_the_chain_lock_a_single_append_holds(pg_engine: Engine) -> None:
    actor = Actor.system("cli")
    batch_done = threading.Event()

    def append_batch() -> None:
        with Session(pg_engine) as other:
            events = [audit.Event(Action.SITE_CREATED, ("site", f"B{i}")) for i in range(50)]
            audit.record_many(other, actor, events)
            other.commit()
        batch_done.set()

    with Session(pg_engine) as first:
        audit.record(first, actor, Action.SITE_CREATED, ("site", "A"))  # takes the lock
        worker = threading.Thread(target=append_batch)
        worker.start()
        assert not batch_done.wait(1.0), "the batch read the head while another append was open"
        first.commit()
    worker.join(30)

    assert batch_done.is_set()
    with Session(pg_engine) as check:
        assert verify_chain(check).is_intact
        assert chain_head(check).count == 51
