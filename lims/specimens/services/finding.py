"""Subjects, visits, primary tubes and aliquots by the code people scan or type, and their codes
for the audit trail (the find box and the trail page read these, lims/find.py)."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import literal, null, or_, select, union_all
from sqlalchemy.orm import Session

from lims.actors import STAFF, Actor
from lims.audit.services import Named
from lims.specimens.consent_models import ConsentDocument, ConsentEvent
from lims.specimens.models import Aliquot, Specimen, Subject, Visit

# A visit as the bench names it: "NA1-0007 V2" (also typed "NA1-0007-V2" or "NA1-0007V2").
VISIT_CODE = re.compile(r"^(?P<subject>[A-Z0-9][A-Z0-9-]{0,19}?)[ -]?V(?P<number>[0-9]{1,4})$")


def find_records(session: Session, actor: Actor, code: str) -> list[Named]:
    """Every subject, visit, primary tube and aliquot whose code is exactly `code` (normalised).

    Staff only, as every page they lead to; an investigator sees none of these records.
    """
    actor.require(*STAFF)
    # Aliquots, tubes and subjects in one statement (UNION ALL): the find box is a bench's
    # every scan, and three round trips were most of it (docs/benchmarks.md). The aliquots'
    # select comes first, so the union's columns carry its types (the enums).
    rows: Sequence[Any] = session.execute(
        union_all(
            select(
                literal("aliquot"),
                Aliquot.id,
                Aliquot.barcode,
                Aliquot.specimen_type,
                Aliquot.status,
            ).where(Aliquot.barcode == code),
            select(
                literal("specimen"), Specimen.id, Specimen.barcode, Specimen.specimen_type, null()
            ).where(Specimen.barcode == code),
            select(literal("subject"), Subject.id, Subject.study_code, null(), null()).where(
                or_(Subject.study_code == code, Subject.ninds_guid == code)
            ),
        )
    ).all()
    by_kind = {
        kind: [r for r in rows if r[0] == kind] for kind in ("subject", "specimen", "aliquot")
    }
    found: list[Named] = []
    for _, subject_id, study_code, _, _ in by_kind["subject"]:
        detail = "subject" if study_code == code else f"subject with NINDS GUID {code}"
        found.append(Named("subject", subject_id, study_code, detail, {"study_code": study_code}))
    if match := VISIT_CODE.match(code):
        found += _visits(session, match["subject"], int(match["number"]))
    for _, tube_id, barcode, kind, _ in by_kind["specimen"]:
        found.append(
            Named("specimen", tube_id, barcode, f"{kind.value} tube", {"barcode": barcode})
        )
    for _, aliquot_id, barcode, kind, status in by_kind["aliquot"]:
        detail = f"{kind.value} aliquot, {status.value.replace('_', ' ')}"
        found.append(Named("aliquot", aliquot_id, barcode, detail, {"barcode": barcode}))
    return found


def _visits(session: Session, study_code: str, number: int) -> list[Named]:
    stmt = (
        select(Visit.id, Subject.study_code, Visit.visit_number, Visit.visit_on)
        .join(Subject, Visit.subject_id == Subject.id)
        .where(Subject.study_code == study_code, Visit.visit_number == number)
    )
    return [
        Named(
            "visit",
            visit_id,
            f"{code} V{n}",
            f"visit on {on}",
            {"study_code": code, "visit_number": n},
        )
        for visit_id, code, n, on in session.execute(stmt)
    ]


def record_codes(session: Session, refs: Collection[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The codes of the subjects, visits, tubes, aliquots and consent records among `refs`:
    one query per type, whatever the number of rows (the audit page names 50 at once)."""
    ids: dict[str, set[int]] = {}
    for kind, object_id in refs:
        if object_id.isdigit():
            ids.setdefault(kind, set()).add(int(object_id))
    queries = {
        "subject": select(Subject.id, Subject.study_code),
        "specimen": select(Specimen.id, Specimen.barcode),
        "aliquot": select(Aliquot.id, Aliquot.barcode),
        "consent_event": select(ConsentEvent.id, Subject.study_code).join(
            Subject, ConsentEvent.subject_id == Subject.id
        ),
    }
    found: dict[tuple[str, str], str] = {}
    for kind, stmt in queries.items():
        if wanted := ids.get(kind):
            model_id = stmt.selected_columns[0]
            for row_id, code in session.execute(stmt.where(model_id.in_(wanted))):
                found[kind, str(row_id)] = code
    if wanted := ids.get("visit"):
        visits = (
            select(Visit.id, Subject.study_code, Visit.visit_number)
            .join(Subject, Visit.subject_id == Subject.id)
            .where(Visit.id.in_(wanted))
        )
        for visit_id, code, n in session.execute(visits):
            found["visit", str(visit_id)] = f"{code} V{n}"
    if wanted := ids.get("consent_document"):
        for document in session.scalars(
            select(ConsentDocument).where(ConsentDocument.id.in_(wanted))
        ):
            found["consent_document", str(document.id)] = document.label
    return found
