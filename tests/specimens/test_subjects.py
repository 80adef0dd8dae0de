from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.models import Action
from lims.audit.services import events_for
from lims.errors import Conflict, Forbidden, InvalidInput, NotFound
from lims.specimens.models import Dystonia, EnrolmentStatus, Sex, SpecimenType, Subject
from lims.specimens.services import (
    accession_specimen,
    aliquot_specimen,
    list_sites,
    list_subjects,
    register_subject,
    register_visit,
    withdraw_consent,
)
from tests.factories import make_aliquots, make_site, make_specimen, make_subject, make_visit
from tests.specimens.factories import worked_example

WITHDRAWN_AT = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


def _register(session: Session, actor: Actor, code: str = "na1-0100") -> Subject:
    make_site(session)
    return register_subject(
        session,
        actor,
        study_code=code,
        site_code="na1",
        sex=Sex.MALE,
        primary_diagnosis=Dystonia.LARYNGEAL,
    )


def test_a_technician_registers_a_subject_under_an_upper_case_code(
    session: Session, tech: Actor
) -> None:
    subject = _register(session, tech)
    assert subject.study_code == "NA1-0100"
    assert [e.action for e in events_for(session, subject)] == [Action.SUBJECT_REGISTERED]


def test_a_study_code_is_registered_once(session: Session, tech: Actor) -> None:
    _register(session, tech)
    with pytest.raises(Conflict, match="already registered"):
        _register(session, tech, "NA1-0100")


def test_an_unknown_site_is_refused_by_name(session: Session, tech: Actor) -> None:
    with pytest.raises(InvalidInput, match="Site XX9 does not exist") as err:
        register_subject(
            session,
            tech,
            study_code="XX9-1",
            site_code="XX9",
            sex=Sex.FEMALE,
            primary_diagnosis=Dystonia.CERVICAL,
        )
    assert err.value.field_errors == {"site_code": "Site XX9 does not exist"}


def test_an_investigator_may_not_register_subjects(session: Session, investigator: Actor) -> None:
    with pytest.raises(Forbidden):
        _register(session, investigator)


def test_a_visit_number_is_used_once_per_subject(session: Session, tech: Actor) -> None:
    subject = make_subject(session)
    register_visit(
        session, tech, study_code=subject.study_code, visit_number=1, visit_on=date(2026, 3, 1)
    )
    with pytest.raises(Conflict, match="already has visit 1"):
        register_visit(
            session, tech, study_code=subject.study_code, visit_number=1, visit_on=date(2026, 4, 1)
        )


def test_a_reviewer_may_read_but_not_register_visits(session: Session, reviewer: Actor) -> None:
    subject = make_subject(session)
    with pytest.raises(Forbidden):
        register_visit(
            session, reviewer, study_code=subject.study_code, visit_number=1, visit_on=date.today()
        )
    rows, total = list_subjects(session, reviewer)
    assert total == 1 and rows[0].subject == subject


def test_the_subject_list_filters_pages_and_counts(session: Session, tech: Actor) -> None:
    first = make_subject(session, study_code="NA1-0001")
    make_subject(session, study_code="EU1-0002", site="EU1", diagnosis=Dystonia.LIMB)
    make_subject(session, study_code="NA1-0003", diagnosis=Dystonia.LIMB)
    make_aliquots(session, 3, specimen=make_specimen(session, make_visit(session, first)))

    rows, total = list_subjects(session, tech, site_code="na1", per_page=1, page=1)
    assert total == 2 and [r.subject.study_code for r in rows] == ["NA1-0001"]
    assert (rows[0].visits, rows[0].aliquots) == (1, 3)
    limb, _ = list_subjects(session, tech, diagnosis=Dystonia.LIMB)
    assert [r.subject.study_code for r in limb] == ["EU1-0002", "NA1-0003"]
    withdrawn, total = list_subjects(
        session, tech, enrolment_status=EnrolmentStatus.CONSENT_WITHDRAWN
    )
    assert (withdrawn, total) == ([], 0)


def test_an_investigator_may_not_list_subjects(session: Session, investigator: Actor) -> None:
    with pytest.raises(Forbidden):
        list_subjects(session, investigator)


def test_withdrawing_consent_flags_every_aliquot_and_audits_reason_and_count(
    session: Session, tech: Actor
) -> None:
    subject = make_subject(session)
    aliquots = make_aliquots(
        session, 4, specimen=make_specimen(session, make_visit(session, subject))
    )

    result = withdraw_consent(
        session, tech, study_code=subject.study_code, withdrawn_at=WITHDRAWN_AT, reason="letter"
    )

    assert result.aliquots_affected == 4
    assert subject.enrolment_status is EnrolmentStatus.CONSENT_WITHDRAWN
    assert subject.consent_withdrawn_at == WITHDRAWN_AT
    assert all(not a.subject.has_consent for a in aliquots)
    event = events_for(session, subject)[-1]
    assert event.action == Action.SUBJECT_CONSENT_WITHDRAWN and event.reason == "letter"
    assert event.after is not None and event.after["aliquots_affected"] == 4


def test_consent_is_withdrawn_once(session: Session, tech: Actor, admin: Actor) -> None:
    subject = make_subject(session)
    withdraw_consent(
        session, admin, study_code=subject.study_code, withdrawn_at=WITHDRAWN_AT, reason="call"
    )
    with pytest.raises(Conflict, match="already withdrew consent on 2026-11-02"):
        withdraw_consent(
            session, tech, study_code=subject.study_code, withdrawn_at=WITHDRAWN_AT, reason="again"
        )
    assert len(events_for(session, subject)) == 2


def test_a_reviewer_may_not_record_a_withdrawal(session: Session, reviewer: Actor) -> None:
    subject = make_subject(session)
    with pytest.raises(Forbidden):
        withdraw_consent(
            session, reviewer, study_code=subject.study_code, withdrawn_at=WITHDRAWN_AT, reason="x"
        )
    assert subject.has_consent


def test_a_withdrawal_needs_a_reason_and_a_known_subject(session: Session, tech: Actor) -> None:
    subject = make_subject(session)
    with pytest.raises(InvalidInput, match="reason"):
        withdraw_consent(
            session, tech, study_code=subject.study_code, withdrawn_at=WITHDRAWN_AT, reason="  "
        )
    with pytest.raises(NotFound, match="NO-SUCH"):
        withdraw_consent(session, tech, study_code="no-such", withdrawn_at=WITHDRAWN_AT, reason="x")


def test_nothing_new_is_made_for_a_subject_who_withdrew(session: Session, tech: Actor) -> None:
    subject = make_subject(session)
    visit = make_visit(session, subject)
    tube = make_specimen(session, visit)
    withdraw_consent(
        session, tech, study_code=subject.study_code, withdrawn_at=WITHDRAWN_AT, reason="letter"
    )
    with pytest.raises(Conflict, match="withdrawn consent"):
        register_visit(
            session, tech, study_code=subject.study_code, visit_number=2, visit_on=date.today()
        )
    with pytest.raises(Conflict, match="withdrawn consent"):
        accession_specimen(
            session,
            tech,
            study_code=subject.study_code,
            visit_number=visit.visit_number,
            specimen_type=SpecimenType.WHOLE_BLOOD,
            tube_type=tube.tube_type,
            pre=worked_example(),
        )
    with pytest.raises(Conflict, match="withdrawn consent"):
        aliquot_specimen(
            session,
            tech,
            specimen_barcode=tube.barcode,
            specimen_type=SpecimenType.SERUM,
            count=2,
            volume_ul=250,
        )
    assert tube.aliquots == [] and len(visit.specimens) == 1


@pytest.mark.parametrize("code", ["John Smith", "1970-01-01/NA1", "NA1_0001", "-NA1", "A" * 21])
def test_a_study_code_that_is_not_a_code_is_refused(
    session: Session, tech: Actor, code: str
) -> None:
    make_site(session)
    with pytest.raises(InvalidInput, match="is not a study code") as err:
        register_subject(
            session,
            tech,
            study_code=code,
            site_code="NA1",
            sex=Sex.FEMALE,
            primary_diagnosis=Dystonia.CERVICAL,
        )
    assert err.value.errors[0]["field"] == "study_code"


def test_the_sites_are_listed_by_code_for_any_signed_in_role(
    session: Session, investigator: Actor
) -> None:
    make_site(session, "EU2")  # the investigator's own site, NA1, exists already

    assert [site.code for site in list_sites(session, investigator)] == ["EU2", "NA1"]
