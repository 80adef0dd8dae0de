"""The aliquot list at scale: keyset pages and a total counted only up to a limit (issue #20)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.storage.services import AliquotFilter, TotalKind, list_aliquots
from tests.factories import make_box
from tests.storage.factories import stored


def test_past_the_limit_the_total_is_an_estimate_or_a_lower_bound(
    session: Session, tech: Actor
) -> None:
    box = make_box(session)
    for _ in range(3):
        stored(session, tech, box=box)
    only_box = AliquotFilter(box=box.barcode)

    bounded = list_aliquots(session, tech, filters=only_box, per_page=1, count_up_to=2)
    exact = list_aliquots(session, tech, filters=only_box, per_page=1, count_up_to=3)

    assert bounded.total_kind in (TotalKind.MORE_THAN, TotalKind.ESTIMATE)
    assert bounded.total >= 2 if bounded.total_kind is TotalKind.ESTIMATE else bounded.total == 2
    assert (exact.total, exact.total_kind) == (3, TotalKind.EXACT)


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
