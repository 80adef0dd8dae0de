"""A NINDS GUID and a tube's notes recorded after the fact, each change an audit event."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.services import events_for
from lims.errors import Conflict, Forbidden, InvalidInput
from lims.specimens.models import Dystonia, Sex, SpecimenType, TubeType
from lims.specimens.services import (
    PreAnalytics,
    accession_specimen,
    register_subject,
    set_ninds_guid,
    set_tube_notes,
)
from tests.conftest import csrf_token, sign_in
from tests.factories import COLLECTED_AT, make_site, make_specimen, make_subject, make_visit


def _last(session: Session, obj: object) -> tuple[str, dict | None, dict | None, str | None]:  # type: ignore[type-arg]
    event = events_for(session, obj)[-1]
    return str(event.action), event.before, event.after, event.reason


def test_registration_and_accession_record_the_guid_and_the_notes(
    session: Session, tech: Actor
) -> None:
    make_site(session)
    subject = register_subject(
        session, tech, study_code="NA1-8001", site_code="NA1", sex=Sex.FEMALE,
        primary_diagnosis=Dystonia.CERVICAL, ninds_guid="NIHAB123CDE",
    )  # fmt: skip
    make_visit(session, subject)
    tube = accession_specimen(
        session, tech, study_code="NA1-8001", visit_number=1,
        specimen_type=SpecimenType.WHOLE_BLOOD, tube_type=TubeType.PED,
        pre=PreAnalytics(collected_at=COLLECTED_AT), notes="drawn late, patient fasting",
    )  # fmt: skip

    assert events_for(session, subject)[0].after["ninds_guid"] == "NIHAB123CDE"  # type: ignore[index]
    assert events_for(session, tube)[0].after["notes"] == "drawn late, patient fasting"  # type: ignore[index]


def test_a_first_guid_needs_no_reason_and_a_correction_does(session: Session, tech: Actor) -> None:
    subject = make_subject(session)

    set_ninds_guid(session, tech, study_code=subject.study_code, ninds_guid=" nihab123cde ")
    first = _last(session, subject)
    with pytest.raises(InvalidInput, match="Say why") as refused:
        set_ninds_guid(session, tech, study_code=subject.study_code, ninds_guid="NIHXY987ZZZ")
    set_ninds_guid(
        session, tech, study_code=subject.study_code, ninds_guid="NIHXY987ZZZ",
        reason="typo in the GUID tool's printout",
    )  # fmt: skip

    assert first == (
        "subject.ninds_guid_changed",
        {"ninds_guid": None},
        {"ninds_guid": "NIHAB123CDE"},
        None,
    )
    assert refused.value.field_errors == {"reason": "Say why the recorded value is changed"}
    assert _last(session, subject) == (
        "subject.ninds_guid_changed",
        {"ninds_guid": "NIHAB123CDE"},
        {"ninds_guid": "NIHXY987ZZZ"},
        "typo in the GUID tool's printout",
    )
    assert subject.ninds_guid == "NIHXY987ZZZ"


def test_a_guid_another_subject_holds_is_refused_naming_them(session: Session, tech: Actor) -> None:
    first, second = make_subject(session), make_subject(session)
    set_ninds_guid(session, tech, study_code=first.study_code, ninds_guid="NIHAB123CDE")

    with pytest.raises(Conflict, match=f"already {first.study_code}'s"):
        set_ninds_guid(session, tech, study_code=second.study_code, ninds_guid="NIHAB123CDE")
    assert second.ninds_guid is None


def test_tube_notes_are_written_and_corrected_with_their_history(
    session: Session, tech: Actor
) -> None:
    tube = make_specimen(session)

    set_tube_notes(session, tech, barcode=tube.barcode, notes="haemolysed on arrival")
    with pytest.raises(InvalidInput, match="nothing changed"):
        set_tube_notes(session, tech, barcode=tube.barcode, notes="haemolysed on arrival ")
    set_tube_notes(session, tech, barcode=tube.barcode, notes=None, reason="wrong tube")

    assert [e.after for e in events_for(session, tube)[1:]] == [
        {"notes": "haemolysed on arrival"},
        {"notes": None},
    ]
    assert tube.notes is None


def test_a_reviewer_may_not_change_them(session: Session, reviewer: Actor) -> None:
    tube = make_specimen(session)

    with pytest.raises(Forbidden):
        set_tube_notes(session, reviewer, barcode=tube.barcode, notes="x")
    with pytest.raises(Forbidden):
        set_ninds_guid(session, reviewer, study_code=tube.visit.subject.study_code, ninds_guid="N1")


def test_the_pages_record_a_guid_and_notes(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tube = make_specimen(session)
    code = tube.visit.subject.study_code
    sign_in(client, "tech")

    guid = client.post(
        f"/subjects/{code}/ninds-guid",
        data={"ninds_guid": "NIHAB123CDE", "csrf_token": csrf_token(client, f"/subjects/{code}")},
    )
    notes = client.post(
        f"/specimens/{tube.barcode}/notes",
        data={"notes": "clotted", "csrf_token": csrf_token(client, f"/specimens/{tube.barcode}")},
    )
    refused = client.post(
        f"/specimens/{tube.barcode}/notes",
        data={"notes": "", "csrf_token": csrf_token(client, f"/specimens/{tube.barcode}")},
    )

    assert guid.status_code == 302 and notes.status_code == 302
    assert "NIHAB123CDE" in client.get(f"/subjects/{code}").get_data(as_text=True)
    assert refused.status_code == 422
    assert "Say why the recorded value is changed" in refused.get_data(as_text=True)
