"""Consent with its scope: documents, events, and the one function that decides (GA4GH DUO)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.models import Action, AuditEvent
from lims.errors import Conflict, Forbidden, InvalidInput
from lims.specimens.consent_models import ConsentEventKind, StatementKind, WithdrawalLevel
from lims.specimens.duo import DYSTONIA_MONDO, DuoTerm
from lims.specimens.models import Subject
from lims.specimens.services import (
    BenchWork,
    StatementSpec,
    aliquot_specimen,
    consent_permits,
    create_consent_document,
    record_consent,
    register_visit,
    withdraw_consent,
)
from lims.storage.services import check_out, store_aliquot
from tests.factories import make_aliquots, make_box, make_specimen, make_subject, make_visit
from tests.specimens.factories import give_consent, make_consent_form

SIGNED = date(2023, 1, 10)
LATER = date(2026, 6, 1)
PARKINSON = "MONDO:0005180"


def _permits(
    session: Session,
    subject: Subject,
    purpose: DuoTerm | BenchWork,
    *modifiers: DuoTerm,
    on: date | None = None,
    disease: str = DYSTONIA_MONDO,
) -> bool:
    """As the requests will ask (on a date), or as the bench asks (from the moment recorded)."""
    on = on or (date.max if isinstance(purpose, BenchWork) else LATER)
    decision = consent_permits(
        session, subject, on=on, purpose=purpose, modifiers=set(modifiers), disease=disease
    )
    return decision.permitted


def _withdraw(session: Session, subject: Subject, level: WithdrawalLevel, day: int = 2) -> None:
    withdraw_consent(
        session,
        Actor.system("tests"),
        study_code=subject.study_code,
        withdrawn_at=datetime(2026, 11, day, 14, 0, tzinfo=UTC),
        reason="letter",
        level=level,
    )


def test_general_research_use_covers_health_disease_and_ancestry_research(
    session: Session,
) -> None:
    subject = make_subject(session)
    give_consent(session, subject, make_consent_form(session), SIGNED)
    for purpose in (DuoTerm.GRU, DuoTerm.HMB, DuoTerm.DS, DuoTerm.POA):
        assert _permits(session, subject, purpose), purpose


def test_health_research_consent_covers_disease_research_but_not_general_or_ancestry(
    session: Session,
) -> None:
    subject = make_subject(session)
    give_consent(session, subject, make_consent_form(session), SIGNED, future_research=False)
    assert _permits(session, subject, DuoTerm.HMB) and _permits(session, subject, DuoTerm.DS)
    decision = consent_permits(session, subject, on=LATER, purpose=DuoTerm.GRU)
    assert decision.reasons == [
        "GRU (general research use) is not covered by the consent, which grants DS, HMB"
    ]
    assert not _permits(session, subject, DuoTerm.POA)  # HMB excludes ancestry research


def test_disease_specific_consent_covers_only_its_disease(session: Session) -> None:
    subject = make_subject(session)
    form = make_consent_form(session)
    give_consent(session, subject, form, SIGNED, future_research=False, health_research=False)
    assert _permits(session, subject, DuoTerm.DS)
    assert not _permits(session, subject, DuoTerm.DS, disease=PARKINSON)
    assert not _permits(session, subject, DuoTerm.HMB)


def test_ancestry_consent_stands_apart_from_health_research(session: Session) -> None:
    subject = make_subject(session)
    form = make_consent_form(session, version="2.0", effective_on=date(2022, 6, 1))
    no = {"future_research": False, "health_research": False, "dystonia_research": False}
    give_consent(session, subject, form, SIGNED, **no)
    assert _permits(session, subject, DuoTerm.POA)
    assert not _permits(session, subject, DuoTerm.HMB)
    assert not _permits(session, subject, DuoTerm.GRU)


def test_no_commercial_use_needs_a_purpose_declared_non_commercial(session: Session) -> None:
    subject = make_subject(session)
    give_consent(session, subject, make_consent_form(session), SIGNED, commercial=False)
    decision = consent_permits(session, subject, on=LATER, purpose=DuoTerm.HMB)
    assert not decision.permitted
    assert "NCU (non-commercial use only)" in decision.reasons[0]
    assert _permits(session, subject, DuoTerm.HMB, DuoTerm.NCU)
    assert _permits(session, subject, DuoTerm.HMB, DuoTerm.NPUNCU)


def test_a_participant_who_declined_genetic_research_is_refused_to_genetic_studies(
    session: Session,
) -> None:
    subject = make_subject(session)
    give_consent(session, subject, make_consent_form(session), SIGNED, genetic=False)
    decision = consent_permits(
        session, subject, on=LATER, purpose=DuoTerm.HMB, modifiers={DuoTerm.GSO}
    )
    assert decision.reasons == ["the participant declined GSO (genetic studies only)"]
    assert _permits(session, subject, DuoTerm.HMB)  # a study that is not genetic


def test_modifiers_that_need_judgement_go_to_the_reviewer_undecided(session: Session) -> None:
    subject = make_subject(session)
    form = make_consent_form(session, version="2.0", effective_on=date(2022, 6, 1))
    give_consent(session, subject, form, SIGNED, sharing=False)  # COL; v2 also asks IRB
    decision = consent_permits(session, subject, on=LATER, purpose=DuoTerm.HMB)
    assert decision.permitted
    assert decision.for_reviewer == [DuoTerm.COL, DuoTerm.IRB]


def test_without_a_recorded_consent_no_research_use_is_permitted(session: Session) -> None:
    subject = make_subject(session)
    decision = consent_permits(session, subject, on=LATER, purpose=DuoTerm.HMB)
    assert decision.reasons == [f"{subject.study_code} has no consent recorded as of {LATER}"]
    assert _permits(session, subject, BenchWork.USE)  # enrolled on paper: the bench carries on


def test_the_answer_depends_on_the_date_before_and_after_a_re_consent(session: Session) -> None:
    subject = make_subject(session)
    v1 = make_consent_form(session)
    v2 = make_consent_form(session, version="2.0", effective_on=date(2024, 9, 1))
    give_consent(session, subject, v1, SIGNED, genetic=False)
    again = give_consent(session, subject, v2, date(2024, 10, 1))
    assert again.kind is ConsentEventKind.RECONSENTED
    genetic = (DuoTerm.HMB, DuoTerm.GSO)
    assert not _permits(session, subject, *genetic, on=date(2022, 12, 31))  # before any consent
    assert not _permits(session, subject, *genetic, on=date(2024, 9, 30))  # v1: declined
    assert _permits(session, subject, *genetic, on=date(2024, 10, 1))  # v2: agreed


@pytest.mark.parametrize(
    ("level", "research", "use", "custody", "has_consent"),
    [
        (WithdrawalLevel.NO_FURTHER_CONTACT, True, True, True, True),
        (WithdrawalLevel.NO_FURTHER_ACCESS, False, False, True, True),
        (WithdrawalLevel.NO_FURTHER_USE, False, False, False, False),
    ],
)
def test_each_withdrawal_level_stops_what_it_promises(
    session: Session,
    level: WithdrawalLevel,
    research: bool,
    use: bool,
    custody: bool,
    has_consent: bool,
) -> None:
    subject = make_subject(session)
    give_consent(session, subject, make_consent_form(session), SIGNED)
    _withdraw(session, subject, level)
    assert _permits(session, subject, DuoTerm.HMB, on=date(2026, 11, 1))  # the day before
    assert _permits(session, subject, DuoTerm.HMB, on=date(2026, 11, 2)) is research
    assert _permits(session, subject, BenchWork.USE) is use
    assert _permits(session, subject, BenchWork.CUSTODY) is custody
    assert subject.has_consent is has_consent


def test_a_withdrawal_may_be_escalated_but_not_repeated_or_softened(session: Session) -> None:
    subject = make_subject(session)
    _withdraw(session, subject, WithdrawalLevel.NO_FURTHER_CONTACT)
    _withdraw(session, subject, WithdrawalLevel.NO_FURTHER_ACCESS, day=3)
    with pytest.raises(Conflict, match="already withdrew consent on 2026-11-03"):
        _withdraw(session, subject, WithdrawalLevel.NO_FURTHER_CONTACT, day=4)
    event = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == Action.SUBJECT_CONSENT_WITHDRAWN)
        .order_by(AuditEvent.id)  # PostgreSQL returns rows in no set order without it
    ).all()[-1]
    assert '"level": "no_further_access"' in (event.after_json or "")


def test_the_bench_refuses_use_after_no_further_access_but_keeps_the_tubes_stored(
    session: Session, tech: Actor
) -> None:
    subject = make_subject(session)
    visit = make_visit(session, subject)
    tube = make_specimen(session, visit)
    first, second = make_aliquots(session, 2, specimen=tube)
    _withdraw(session, subject, WithdrawalLevel.NO_FURTHER_ACCESS)
    box = make_box(session)
    store_aliquot(session, tech, barcode=first.barcode, box_id=box.id)  # custody goes on
    with pytest.raises(
        Conflict, match=r"is not allowed \(no further access: their tubes are kept but not used\)"
    ):
        check_out(session, tech, barcode=first.barcode, reason="ELISA")
    with pytest.raises(Conflict, match="no further access"):
        aliquot_specimen(
            session, tech, specimen_barcode=tube.barcode, specimen_type=first.specimen_type,
            count=1, volume_ul=100,
        )  # fmt: skip
    with pytest.raises(Conflict, match="no further access"):
        register_visit(session, tech, study_code=subject.study_code, visit_number=2, visit_on=LATER)
    assert second.status.value == "received"


def test_after_no_further_use_even_storing_is_refused(session: Session, tech: Actor) -> None:
    subject = make_subject(session)
    (aliquot,) = make_aliquots(
        session, 1, specimen=make_specimen(session, make_visit(session, subject))
    )
    _withdraw(session, subject, WithdrawalLevel.NO_FURTHER_USE)
    with pytest.raises(Conflict, match="may only be disposed of"):
        store_aliquot(session, tech, barcode=aliquot.barcode, box_id=make_box(session).id)


def test_no_further_contact_stops_nothing_at_the_bench(session: Session, tech: Actor) -> None:
    subject = make_subject(session)
    _withdraw(session, subject, WithdrawalLevel.NO_FURTHER_CONTACT)
    visit = register_visit(
        session, tech, study_code=subject.study_code, visit_number=1, visit_on=LATER
    )
    assert visit.visit_number == 1


def test_recording_consent_is_audited_with_every_answer(session: Session, tech: Actor) -> None:
    subject = make_subject(session)
    form = make_consent_form(session)
    answers = {s.code: s.code != "commercial" for s in form.statements}
    event = record_consent(
        session, tech, study_code=subject.study_code, document_id=form.id,
        consented_on=SIGNED, answers=answers,
    )  # fmt: skip
    assert event.kind is ConsentEventKind.CONSENTED and len(event.answers) == len(answers)
    trail = session.scalars(
        select(AuditEvent).where(AuditEvent.action == Action.CONSENT_RECORDED)
    ).one()
    assert '"commercial": false' in (trail.after_json or "")


def test_a_consent_must_answer_every_statement_of_its_form(session: Session, tech: Actor) -> None:
    subject = make_subject(session)
    form = make_consent_form(session)
    with pytest.raises(InvalidInput) as caught:
        record_consent(
            session, tech, study_code=subject.study_code, document_id=form.id,
            consented_on=SIGNED, answers={"genetic": True, "smoking": False},
        )  # fmt: skip
    fields = {e["field"] for e in caught.value.errors}
    assert "answer_recontact" in fields and "answer_smoking" in fields
    assert "answer_genetic" not in fields


def test_a_consent_cannot_predate_its_form_or_follow_a_withdrawal(
    session: Session, tech: Actor
) -> None:
    subject = make_subject(session)
    form = make_consent_form(session)
    with pytest.raises(InvalidInput, match="took effect on 2022-06-01"):
        give_consent(session, subject, form, date(2022, 5, 31))
    _withdraw(session, subject, WithdrawalLevel.NO_FURTHER_CONTACT)
    with pytest.raises(Conflict, match="new enrolment"):
        give_consent(session, subject, form, LATER)


def test_a_reviewer_may_not_record_consent(session: Session, reviewer: Actor) -> None:
    subject = make_subject(session)
    form = make_consent_form(session)
    with pytest.raises(Forbidden):
        record_consent(
            session, reviewer, study_code=subject.study_code, document_id=form.id,
            consented_on=SIGNED, answers={},
        )  # fmt: skip


def test_a_consent_document_maps_each_statement_to_a_fitting_duo_term(
    session: Session, admin: Actor, tech: Actor
) -> None:
    wrong = [
        StatementSpec("genetic", "DNA for genetic research", StatementKind.PERMISSION, DuoTerm.GSO),
        StatementSpec("commercial", "Companies", StatementKind.RESTRICTION, DuoTerm.NCU),
    ]
    with pytest.raises(InvalidInput) as caught:
        create_consent_document(
            session, admin, name="Form", version="1", effective_on=SIGNED,
            irb_reference="IRB-1", statements=wrong,
        )  # fmt: skip
    # Named by the schema's path, so the form marks the row and the API names the statement.
    assert [e["field"] for e in caught.value.errors] == [
        "statements.0.duo_id",
        "statements.1.duo_id",
    ]
    with pytest.raises(Forbidden):
        create_consent_document(
            session, tech, name="Form", version="1", effective_on=SIGNED,
            irb_reference="IRB-1", statements=wrong[:1],
        )  # fmt: skip
    make_consent_form(session)
    with pytest.raises(Conflict, match="already registered"):
        make_consent_form(session)
