"""Command-line groups: flask --app lims db|users|audit|demo ...; a feature's own group lives in
its cli.py (lims/auth/cli.py: users)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import current_app
from flask.cli import AppGroup

ROOT = Path(__file__).resolve().parent.parent

db_cli = AppGroup("db", help="The database schema (Alembic migrations).")
audit_cli = AppGroup("audit", help="The audit trail.")
demo_cli = AppGroup("demo", help="Demonstration data.")


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: head)."""
    command.upgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)
    click.echo(f"database at {revision}")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check the hash chain; exit 1 and name the first broken link if it does not hold."""
    from lims.audit.services import verify_chain
    from lims.db import get_session

    report = verify_chain(get_session())
    if report.is_intact:
        click.echo(f"audit chain intact: {report.events_checked} events verified")
        return
    click.echo(
        f"audit chain BROKEN at event {report.first_broken_id}: {report.problem} "
        f"({report.events_checked} events before it verified)",
        err=True,
    )
    sys.exit(1)


@demo_cli.command("load")
@click.option("--seed", default=20261125, show_default=True)
def demo_load(seed: int) -> None:
    """Load the demo data set into an empty database (does nothing otherwise)."""
    from lims import demo
    from lims.db import get_session

    loaded = demo.load(get_session(), seed=seed)
    if not loaded:
        click.echo("demo: the database already has users; nothing loaded")
        return
    click.echo(f"demo: loaded {loaded}")


def groups() -> list[AppGroup]:
    from lims.auth.cli import users_cli

    return [db_cli, users_cli, audit_cli, demo_cli]
