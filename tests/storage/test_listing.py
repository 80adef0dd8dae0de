"""The aliquot list at scale: keyset pages and a total counted only up to a limit (issue #20)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.storage.services import AliquotFilter, list_aliquots
from tests.factories import make_box
from tests.storage.factories import stored


def test_the_total_stops_counting_at_the_limit_and_says_it_is_not_exact(
    session: Session, tech: Actor
) -> None:
    box = make_box(session)
    for _ in range(3):
        stored(session, tech, box=box)
    only_box = AliquotFilter(box=box.barcode)

    bounded = list_aliquots(session, tech, filters=only_box, per_page=1, count_up_to=2)
    exact = list_aliquots(session, tech, filters=only_box, per_page=1, count_up_to=3)

    assert (bounded.total, bounded.total_is_exact) == (2, False)
    assert (exact.total, exact.total_is_exact) == (3, True)


def test_keyset_pages_walk_forward_and_back_over_every_match_once(
    session: Session, tech: Actor
) -> None:
    box = make_box(session)
    tubes = [stored(session, tech, box=box).barcode for _ in range(5)]
    only_box = AliquotFilter(box=box.barcode)

    pages, after = [], None
    while True:
        page = list_aliquots(session, tech, filters=only_box, per_page=2, after=after)
        pages.append([r.barcode for r in page.rows])
        if page.next_after is None:
            break
        after = page.next_after
    back = list_aliquots(session, tech, filters=only_box, per_page=2, before=page.prev_before)

    assert pages == [tubes[0:2], tubes[2:4], tubes[4:5]]
    assert [r.barcode for r in back.rows] == tubes[2:4] and back.next_after is not None
