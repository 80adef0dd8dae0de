"""Counts read as the lab says them: "1 problem", "2 problems", one helper for every message."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.errors import InvalidInput, plural
from lims.specimens.models import SpecimenType
from lims.specimens.services.common import take_barcodes
from tests.conftest import csrf_token, sign_in
from tests.factories import make_aliquots, make_specimen


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 boxes"), (1, "1 box"), (2, "2 boxes"), (1204, "1,204 boxes")],
)
def test_a_count_takes_the_singular_only_for_one(count: int, expected: str) -> None:
    assert plural(count, "box", "boxes") == expected


def test_a_message_about_one_thing_says_it_in_the_singular(session: Session) -> None:
    with pytest.raises(InvalidInput, match=r"^1 barcode scanned for 2 tubes$"):
        take_barcodes(session, ["NA1-T-900001"], 2)


def test_one_sub_aliquot_is_announced_as_one(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tube = make_specimen(session)
    stock = make_aliquots(session, 1, specimen=tube, specimen_type=SpecimenType.DNA)[0]
    sign_in(client, "tech")
    page = f"/specimens/{tube.barcode}"

    response = client.post(
        f"{page}/sub-aliquots",
        data={"parent_barcode": stock.barcode, "count": 1, "volume_ul": 20,
              "csrf_token": csrf_token(client, page)},
        follow_redirects=True,
    )  # fmt: skip

    text = response.get_data(as_text=True)
    assert "1 sub-aliquot" in text and "1 sub-aliquots" not in text
