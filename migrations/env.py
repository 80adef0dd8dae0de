"""Alembic environment: the models' metadata, batch mode for SQLite, our engine settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import config as lims_config
from lims.db import Base, make_engine
from lims.models import import_all

import_all()
target_metadata = Base.metadata
cfg = context.config


def run_migrations_online() -> None:
    connection = cfg.attributes.get("connection")
    if connection is not None:  # tests hand in their own connection
        _run(connection)
        return
    url = cfg.get_main_option("sqlalchemy.url") or lims_config.database_url()
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Write our UTCDateTime as a plain timezone-aware DateTime: migrations must not import lims."""
    if type_ == "type" and obj.__class__.__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    # SQLite rebuilds a table to alter it (batch mode), and DROP TABLE of a table other rows point
    # at fails while foreign keys are enforced. SQLite's own procedure for altering tables
    # (https://sqlite.org/lang_altertable.html#otheralter): foreign keys off, outside any
    # transaction, then PRAGMA foreign_key_check before they go back on.
    sqlite = connection.dialect.name == "sqlite" and not connection.in_transaction()
    if sqlite:
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
    try:
        _migrate(connection)
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            connection.commit()
            if broken:
                raise RuntimeError(f"the migration left rows pointing nowhere: {broken[:5]}")
    finally:
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # ALTER TABLE on SQLite
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
