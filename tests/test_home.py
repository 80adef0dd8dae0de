"""The front page: counts for everyone, search and capacity for staff."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lims.actors import Actor
from tests.conftest import sign_in
from tests.storage.factories import stored


def test_the_front_page_shows_the_counts_to_an_investigator_without_capacity(
    client: FlaskClient, session: Session, tech: Actor, investigator: Actor
) -> None:
    stored(session, tech)
    sign_in(client, "investigator")

    page = client.get("/").get_data(as_text=True)

    assert '<div class="n">1</div><div class="l">aliquots in boxes</div>' in page
    assert '<div class="n">1</div><div class="l">freezers</div>' in page
    assert "Free positions" not in page and 'id="find-q"' not in page


def test_the_front_page_shows_staff_the_free_positions(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    stored(session, tech)
    sign_in(client, "tech")

    page = client.get("/").get_data(as_text=True)

    assert "Free positions" in page and "1% of 81" in page  # one tube in a 9x9 box
