"""Command-line groups: flask --app lims db|users|audit|demo ...; a feature's own group lives in
its cli.py (lims/auth/cli.py: users; lims/audit/cli.py: audit)."""

from __future__ import annotations

from pathlib import Path

import click
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import text
from sqlalchemy.orm import Session

from lims.actors import Actor

ROOT = Path(__file__).resolve().parent.parent

db_cli = AppGroup("db", help="The database schema (Alembic migrations).")
demo_cli = AppGroup("demo", help="Demonstration data.")


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: head), then store LIMS_INSTALLATION."""
    command.upgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)
    click.echo(f"database at {revision}")
    if (number := current_app.config.get("INSTALLATION")) is not None and revision == "head":
        from lims.db import get_session
        from lims.errors import LimsError
        from lims.specimens.services import set_installation

        try:
            set_installation(get_session(), Actor.system("cli"), number=number)
        except LimsError as err:
            raise click.ClickException(err.detail) from err
        click.echo(f"installation number {number}")


@db_cli.command("grant-runtime-role")
@click.argument("role")
def db_grant_runtime_role(role: str) -> None:
    """Let ROLE run the application: read and write the tables, only append to the audit trail.

    Run as the owner of the tables (who ran the migrations), again after every upgrade that adds
    tables. PostgreSQL only; see docs/operations.md.
    """
    from lims.db import get_session

    session = get_session()
    if session.get_bind().dialect.name != "postgresql":
        raise click.ClickException("database roles exist on PostgreSQL only")
    try:
        statements = runtime_role_grants(session, role)
    except ValueError as err:
        raise click.ClickException(str(err)) from err
    for statement in statements:
        session.execute(text(statement))
    session.commit()
    click.echo(f"{role}: granted ({len(statements)} statements)")


# Written by the application only through audit.record / record_many; the migrations' own.
_APPEND_ONLY = {"audit_events": "SELECT, INSERT", "alembic_version": "SELECT"}


def runtime_role_grants(session: Session, role: str) -> list[str]:
    """The GRANTs for the runtime role on the tables and sequences of the current schema."""
    found = session.execute(
        text("SELECT rolsuper FROM pg_roles WHERE rolname = :r"), {"r": role}
    ).first()
    if found is None:
        raise ValueError(f"no role {role!r}; create it first (CREATE ROLE ... LOGIN)")
    if found.rolsuper:
        raise ValueError(f"{role} is a superuser: it could disable the audit trail's triggers")
    owners = session.execute(
        text("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = current_schema()")
    )
    tables: dict[str, str] = {row.tablename: row.tableowner for row in owners}
    owner = tables.get("audit_events")
    is_member = owner and session.scalar(
        text("SELECT pg_has_role(:r, :o, 'MEMBER')"), {"r": role, "o": owner}
    )
    if is_member:  # an owner, or a member of the owning role, may ALTER the table
        raise ValueError(f"{role} owns audit_events (or is in {owner}); it must not own the tables")
    quote = session.get_bind().dialect.identifier_preparer.quote
    who, schema = quote(role), quote(str(session.scalar(text("SELECT current_schema()"))))
    statements = [f"GRANT USAGE ON SCHEMA {schema} TO {who}"]
    for table in sorted(tables):
        privileges = _APPEND_ONLY.get(table, "SELECT, INSERT, UPDATE, DELETE")
        statements += [
            f"REVOKE ALL ON {quote(table)} FROM {who}",  # run again, it takes back what was more
            f"GRANT {privileges} ON {quote(table)} TO {who}",
        ]
    statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {who}")
    return statements


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


@demo_cli.command("generate")
# About 48 issued codes a subject (tubes and aliquots); 10-digit codes leave 100,000,000.
@click.option("--subjects", type=click.IntRange(1, 100_000), default=1000, show_default=True)
@click.option("--seed", default=20261201, show_default=True)
@click.option("--force", is_flag=True, help="Add to a database that already holds subjects.")
def demo_generate(subjects: int, seed: int, force: bool) -> None:
    """Generate a consortium-sized demo in bulk: N subjects give about 40 N aliquots."""
    import sys
    import time

    from lims import demo_scale
    from lims.db import get_session

    start = time.perf_counter()
    with click.progressbar(length=subjects, label="subjects", file=sys.stderr) as bar:
        try:
            done = demo_scale.generate(
                get_session(), subjects=subjects, seed=seed, force=force, progress=bar.update
            )
        except demo_scale.NotEmpty as err:
            raise click.ClickException(str(err)) from err
    click.echo(f"demo: generated {done.summary()} in {time.perf_counter() - start:.0f} s")


def groups() -> list[AppGroup]:
    from lims.audit.cli import audit_cli
    from lims.auth.cli import sites_cli, users_cli

    return [db_cli, users_cli, sites_cli, audit_cli, demo_cli]
