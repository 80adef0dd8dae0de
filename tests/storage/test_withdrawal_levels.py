"""Every withdrawal level shows on the box map, the box's list, the aliquot and tube pages and the
API, with what it means for the tube (issue 15): no further contact (use goes on), no further
access (keep, do not use), no further use (dispose)."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.specimens.consent_models import WithdrawalLevel
from lims.specimens.services import withdrawal_levels
from lims.storage.services import box_grid
from tests.conftest import bearer, sign_in
from tests.storage.factories import box_with_each_level

LEVELS = list(WithdrawalLevel)


def test_the_box_map_carries_each_subjects_strongest_withdrawal(
    session: Session, tech: Actor
) -> None:
    box, tubes = box_with_each_level(session, tech)
    cells = box_grid(session, tech, box.id).cells[0][:4]
    assert [c.withdrawal for c in cells if c] == [None, *LEVELS]
    assert [c.consent_withdrawn for c in cells if c] == [False, False, False, True]
    # A milder withdrawal after a stronger one does not weaken it.
    ids = [t.subject.id for t in tubes]
    assert withdrawal_levels(session, ids) == dict(zip(ids[1:], LEVELS, strict=True))


def test_the_box_page_marks_each_level_and_says_what_it_means_for_the_tube(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    box, tubes = box_with_each_level(session, tech)
    sign_in(client, "tech")
    html = client.get(f"/storage/boxes/{box.id}").get_data(as_text=True)
    for level in LEVELS:
        assert f"w-{level.value}" in html and f"withdrawn: {level.label}" in html
        assert level.for_tube in html
    api = client.get(f"/api/v1/boxes/{box.id}", headers=bearer(client, "tech")).get_json()
    by_code = {p["barcode"]: p["withdrawal_level"] for p in api["positions"]}
    assert [by_code[t.barcode] for t in tubes] == [None, *(lv.value for lv in LEVELS)]


def test_the_aliquot_and_tube_pages_name_the_level_and_what_it_means(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    _, tubes = box_with_each_level(session, tech)
    sign_in(client, "tech")
    plain = client.get(f"/aliquots/{tubes[0].barcode}").get_data(as_text=True)
    assert "Consent withdrawn" not in plain
    for tube, level in zip(tubes[1:], LEVELS, strict=True):
        page = client.get(f"/aliquots/{tube.barcode}").get_data(as_text=True)
        assert f"Consent withdrawn ({level.label})" in page and level.for_tube in page
        tube_page = client.get(f"/specimens/{tube.specimen.barcode}").get_data(as_text=True)
        assert f"has withdrawn consent ({level.label})" in tube_page
