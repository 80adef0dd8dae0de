"""Command-line groups: flask --app lims db|users|audit|demo ..."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import current_app
from flask.cli import AppGroup

from lims.actors import Actor, Role

ROOT = Path(__file__).resolve().parent.parent

db_cli = AppGroup("db", help="The database schema (Alembic migrations).")
users_cli = AppGroup("users", help="User accounts.")
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


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--site", "site_code", default=None, help="Site code, e.g. NA1")
@click.password_option(help="At least 10 characters (prompted when omitted)")
def users_create(username: str, role: str, site_code: str | None, password: str) -> None:
    """Add a user account."""
    from lims.auth.services import create_user
    from lims.db import get_session
    from lims.errors import LimsError

    try:
        user = create_user(
            get_session(),
            Actor.system("cli"),
            username=username,
            password=password,
            role=Role(role),
            site_code=site_code,
        )
    except LimsError as err:
        raise click.ClickException(err.detail) from err
    click.echo(f"created {user.username} ({user.role.value})")


@users_cli.command("set-password")
@click.argument("username")
@click.password_option(help="At least 10 characters (prompted when omitted)")
def users_set_password(username: str, password: str) -> None:
    """Give USERNAME a new password; their open sessions end."""
    from lims.auth.services import set_password
    from lims.db import get_session
    from lims.errors import LimsError

    try:
        user = set_password(
            get_session(), Actor.system("cli"), username=username, password=password
        )
    except LimsError as err:
        raise click.ClickException(err.detail) from err
    click.echo(f"new password set for {user.username}; their sessions have ended")


@users_cli.command("unlock")
@click.argument("username")
def users_unlock(username: str) -> None:
    """Forget USERNAME's failed sign-ins (for an administrator locked out of the web page)."""
    from lims.auth.services import unlock_user
    from lims.db import get_session
    from lims.errors import LimsError

    try:
        user = unlock_user(get_session(), Actor.system("cli"), username=username)
    except LimsError as err:
        raise click.ClickException(err.detail) from err
    click.echo(f"unlocked {user.username}")


@users_cli.command("deactivate")
@click.argument("username")
def users_deactivate(username: str) -> None:
    """Deactivate USERNAME: their sessions end and their API tokens are revoked."""
    from lims.auth.services import deactivate_user
    from lims.db import get_session
    from lims.errors import LimsError

    try:
        user = deactivate_user(get_session(), Actor.system("cli"), username=username)
    except LimsError as err:
        raise click.ClickException(err.detail) from err
    click.echo(f"deactivated {user.username}")


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
    return [db_cli, users_cli, audit_cli, demo_cli]
