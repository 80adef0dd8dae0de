"""Backup and restore on PostgreSQL as docs/operations.md describes them: pg_dump -Fc, then
pg_restore into a fresh database; the restored trail verifies, and a checkpoint taken after the
backup shows that it is behind."""

from __future__ import annotations

import subprocess
from pathlib import Path

from alembic import command
from sqlalchemy import make_url
from sqlalchemy.orm import Session

from lims import create_app
from lims.actors import Actor
from lims.audit.models import Action
from lims.audit.services import record, take_checkpoint
from lims.cli import alembic_config
from lims.db import make_engine
from tests.conftest import DatabaseMaker
from tests.databases import pg_command


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _add_sites(url: str, *codes: str) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        for code in codes:
            record(session, Actor.system("cli"), Action.SITE_CREATED, ("site", code), code=code)
        session.commit()
    engine.dispose()


def _checkpoint(url: str, path: Path) -> Path:
    engine = make_engine(url)
    with Session(engine) as session:
        path.write_text(take_checkpoint(session).to_json())
    engine.dispose()
    return path


def _verify(url: str, checkpoint: Path) -> tuple[int, str]:
    app = create_app({"TESTING": True, "SECRET_KEY": "test-only", "DATABASE_URL": url})
    result = app.test_cli_runner().invoke(
        args=["audit", "verify", "--since-checkpoint", str(checkpoint)]
    )
    app.extensions["lims_engine"].dispose()
    return result.exit_code, result.output


def test_a_restored_backup_verifies_and_is_shown_behind_a_later_checkpoint(
    databases: DatabaseMaker, tmp_path: Path
) -> None:
    live = databases.url("postgresql", "lims_backup")
    command.upgrade(alembic_config(live), "head")
    _add_sites(live, "A", "B")
    before = _checkpoint(live, tmp_path / "before.json")
    dump = subprocess.run(
        [*pg_command("pg_dump"), "-Fc", "-d", _libpq(live)], capture_output=True, check=True
    ).stdout
    _add_sites(live, "C")
    after = _checkpoint(live, tmp_path / "after.json")

    restored = databases.url("postgresql", "lims_restored")
    subprocess.run(
        [*pg_command("pg_restore"), "--exit-on-error", "-d", _libpq(restored)],
        input=dump,
        capture_output=True,
        check=True,
    )

    assert _verify(live, after)[0] == 0
    code, output = _verify(restored, before)
    assert code == 0, output
    code, output = _verify(restored, after)
    assert code == 1
    assert "audit chain intact" in output
    assert "NOT matched: the trail is behind the checkpoint" in output
