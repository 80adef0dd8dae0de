from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lims import demo
from lims.actors import Actor
from lims.audit.models import LEGACY_TYPES, Action, AuditEvent
from lims.audit.services import TrailQuery, audit_type, events_for, read_trail, record
from lims.auth.models import User
from lims.db import Base
from lims.find import DIRECTORY
from lims.labels.services import print_labels
from lims.specimens.models import Aliquot, BarcodeCounter
from tests.conftest import bearer, sign_in
from tests.factories import make_box

# Events about things that are not rows of their own: a user by name (sign-ins, tokens), an
# import by its file's SHA-256, the trail itself (the migration that keyed it).
NAMED_BY_TUPLE = {"user", "aliquot_import", "audit_trail"}


def _declared() -> dict[str, type]:
    return {
        m.class_.__audit_type__: m.class_
        for m in Base.registry.mappers
        if "__audit_type__" in m.class_.__dict__
    }


def test_every_type_in_a_full_trail_is_declared_by_its_class(session: Session) -> None:
    demo.load(session, seed=7, subjects=4)  # every service the demo calls records through here
    tech = Actor.of(session.scalars(select(User).where(User.username == "tech")).one())
    aliquot = session.scalars(select(Aliquot).order_by(Aliquot.id)).first()
    assert aliquot is not None
    print_labels(session, tech, barcodes=[aliquot.barcode], stock_id="cryo-1.28x0.5-203")

    stored = set(session.scalars(select(AuditEvent.object_type).distinct()))

    assert stored, "the demo wrote no events"
    assert stored <= set(_declared()) | NAMED_BY_TUPLE
    assert {"box", "freezer", "rack", "aliquot", "subject", "print_job"} <= stored


# Types born after the classes declared them: no row was ever written under the old rule.
DECLARED_FROM_THE_START = {
    "diagnosis",  # issue 17 (the old rule would have said "diagnose")
    "shipping_address",  # issue 18 (the old rule would have said "shipping_addresse")
    "feasibility_query",  # issue 19 (the old rule would have said "feasibility_querie")
}


def test_legacy_types_list_every_name_the_old_derivation_gave() -> None:
    # The rule the trail was written with until the classes declared their types.
    old_rule = {
        new: re.sub("s+$", "", cls.__tablename__)
        for new, cls in _declared().items()
        if new not in DECLARED_FROM_THE_START
    }
    renamed = {new: (old,) for new, old in old_rule.items() if old != new}

    assert renamed == LEGACY_TYPES == {"box": ("boxe",)}


def test_recording_a_class_without_a_declared_type_is_refused(
    session: Session, tech: Actor
) -> None:
    with pytest.raises(TypeError, match=r"BarcodeCounter .* declares no audit type"):
        record(session, tech, Action.BOX_CREATED, BarcodeCounter(name="x", next_value=1))
    with pytest.raises(TypeError, match="declares no audit type"):
        audit_type(BarcodeCounter)


def test_a_box_history_is_found_under_box_with_its_legacy_rows(
    session: Session, admin: Actor, client: FlaskClient
) -> None:
    box = make_box(session)
    # What the old code stored for a box: written through the chain like any event.
    record(session, admin, Action.BOX_MOVED, ("boxe", box.id), before={"rack": "R1"}, rack="R2")
    session.commit()

    history = events_for(session, box)
    trail = read_trail(session, admin, query=TrailQuery(object_type="box"), directory=DIRECTORY)

    assert [(e.action, e.object_type) for e in history] == [
        (Action.BOX_CREATED, "box"),
        (Action.BOX_MOVED, "boxe"),
    ]
    assert [row.event.id for row in trail.rows] == [e.id for e in reversed(history)]
    assert {e.canonical_type for e in history} == {"box"}
    body = client.get("/api/v1/audit-events?object_type=box", headers=bearer(client, "admin"))
    assert [i["event"]["object_type"] for i in body.get_json()["items"]] == ["box", "box"]
    sign_in(client, "admin")
    page = client.get("/audit/?object_type=box").get_data(as_text=True)
    assert f">{box.barcode}</a>" in page and "boxe" not in page
