"""The front page's view of storage: how many freezers and boxes, and how many tubes sit in them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.storage.models import Box, Freezer, Placement


@dataclass(frozen=True)
class StorageOverview:
    freezers: int
    boxes: int
    placed: int  # aliquots in a box, including held positions of checked-out ones


def storage_overview(session: Session, actor: Actor) -> StorageOverview:
    """Counts of freezers, boxes and placed aliquots; every signed-in role may see them."""
    return StorageOverview(
        freezers=session.scalar(select(func.count(Freezer.id))) or 0,
        boxes=session.scalar(select(func.count(Box.id))) or 0,
        placed=session.scalar(select(func.count(Placement.id))) or 0,
    )
