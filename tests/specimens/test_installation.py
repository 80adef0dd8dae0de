"""The installation's number: set once, carried by every tube code issued after, and kept
by the upgrade for a database from before numbering (its codes are installation 0's)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.orm import Session

from lims import create_app
from lims.actors import Actor
from lims.audit.services import events_for
from lims.cli import alembic_config
from lims.db import make_engine
from lims.errors import Conflict, Forbidden, InvalidInput
from lims.specimens import barcodes
from lims.specimens.models import Installation
from lims.specimens.services import find_aliquot, installation_number, set_installation
from tests.conftest import DatabaseMaker
from tests.factories import SYSTEM, make_aliquot, make_aliquots


def test_a_new_installation_takes_its_number_before_issuing_and_its_codes_carry_it(
    session: Session,
) -> None:
    set_installation(session, SYSTEM, number=6)

    made = make_aliquots(session, 2)

    assert {barcodes.installation_of(a.barcode) for a in made} == {6}
    assert [str(e.action) for e in events_for(session, session.get(Installation, 1))] == [
        "installation.numbered"
    ]


def test_codes_issued_as_0_stay_ours_when_the_installation_leaves_0_once(
    session: Session, tech: Actor
) -> None:
    before = make_aliquot(session)  # its tube and it issued as 0, as before numbering
    assert barcodes.installation_of(before.barcode) == 0

    set_installation(session, SYSTEM, number=4)
    after = make_aliquot(session)

    assert barcodes.installation_of(after.barcode) == 4
    assert find_aliquot(session, tech, before.barcode) is before
    with pytest.raises(Conflict, match="is number 4 and has issued 2 tube codes"):
        set_installation(session, SYSTEM, number=0)
    assert installation_number(session) == 4


def test_only_an_administrator_numbers_the_installation_and_only_with_one_digit(
    session: Session, tech: Actor
) -> None:
    with pytest.raises(Forbidden):
        set_installation(session, tech, number=2)
    with pytest.raises(InvalidInput, match="one digit, 0-9, not 12"):
        set_installation(session, SYSTEM, number=12)


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_the_upgrade_makes_a_database_from_before_numbering_installation_0(
    databases: DatabaseMaker, dialect: str
) -> None:
    url = databases.url(dialect, "lims_numbering_upgrade")
    cfg = alembic_config(url)
    command.upgrade(cfg, "0015_requests")
    engine = make_engine(url)
    with engine.begin() as conn:  # 123 tube codes issued the old way: 7-digit serial + Damm
        conn.execute(
            text("INSERT INTO barcode_counters (name, next_value) VALUES ('aliquot', 124)")
        )
    command.upgrade(cfg, "head")
    with Session(engine) as session:
        number = installation_number(session)
    engine.dispose()
    old_code = "0000123" + barcodes.damm_digit("0000123")

    assert number == 0 and barcodes.aliquot_barcode(123, installation=0) == old_code


def test_db_upgrade_stores_lims_installation_and_refuses_to_change_it_under_issued_codes(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'lims.sqlite3'}"
    settings = {"TESTING": True, "SECRET_KEY": "test-only", "DATABASE_URL": url}
    app = create_app({**settings, "INSTALLATION": 3})

    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    with Session(app.extensions["lims_engine"]) as session:
        make_aliquot(session)  # two codes carrying 3: the primary tube's and the aliquot's
    again = create_app({**settings, "INSTALLATION": 5}).test_cli_runner()
    refused = again.invoke(args=["db", "upgrade"])

    assert result.exit_code == 0 and "installation number 3" in result.output
    assert refused.exit_code == 1
    assert "is number 3 and has issued 2 tube codes" in refused.output
