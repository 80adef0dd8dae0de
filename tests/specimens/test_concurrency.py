"""Benches drawing from one stock at the same moment, with real concurrent connections (issue
#14: 20 draws of 2 x 100 µL from a 1,000 µL DNA stock once made 3,600-3,800 µL of sub-aliquots).

These tests commit for real, so they use their own database per dialect.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.audit.services import events_for, verify_chain
from lims.specimens.models import Aliquot, SpecimenType
from lims.specimens.services import aliquot_specimen, sub_aliquot
from tests.conftest import DatabaseMaker
from tests.factories import make_user
from tests.races import BENCHES, race, race_database
from tests.specimens.factories import make_dna_stock


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def benches(
    request: pytest.FixtureRequest, databases: DatabaseMaker
) -> Iterator[sessionmaker[Session]]:
    engine = race_database(databases, request.param, "lims_specimens_race")
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()


def _stock(benches: sessionmaker[Session], volume_ul: int) -> tuple[Actor, str, str]:
    with benches() as setup:
        tech = Actor.of(make_user(setup, "race-tech", Role.TECHNICIAN))
        stock = make_dna_stock(setup, volume_ul=volume_ul)
        return tech, stock.barcode, stock.specimen.barcode


def _drawn(benches: sessionmaker[Session], stock_code: str) -> tuple[int, int, int]:
    """The stock's volume left, the total volume of its sub-aliquots, and its draw events."""
    with benches() as check:
        stock = check.scalars(select(Aliquot).where(Aliquot.barcode == stock_code)).one()
        made = check.scalar(select(func.sum(Aliquot.volume_ul)).where(Aliquot.parent == stock))
        draws = [e for e in events_for(check, stock) if e.action == Action.ALIQUOT_SUB_ALIQUOTED]
        assert verify_chain(check).is_intact
        return stock.volume_ul, made or 0, len(draws)


def test_twenty_simultaneous_draws_from_one_stock_never_make_more_than_it_held(
    benches: sessionmaker[Session],
) -> None:
    tech, stock, _ = _stock(benches, volume_ul=1000)

    outcomes = race(
        benches, lambda s, _: sub_aliquot(s, tech, parent_barcode=stock, count=2, volume_ul=100)
    )

    # 1,000 µL gives five draws of 2 x 100 µL; the other fifteen are told what is left.
    assert (len(outcomes.results), len(outcomes.conflicts)) == (5, BENCHES - 5), outcomes
    assert all("holds 0 µL" in e.detail for e in outcomes.conflicts)
    left, made, draws = _drawn(benches, stock)
    assert (left, made, draws) == (0, 1000, 5)


def test_simultaneous_splits_of_a_stock_through_its_tube_add_up_too(
    benches: sessionmaker[Session],
) -> None:
    tech, stock, tube = _stock(benches, volume_ul=1000)

    outcomes = race(
        benches,
        lambda s, _: aliquot_specimen(
            s,
            tech,
            specimen_barcode=tube,
            specimen_type=SpecimenType.DNA,
            count=3,
            volume_ul=50,
            parent_barcode=stock,
        ),
    )

    # 1,000 µL gives six draws of 3 x 50 µL, and 100 µL stays in the stock.
    assert (len(outcomes.results), len(outcomes.conflicts)) == (6, BENCHES - 6), outcomes
    left, made, draws = _drawn(benches, stock)
    assert (left, made, draws) == (100, 900, 6)
