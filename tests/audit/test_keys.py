from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

import config
from lims import create_app
from lims.actors import Actor
from lims.audit import keys
from lims.audit.models import HASHED_COLUMNS, LEGACY_KEY_ID, Action, AuditEvent, chain_hash
from lims.audit.services import record, verify_chain
from tests.factories import make_subject


def _lift_guard(session: Session) -> None:
    """What the owner of the table can do: switch off the append-only triggers."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    else:
        session.execute(text("DROP TRIGGER audit_events_no_update"))


def _rewrite_without_key(session: Session, from_id: int, *, key_id: str) -> None:
    """Edit one event, then re-hash it and every later one with plain SHA-256 (no key needed)."""
    _lift_guard(session)
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.id >= from_id).order_by(AuditEvent.id)
    ).all()
    prev_hash = events[0].prev_hash
    for event in events:
        row = {c: getattr(event, c) for c in HASHED_COLUMNS}
        if event.id == from_id:
            row["after_json"] = '{"sex": "male"}'
        row_hash = chain_hash({**row, "prev_hash": prev_hash}, None)
        session.execute(
            text(
                "UPDATE audit_events SET after_json = :after, prev_hash = :prev, "
                "row_hash = :hash, key_id = :key_id WHERE id = :id"
            ),
            {
                "after": row["after_json"],
                "prev": prev_hash,
                "hash": row_hash,
                "key_id": key_id,
                "id": event.id,
            },
        )
        prev_hash = row_hash
    session.expire_all()


def _second_subject_event(session: Session) -> int:
    make_subject(session)
    make_subject(session)
    make_subject(session)
    ids = session.scalars(
        select(AuditEvent.id)
        .where(AuditEvent.action == Action.SUBJECT_REGISTERED)
        .order_by(AuditEvent.id)
    ).all()
    return ids[1]


def test_new_events_are_keyed_with_the_current_key(session: Session, tech: Actor) -> None:
    event = record(session, tech, Action.SITE_CREATED, ("site", "X"), code="X")
    keyring = keys.active()

    assert event.key_id == keyring.current_id != LEGACY_KEY_ID
    assert event.row_hash == event.compute_hash(keyring.current) != event.compute_hash(None)


def test_a_rewrite_re_hashed_with_plain_sha256_is_caught(session: Session, tech: Actor) -> None:
    target = _second_subject_event(session)
    _rewrite_without_key(session, target, key_id=keys.active().current_id)

    report = verify_chain(session)

    assert report.first_broken_id == target
    assert report.problem == "its content does not match its hash"


def test_a_rewrite_passed_off_as_legacy_rows_is_caught(session: Session, tech: Actor) -> None:
    target = _second_subject_event(session)
    _rewrite_without_key(session, target, key_id=LEGACY_KEY_ID)

    report = verify_chain(session)

    assert report.first_broken_id == target
    assert report.problem == "it is hashed without a key after keyed events"


def test_a_whole_trail_re_hashed_as_legacy_is_caught(session: Session, tech: Actor) -> None:
    _second_subject_event(session)
    first = session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).first()
    assert first is not None
    _rewrite_without_key(session, first, key_id=LEGACY_KEY_ID)

    report = verify_chain(session)

    assert not report.is_intact
    assert report.problem == "no event is keyed: the trail was re-hashed"


def test_after_rotation_old_rows_verify_with_the_old_key_kept_in_the_keyring(
    session: Session, tech: Actor
) -> None:
    make_subject(session)
    current = keys.active()
    rotated = keys.Keyring((*current.keys, ("k-next", b"n" * 32)))
    forgotten = keys.Keyring((("k-next", b"n" * 32),))

    assert verify_chain(session, keyring=rotated).is_intact
    report = verify_chain(session, keyring=forgotten)
    assert report.problem == f"it is keyed with {current.current_id!r}, which the keyring lacks"


def test_the_keyring_comes_from_the_environment_newest_key_last(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIMS_AUDIT_KEY", f"k1:{'a' * 64},k2:{'b' * 64}")

    assert config.audit_keyring() == [("k1", "a" * 64), ("k2", "b" * 64)]
    assert keys.Keyring.of(config.audit_keyring()).current_id == "k2"


def test_the_keyring_file_is_read_when_no_key_is_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "keyring"
    path.write_text(f"# retired 2026-12-01, kept to verify\nold:{'c' * 40}\nnew:{'d' * 40}\n")
    monkeypatch.delenv("LIMS_AUDIT_KEY", raising=False)
    monkeypatch.setenv("LIMS_AUDIT_KEY_FILE", str(path))

    assert [key_id for key_id, _ in config.audit_keyring()] == ["old", "new"]


@pytest.mark.parametrize(
    "value", ["k1", f"k1:{'a' * 10}", f"sha256:{'a' * 64}", f"k1:{'a' * 64},k1:{'b' * 64}"]
)
def test_a_malformed_or_weak_key_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("LIMS_AUDIT_KEY", value)

    with pytest.raises(ValueError, match="LIMS_AUDIT_KEY"):
        config.audit_keyring()


def test_an_app_with_a_malformed_keyring_does_not_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIMS_AUDIT_KEY", "k1:too-short")
    keys.active.cache_clear()
    try:
        with pytest.raises(ValueError, match="at least 32 characters"):
            create_app({"TESTING": True, "SECRET_KEY": "test-only"})
    finally:
        monkeypatch.undo()
        keys.active.cache_clear()  # the next reader gets the configured keyring again
