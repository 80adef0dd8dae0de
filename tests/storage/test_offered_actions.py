"""The steps the aliquot page offers follow the rule the services apply, consent included."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.errors import Conflict
from lims.specimens.consent_models import WithdrawalLevel
from lims.specimens.services import withdraw_consent
from lims.storage.services import actions_allowed, check_out, use_aliquot
from tests.storage.factories import stored


def _withdraw(session: Session, tech: Actor, study_code: str, level: WithdrawalLevel) -> None:
    withdraw_consent(
        session, tech, study_code=study_code, withdrawn_at=datetime(2026, 4, 1, tzinfo=UTC),
        reason="participant's letter", level=level,
    )  # fmt: skip


def test_tubes_withdrawn_at_no_further_access_are_offered_no_use_the_services_refuse(
    session: Session, tech: Actor
) -> None:
    in_box = stored(session, tech)
    out = stored(session, tech, specimen=in_box.specimen)
    check_out(session, tech, barcode=out.barcode)
    _withdraw(session, tech, in_box.subject.study_code, WithdrawalLevel.NO_FURTHER_ACCESS)

    offered_in_box = {a.slug for a in actions_allowed(in_box)}
    offered_out = {a.slug for a in actions_allowed(out)}

    assert "check-out" not in offered_in_box and {"quarantine", "dispose"} <= offered_in_box
    assert "use" not in offered_out and "check-in" in offered_out
    with pytest.raises(Conflict, match="withdrawn consent"):
        check_out(session, tech, barcode=in_box.barcode)
    with pytest.raises(Conflict, match="withdrawn consent"):
        use_aliquot(session, tech, barcode=out.barcode, volume_ul=10)


def test_a_tube_withdrawn_at_no_further_contact_is_still_offered_use(
    session: Session, tech: Actor
) -> None:
    in_box = stored(session, tech)
    out = stored(session, tech, specimen=in_box.specimen)
    check_out(session, tech, barcode=out.barcode)
    _withdraw(session, tech, in_box.subject.study_code, WithdrawalLevel.NO_FURTHER_CONTACT)

    assert "check-out" in {a.slug for a in actions_allowed(in_box)}
    assert "use" in {a.slug for a in actions_allowed(out)}
