"""The migrations, run on an empty database, give exactly the models' schema, on both databases."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from lims.cli import alembic_config
from lims.db import Base, make_engine
from lims.models import import_all
from tests.conftest import DatabaseMaker


# SQLite cannot reflect an index on an expression (boxes' upper(name), PostgreSQL only).
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_migrations_on_an_empty_database_match_the_models(
    databases: DatabaseMaker, dialect: str
) -> None:
    url = databases.url(dialect, "lims_drift")
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    import_all()
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
        tables = set(inspect(conn).get_table_names())
    assert diff == []
    assert set(Base.metadata.tables) <= tables

    # The newest revision steps down and back up.
    head = ScriptDirectory.from_config(cfg).get_current_head()
    command.downgrade(cfg, "-1")
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head
    engine.dispose()
