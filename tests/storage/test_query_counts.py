"""The hot requests send a fixed number of statements, whatever the box holds (issue 20): a lazy
load that creeps back (an N+1 per cell, per tube's origin, per rack) raises these numbers.

What each count is made of, so a change that adds one says which it added:
- the aliquot lookup (GET /api/v1/aliquots/<barcode>): the token with its user; the aliquot with
  its tube, visit, subject, site, parent and placement with box, rack and freezer; the phenotype
  summary's diagnoses with scale administrations (one statement), and treatments: 4;
- the box page: the signed-in user; the box with its rack and freezer; the grid with each
  subject's withdrawals; the racks for the move form; the unread notifications: 5.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.specimens.consent_models import WithdrawalLevel
from lims.specimens.services import sub_aliquot
from lims.storage.services import store_aliquot
from tests.conftest import bearer, sign_in
from tests.factories import make_aliquot
from tests.storage.factories import box_with_each_level

LOOKUP_STATEMENTS = 4
BOX_PAGE_STATEMENTS = 5


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    """The SQL statements sent on the test's connection meanwhile (not the savepoints the test
    harness wraps each commit in), starting from an empty session, as a request in production
    does (the tests' app shares the test's session, which still holds the rows set up)."""
    session.expunge_all()
    sent: list[str] = []
    connection = session.connection()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            sent.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(connection, "before_cursor_execute", count)


def _full_box(session: Session, tech: Actor) -> tuple[int, str]:
    """A box of several subjects' tubes, each subject at a withdrawal level (and one not), and a
    DNA sub-aliquot stored beside its stock; returns the box id and the sub-aliquot's barcode."""
    box, _ = box_with_each_level(session, tech)
    stock = make_aliquot(session, volume_ul=500)
    store_aliquot(session, tech, barcode=stock.barcode, box_id=box.id, position="B1")
    (child,) = sub_aliquot(session, tech, parent_barcode=stock.barcode, count=1, volume_ul=50)
    store_aliquot(session, tech, barcode=child.barcode, box_id=box.id, position="B2")
    return box.id, child.barcode


def test_an_aliquot_lookup_sends_four_statements(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    _, barcode = _full_box(session, tech)
    auth = bearer(client, "tech")
    client.get(f"/api/v1/aliquots/{barcode}", headers=auth)  # warm: templates, statement caches

    with statements(session) as sent:
        response = client.get(f"/api/v1/aliquots/{barcode}", headers=auth)

    body = response.get_json()
    assert response.status_code == 200 and body["parent_barcode"] and body["location"]["rack"]
    assert len(sent) == LOOKUP_STATEMENTS, "\n".join(sent)


def test_the_box_page_sends_five_statements_whatever_the_box_holds(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    box_id, _ = _full_box(session, tech)
    sign_in(client, "tech")
    client.get(f"/storage/boxes/{box_id}")

    with statements(session) as sent:
        response = client.get(f"/storage/boxes/{box_id}")

    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.count("data-barcode=") == 6
    assert all(f"w-{level.value}" in html for level in WithdrawalLevel)
    assert len(sent) == BOX_PAGE_STATEMENTS, "\n".join(sent)
