"""Migration 0011_consent3: existing aliquots learn what was drawn into them from their own
`aliquot.created` audit event, so volume used before the upgrade is not given back either."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.orm import Session

from lims.cli import alembic_config
from lims.db import make_engine
from lims.storage.services import use_aliquot
from tests.conftest import DatabaseMaker
from tests.factories import SYSTEM, make_aliquots


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_the_upgrade_reads_the_drawn_volume_from_the_audit_trail(
    databases: DatabaseMaker, dialect: str
) -> None:
    url = databases.url(dialect, "lims_drawn_upgrade")
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        used, untouched = make_aliquots(session, 2, volume_ul=250)
        use_aliquot(session, SYSTEM, barcode=used.barcode, volume_ul=100)
    command.downgrade(cfg, "0011_consent3-1")  # as the rows stood before the column existed
    command.upgrade(cfg, "0011_consent3")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT barcode, volume_ul, drawn_ul FROM aliquots"))
        found = {code: (volume, drawn) for code, volume, drawn in rows}
    engine.dispose()
    assert found == {used.barcode: (150, 250), untouched.barcode: (250, 250)}
