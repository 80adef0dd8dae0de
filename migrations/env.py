"""Alembic environment: the models' metadata, batch mode for SQLite, our engine settings."""

from __future__ import annotations

from alembic import context

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


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # ALTER TABLE on SQLite
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
