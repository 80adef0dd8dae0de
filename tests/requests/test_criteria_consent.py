"""The consent rule compiled to SQL agrees with consent_permits, subject by subject.

consent_permits (lims/specimens/services/permits.py) is the rule; criteria/consent.py states it
again as SQL so one query can count 200,000 visits. Here both answer for every demo subject,
plus subjects whose consent the demo never shows (a disease-specific grant for another disease,
NPOA, NPU and NPUNCU restrictions, a withdrawal recorded before levels existed, a consent signed
after the day asked, a re-consent that takes a permission back), for every purpose, a spread of
modifier sets and several days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lims import demo
from lims.requests.criteria import Purpose
from lims.requests.criteria.consent import consent_allows
from lims.specimens.consent_models import StatementKind, WithdrawalLevel
from lims.specimens.duo import DuoTerm
from lims.specimens.models import Dystonia, EnrolmentStatus, Sex, Subject
from lims.specimens.services import (
    StatementSpec,
    consent_permits,
    create_consent_document,
    register_subject,
    withdraw_consent,
)
from tests.factories import SYSTEM, make_site
from tests.requests.criteria_factories import subject
from tests.specimens.factories import give_consent

T, P, R, Q = (
    DuoTerm,
    StatementKind.PERMISSION,
    StatementKind.RESTRICTION,
    StatementKind.REQUIRED_FOR,
)
OTHER_DISEASE = "MONDO:0005015"
# One purpose per branch of the rule: each permission, DS for dystonia and for another disease,
# every decidable restriction met and unmet, a refused use (GSO), and modifiers left to a
# reviewer (IRB, COL) that must refuse nothing. The full cross-product costs a minute: each
# consent_permits call reads the subject's events (three queries).
PURPOSES = [
    Purpose(T.GRU),
    Purpose(T.HMB),
    Purpose(T.HMB, frozenset({T.GSO})),
    Purpose(T.HMB, frozenset({T.NCU})),
    Purpose(T.HMB, frozenset({T.NPU})),
    Purpose(T.HMB, frozenset({T.NPUNCU})),
    Purpose(T.GRU, frozenset({T.NPU, T.NCU})),
    Purpose(T.DS, frozenset({T.GSO, T.NCU, T.IRB, T.COL})),
    Purpose(T.DS, frozenset(), OTHER_DISEASE),
    Purpose(T.DS),
    Purpose(T.POA),
    Purpose(T.POA, frozenset({T.NCU})),
]
DAYS = [date(2022, 6, 1), date(2023, 6, 1)]


def spec(code: str, kind: StatementKind, term: DuoTerm, **kw: object) -> StatementSpec:
    return StatementSpec(code, f"Statement {code}.", kind, term, **kw)  # type: ignore[arg-type]


def unusual_subjects(session: Session) -> None:
    """Consents the demo form cannot express, on a second form."""
    form = create_consent_document(
        session,
        SYSTEM,
        name="Unusual consent",
        version="1",
        effective_on=date(2021, 1, 1),
        irb_reference="IRB-TEST-U",
        statements=[
            spec("gru", P, T.GRU),
            spec("ds_other", P, T.DS, disease_id=OTHER_DISEASE),
            spec("ds", P, T.DS),
            spec("poa", P, T.POA),
            spec("npoa", R, T.NPOA, restricts_on=True),
            spec("npu", R, T.NPU, restricts_on=True),
            spec("npuncu", R, T.NPUNCU, restricts_on=True),
            spec("genetic", Q, T.GSO),
        ],
    )
    no = dict.fromkeys(("gru", "ds", "npoa", "npu", "npuncu"), False)
    subject(session, form, site="TS1", **no)  # DS for another disease only, POA
    subject(session, form, site="TS1", **(no | {"npoa": True}))  # POA, but NPOA
    subject(session, form, site="TS1", **(no | {"npu": True, "ds": True}))  # NPU
    subject(session, form, site="TS1", **(no | {"gru": True, "npuncu": True}))  # NPUNCU
    later = subject(session, form, site="TS1", consented_on=date(2023, 1, 1))
    subject(session, form, site="TS1", consented_on=date(2022, 1, 1), genetic=False)
    takes_back = subject(session, form, site="TS1", consented_on=date(2021, 6, 1))
    give_consent(session, takes_back, form, date(2023, 1, 1), **no)
    contact = subject(session, form, site="TS1")
    withdraw_consent(
        session, SYSTEM, study_code=contact.study_code, reason="moved away",
        withdrawn_at=datetime(2022, 3, 1, tzinfo=UTC), level=WithdrawalLevel.NO_FURTHER_CONTACT,
    )  # fmt: skip
    # A withdrawal from before levels were recorded: the status without an event (the
    # migration writes events for such rows; consent_state still honours one without).
    for when in (None, datetime(2023, 3, 1, 12, 0, tzinfo=UTC)):
        old = subject(session, form, site="TS1")
        old.enrolment_status = EnrolmentStatus.CONSENT_WITHDRAWN
        old.consent_withdrawn_at = when
    assert later is not None
    session.flush()


def demo_subjects(session: Session, count: int = 10) -> None:
    """Subjects consenting as the demo's do (lims/demo.py _consent: the two form versions, a
    re-consent a year on, every ninth declining genetic research, one declining commercial
    use), without the rest of the demo (tubes, phenotype, shipments) that this test never reads."""
    forms = demo._consent_documents(session, SYSTEM)
    for i in range(1, count + 1):
        code = f"DM1-{i:04d}"
        make_site(session, "DM1")
        register_subject(
            session, SYSTEM, study_code=code, site_code="DM1", sex=Sex.MALE,
            primary_diagnosis=Dystonia.CERVICAL,
        )  # fmt: skip
        first = date(2021, 1, 11) + timedelta(days=61 * i)
        demo._consent(session, SYSTEM, i, code, first, forms)


def test_sql_and_consent_permits_agree_on_every_subject_purpose_and_day(
    session: Session,
) -> None:
    demo_subjects(session)
    unusual_subjects(session)
    subjects = list(session.scalars(select(Subject).order_by(Subject.id)))
    disagreements = []
    decided = {True: 0, False: 0}

    for on in DAYS:
        for purpose in PURPOSES:
            allowed = set(session.scalars(select(Subject.id).where(consent_allows(purpose, on=on))))
            for who in subjects:
                permits = consent_permits(
                    session, who, on=on, purpose=purpose.term,
                    modifiers=purpose.modifiers, disease=purpose.disease,
                ).permitted  # fmt: skip
                decided[permits] += 1
                if permits != (who.id in allowed):
                    disagreements.append((who.study_code, on, purpose, permits))

    assert disagreements == []
    assert decided[True] > 50 and decided[False] > 50  # both answers are exercised
