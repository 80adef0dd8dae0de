"""The audit trail as people read it: codes, only what changed, filters, keyset pages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.models import Action
from lims.audit.services import TrailPage, TrailQuery, read_trail, record
from lims.auth.services import set_site_time_zone
from lims.errors import Forbidden, InvalidInput
from lims.find import DIRECTORY
from tests.conftest import bearer, sign_in
from tests.factories import make_aliquots, make_box, make_subject, make_visit
from tests.storage.factories import stored


def _trail(session: Session, actor: Actor, **query: object) -> TrailPage:
    return read_trail(session, actor, query=TrailQuery(**query), directory=DIRECTORY)  # type: ignore[arg-type]


def _shown(page: TrailPage) -> list[tuple[str, str]]:
    return [(str(row.event.action), row.code) for row in page.rows]


def test_objects_are_shown_by_their_codes_not_their_ids(
    session: Session, tech: Actor, reviewer: Actor
) -> None:
    aliquot = stored(session, tech)
    visit = aliquot.specimen.visit

    shown = dict(_shown(_trail(session, reviewer)))

    assert shown["aliquot.stored"] == aliquot.barcode
    assert shown["specimen.accessioned"] == aliquot.specimen.barcode
    assert shown["visit.registered"] == f"{visit.subject.study_code} V1"
    assert shown["subject.registered"] == visit.subject.study_code
    assert shown["box.created"].startswith("B") and shown["site.created"] == "NA1"


@contextmanager
def _statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: object) -> None:
        if str(args[2]).startswith("SELECT"):  # not the test's savepoints
            seen.append(str(args[2]))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_codes_are_read_in_bulk_whatever_the_number_of_rows(
    session: Session, tech: Actor, reviewer: Actor
) -> None:
    make_aliquots(session, 40, volume_ul=100)
    with _statements(session) as few:
        _trail(session, reviewer, action="aliquot.", per_page=2)
    with _statements(session) as many:
        _trail(session, reviewer, action="aliquot.", per_page=40)

    assert len(many) == len(few)


def test_only_the_fields_that_changed_are_shown(
    session: Session, tech: Actor, reviewer: Actor
) -> None:
    aliquot = stored(session, tech)
    record(session, tech, Action.ALIQUOT_MOVED, aliquot,
           before={"box": "B0000013", "position": "A1", "note": "x"},
           box="B0000013", position="A2", shelf=None, rack="R1")  # fmt: skip
    session.commit()

    (row,) = _trail(session, reviewer, action="aliquot.moved").rows

    assert [(c.field, c.before, c.after) for c in row.changes] == [
        ("position", "A1", "A2"),
        ("rack", None, "R1"),
        ("note", "x", None),
    ]


def test_a_barcode_or_code_filters_the_trail_to_its_records(
    session: Session, tech: Actor, reviewer: Actor
) -> None:
    first, second = stored(session, tech), stored(session, tech)
    subject = first.subject

    by_barcode = _trail(session, reviewer, code=first.barcode.lower())
    by_subject = _trail(session, reviewer, code=subject.study_code)
    nothing = _trail(session, reviewer, code="NOPE-1")

    assert _shown(by_barcode) == [
        ("aliquot.stored", first.barcode),
        ("aliquot.created", first.barcode),
    ]
    assert second.barcode not in {code for _, code in _shown(by_barcode)}
    assert _shown(by_subject) == [("subject.registered", subject.study_code)]
    assert nothing.rows == [] and nothing.matched == []


def test_the_trail_filters_by_user_and_by_action_prefix(
    session: Session, tech: Actor, admin: Actor, reviewer: Actor
) -> None:
    aliquot = stored(session, tech)
    box = make_box(session)  # created by the system operator, not by tech

    by_tech = {action for action, _ in _shown(_trail(session, reviewer, user="tech"))}
    aliquot_actions = _shown(_trail(session, reviewer, action="aliquot."))
    exactly = _shown(_trail(session, reviewer, action="aliquot.stored"))

    assert by_tech == {"aliquot.stored"}
    assert ("box.created", box.barcode) not in aliquot_actions
    assert {a for a, _ in aliquot_actions} == {"aliquot.stored", "aliquot.created"}
    assert exactly == [("aliquot.stored", aliquot.barcode)]
    with pytest.raises(InvalidInput, match=r"No action starts with 'nothing\.'"):
        _trail(session, reviewer, action="nothing.")


def test_a_time_range_is_read_on_the_viewers_wall_clock(
    session: Session, admin: Actor, reviewer: Actor
) -> None:
    set_site_time_zone(session, admin, code="NA1", time_zone="America/Los_Angeles")
    subject = make_subject(session)
    for hour in (2, 4, 6):  # UTC; in Los Angeles 18:00, 20:00 and 22:00 the evening before
        at = datetime(2026, 3, 6, hour, tzinfo=UTC)
        record(session, admin, Action.SUBJECT_REGISTERED, subject, at=at, hour=hour)
    session.commit()

    page = _trail(session, reviewer, since=datetime(2026, 3, 5, 19), until=datetime(2026, 3, 5, 22))

    assert page.zone == "America/Los_Angeles"
    assert [row.event.after for row in page.rows] == [{"hour": 4}]
    with pytest.raises(InvalidInput, match="since: 2026-03-08 02:30 did not exist"):
        _trail(session, reviewer, since=datetime(2026, 3, 8, 2, 30))


def test_large_trails_are_paged_by_event_id_both_ways(
    session: Session, tech: Actor, reviewer: Actor
) -> None:
    make_aliquots(session, 5)
    every = [row.event.id for row in _trail(session, reviewer, action="aliquot.").rows]

    first = _trail(session, reviewer, action="aliquot.", per_page=2)
    second = _trail(session, reviewer, action="aliquot.", per_page=2, before=first.older)
    last = _trail(session, reviewer, action="aliquot.", per_page=2, before=second.older)
    back = _trail(session, reviewer, action="aliquot.", per_page=2, after=last.newer)

    assert [r.event.id for r in first.rows + second.rows + last.rows] == every
    assert first.newer is None and last.older is None and second.newer is not None
    assert [r.event.id for r in back.rows] == [r.event.id for r in second.rows]


def test_the_trail_is_for_reviewers_and_admins(session: Session, tech: Actor) -> None:
    with pytest.raises(Forbidden):
        _trail(session, tech)


def test_the_api_takes_the_same_filters_and_pages(
    client: FlaskClient, session: Session, tech: Actor, reviewer: Actor
) -> None:
    aliquot = stored(session, tech)
    headers = bearer(client, "reviewer")

    body = client.get(
        f"/api/v1/audit-events?code={aliquot.barcode}&action=aliquot.st&user=tech&per_page=1",
        headers=headers,
    ).get_json()

    (item,) = body["items"]
    assert item["object_code"] == aliquot.barcode
    assert item["event"]["action"] == "aliquot.stored"
    assert body["newer"] is None and body["older"] is None
    assert "box" in {c["field"] for c in item["changes"]}
    assert all(c["before"] != c["after"] for c in item["changes"])


def test_the_page_filters_by_barcode_and_shows_codes(
    client: FlaskClient, session: Session, tech: Actor, reviewer: Actor
) -> None:
    aliquot = stored(session, tech)
    make_visit(session)
    sign_in(client, "reviewer")

    page = client.get(f"/audit/?code={aliquot.barcode}&user=&since=").get_data(as_text=True)
    refused = client.get("/audit/?action=nothing.")

    assert page.count(f">{aliquot.barcode}</a>") == 2
    assert "visit.registered" not in page and "times in UTC" in page
    assert refused.status_code == 422
    assert "No action starts with" in refused.get_data(as_text=True)
