"""Importing REDCap exports: the sample files in docs/redcap, on both databases."""

from __future__ import annotations

import gc
import hashlib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.models import AuditEvent
from lims.errors import Conflict, Forbidden, InvalidInput
from lims.phenotype.models import (
    Diagnosis,
    DiagnosticFinding,
    PhenotypeImport,
    ScaleAdministration,
    Treatment,
)
from lims.phenotype.services import import_redcap
from lims.specimens.models import Subject, WithdrawalLevel
from lims.specimens.services import withdraw_consent
from phenotype_link.redcap.sample import visit_dates
from tests.conftest import bearer
from tests.factories import make_subject, make_visit

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "redcap"
RAW = (SAMPLES / "sample-export-raw.csv").read_bytes()
TODAY = date(2026, 12, 1)


@pytest.fixture
def sample_subjects(session: Session) -> None:
    """The subjects and visits the sample export names (demo study codes), on its dates."""
    subjects: dict[str, Subject] = {}
    for (code, number), on in sorted(visit_dates().items()):
        if code not in subjects:
            subjects[code] = make_subject(session, study_code=code)
        make_visit(session, subjects[code], number, on)


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.usefixtures("sample_subjects")
def test_a_dry_run_says_what_would_be_created_and_writes_nothing(
    session: Session, tech: Actor
) -> None:
    result = import_redcap(session, tech, data=RAW, dry_run=True, today=TODAY)

    assert result.is_dry_run and result.created > 0 and result.changed == 0
    assert (count(session, Diagnosis), count(session, PhenotypeImport)) == (0, 0)


@pytest.mark.usefixtures("sample_subjects")
def test_the_raw_and_label_exports_import_the_same_rows(session: Session, tech: Actor) -> None:
    labels = (SAMPLES / "sample-export-labels.csv").read_bytes()
    raw = import_redcap(session, tech, data=RAW, today=TODAY)
    again = import_redcap(session, tech, data=labels, today=TODAY)

    assert raw.created > 0 and count(session, Treatment) > 0
    assert (again.created, again.changed) == (0, 0)


@pytest.mark.usefixtures("sample_subjects")
def test_an_import_is_audited_with_its_files_hash_and_reimporting_it_changes_nothing(
    session: Session, tech: Actor
) -> None:
    first = import_redcap(session, tech, data=RAW, filename="export.csv", today=TODAY)
    events = count(session, AuditEvent)
    second = import_redcap(session, tech, data=RAW, filename="export.csv", today=TODAY)

    assert first.sha256 == hashlib.sha256(RAW).hexdigest()
    assert (second.created, second.changed, second.unchanged) == (0, 0, first.created)
    assert count(session, AuditEvent) == events + 1  # only the second import's own event
    imported = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "phenotypes.imported")
    ).all()
    assert len(imported) == 2 and first.sha256 in (imported[0].after_json or "")


@pytest.mark.usefixtures("sample_subjects")
def test_a_changed_value_in_a_reimport_is_an_audited_change_with_before_and_after(
    session: Session, tech: Actor
) -> None:
    import_redcap(session, tech, data=RAW, today=TODAY)
    edited = RAW.replace(b",2021-11-17,1,200,", b",2021-11-17,1,250,")
    assert edited != RAW
    result = import_redcap(session, tech, data=edited, today=TODAY)

    assert (result.created, result.changed) == (0, 1)
    change = result.changes[0]
    assert (change.before, change.after) == ({"dose_units": 200}, {"dose_units": 250})
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "phenotype.changed")
    ).one()
    assert '"dose_units": 200' in (event.before_json or "")


@pytest.mark.usefixtures("sample_subjects")
def test_one_bad_cell_writes_nothing_and_names_row_record_event_and_field(
    session: Session, tech: Actor
) -> None:
    bad = RAW.replace(b",2021-11-17,1,200,", b",2099-11-17,1,200,")
    with pytest.raises(InvalidInput) as refused:
        import_redcap(session, tech, data=bad, today=TODAY)

    [problem] = refused.value.errors
    assert problem["row"] == 3 and problem["field"] == "btx_date"
    assert "record NA2-0001" in problem["message"] and "visit_1_arm_1" in problem["message"]
    assert (count(session, Treatment), count(session, ScaleAdministration)) == (0, 0)


@pytest.mark.usefixtures("sample_subjects")
def test_each_new_row_is_written_under_the_id_its_audit_event_names(
    session: Session, tech: Actor
) -> None:
    # The ids are taken before the rows go in (COPY on PostgreSQL, executemany on SQLite).
    import_redcap(session, tech, data=RAW, today=TODAY)
    recorded = select(AuditEvent).where(AuditEvent.action == "phenotype.recorded")
    named = {(e.object_type, e.object_id): e.after for e in session.scalars(recorded)}

    stored = {
        (model.__audit_type__, str(row.id)): row
        for model in (Diagnosis, ScaleAdministration, Treatment, DiagnosticFinding)
        for row in session.scalars(select(model))
    }
    assert named.keys() == stored.keys()
    scales = [(k, row) for k, row in stored.items() if isinstance(row, ScaleAdministration)]
    assert all(named[k]["answers"] == row.answers for k, row in scales)  # type: ignore[index]


@pytest.mark.usefixtures("sample_subjects")
def test_an_import_leaves_the_cycle_collector_on_also_when_it_refuses_the_file(
    session: Session, tech: Actor
) -> None:
    import_redcap(session, tech, data=RAW, today=TODAY)
    with pytest.raises(InvalidInput):
        import_redcap(session, tech, data=RAW.replace(b"2021-11-17", b"2099-11-17"), today=TODAY)
    assert gc.isenabled()


@pytest.mark.usefixtures("sample_subjects")
def test_a_row_the_database_refuses_is_a_conflict_naming_the_rule_and_nothing_is_written(
    session: Session, tech: Actor
) -> None:
    # A dose of 0 passes the dictionary's range (min 0) but not the treatments' CHECK (> 0):
    # the COPY on PostgreSQL must answer as the executemany on SQLite does, with a 409.
    zero_dose = RAW.replace(b",2021-11-17,1,200,", b",2021-11-17,1,0,")
    with pytest.raises(Conflict, match="dose_positive"):
        import_redcap(session, tech, data=zero_dose, today=TODAY)
    session.rollback()
    assert (count(session, Treatment), count(session, Diagnosis)) == (0, 0)


def test_an_unknown_subject_is_refused_not_skipped(session: Session, tech: Actor) -> None:
    make_subject(session, study_code="NA2-0001")
    with pytest.raises(InvalidInput, match="problems found") as refused:
        import_redcap(session, tech, data=RAW, today=TODAY)
    assert any("EU1-0002" in e["message"] for e in refused.value.errors)


@pytest.mark.usefixtures("sample_subjects")
def test_another_projects_export_imports_through_its_mapping_file(
    session: Session, tech: Actor
) -> None:
    export = (SAMPLES / "other-project-export.csv").read_bytes()
    mapping = (SAMPLES / "other-project-mapping.toml").read_text()
    result = import_redcap(session, tech, data=export, mapping=mapping, today=TODAY)

    assert result.created > 0


@pytest.mark.usefixtures("sample_subjects")
def test_the_api_previews_then_imports_an_export(client: FlaskClient, tech: Actor) -> None:
    auth = bearer(client, "tech")

    def post(query: str) -> object:
        files = {"file": (SAMPLES / "sample-export-raw.csv").open("rb")}
        return client.post(f"/api/v1/phenotype-imports{query}", data=files, headers=auth)

    preview, done = post("?dry_run=true"), post("")
    assert preview.status_code == 200 and preview.get_json()["is_dry_run"] is True  # type: ignore[attr-defined]
    assert done.status_code == 201 and done.get_json()["created"] > 0  # type: ignore[attr-defined]


def test_the_api_answers_a_refused_import_with_every_problem(
    client: FlaskClient, tech: Actor
) -> None:
    answer = client.post(
        "/api/v1/phenotype-imports",
        data={"file": (SAMPLES / "sample-export-raw.csv").open("rb")},
        headers=bearer(client, "tech"),
    )
    assert answer.status_code == 422
    assert answer.content_type == "application/problem+json"
    assert all("row" in e and "field" in e for e in answer.get_json()["errors"])


@pytest.mark.usefixtures("sample_subjects")
def test_every_instrument_of_the_sample_becomes_rows(session: Session, tech: Actor) -> None:
    import_redcap(session, tech, data=RAW, today=TODAY)

    treatments = {t.kind.value for t in session.scalars(select(Treatment))}
    findings = {(f.kind.value, f.item) for f in session.scalars(select(DiagnosticFinding))}
    assert treatments == {"botulinum_toxin", "oral_medication", "dbs"}
    assert {kind for kind, _ in findings} == {"voice_rating", "family_history", "genetic_test"}
    assert ("voice_rating", "voice_comment") not in findings  # free text stays out
    regions = {tuple(d.body_regions) for d in session.scalars(select(Diagnosis))}
    assert ("eyes", "jaw_tongue") in regions  # blepharospasm spread to the jaw at visit 2


@pytest.mark.usefixtures("sample_subjects")
def test_a_reviewer_may_read_but_not_import(session: Session, reviewer: Actor) -> None:
    with pytest.raises(Forbidden):
        import_redcap(session, reviewer, data=RAW, today=TODAY)


@pytest.mark.usefixtures("sample_subjects")
def test_a_visit_date_that_is_not_the_lims_visits_date_is_refused_naming_row_and_field(
    session: Session, tech: Actor
) -> None:
    moved = RAW.replace(
        b"NA2-0001,visit_1_arm_1,,,na2,2022-04-01,", b"NA2-0001,visit_1_arm_1,,,na2,2022-04-02,"
    )
    with pytest.raises(InvalidInput) as refused:
        import_redcap(session, tech, data=moved, today=TODAY)

    [problem] = refused.value.errors
    assert (problem["row"], problem["field"]) == (2, "visit_date")
    assert "record NA2-0001, event visit_1_arm_1" in problem["message"]
    assert "'2022-04-02' is not the date of visit 1 in the LIMS (2022-04-01)" in problem["message"]
    assert count(session, Diagnosis) == 0


def withdraw(session: Session, tech: Actor, code: str, level: WithdrawalLevel) -> None:
    when = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
    withdraw_consent(
        session, tech, study_code=code, withdrawn_at=when, reason="letter", level=level
    )


@pytest.mark.usefixtures("sample_subjects")
@pytest.mark.parametrize(
    "level", [WithdrawalLevel.NO_FURTHER_ACCESS, WithdrawalLevel.NO_FURTHER_USE]
)
def test_a_subject_withdrawn_from_further_access_gets_no_new_phenotype(
    session: Session, tech: Actor, level: WithdrawalLevel
) -> None:
    withdraw(session, tech, "EU1-0002", level)
    with pytest.raises(InvalidInput) as refused:
        import_redcap(session, tech, data=RAW, dry_run=True, today=TODAY)

    [problem] = refused.value.errors
    assert (problem["row"], problem["field"]) == (5, "record_id")  # EU1-0002's first row
    assert f"EU1-0002 has withdrawn consent ({level.label})" in problem["message"]
    assert count(session, Diagnosis) == 0


@pytest.mark.usefixtures("sample_subjects")
def test_a_subject_who_wants_no_further_contact_still_gets_new_phenotype(
    session: Session, tech: Actor
) -> None:
    withdraw(session, tech, "EU1-0002", WithdrawalLevel.NO_FURTHER_CONTACT)
    import_redcap(session, tech, data=RAW, today=TODAY)

    visits = {d.visit.subject.study_code for d in session.scalars(select(Diagnosis))}
    assert "EU1-0002" in visits


@pytest.mark.usefixtures("sample_subjects")
def test_after_a_withdrawal_an_unchanged_reimport_passes_and_a_changed_one_is_refused(
    session: Session, tech: Actor
) -> None:
    first = import_redcap(session, tech, data=RAW, today=TODAY)
    withdraw(session, tech, "NA2-0001", WithdrawalLevel.NO_FURTHER_USE)
    again = import_redcap(session, tech, data=RAW, today=TODAY)
    edited = RAW.replace(b",2021-11-17,1,200,", b",2021-11-17,1,250,")
    with pytest.raises(InvalidInput, match="1 problems found"):
        import_redcap(session, tech, data=edited, today=TODAY)

    assert (again.created, again.changed, again.unchanged) == (0, 0, first.created)
    assert session.scalars(select(Treatment.dose_units)).first() == 200


@pytest.mark.usefixtures("sample_subjects")
def test_a_reimport_with_one_changed_value_updates_only_that_column(
    session: Session, tech: Actor
) -> None:
    import_redcap(session, tech, data=RAW, today=TODAY)
    columns = (Treatment.id, Treatment.product, Treatment.given_on, Treatment.dose_units)
    before = session.execute(select(*columns).order_by(Treatment.id)).all()
    edited = RAW.replace(b",2021-11-17,1,200,", b",2021-11-17,1,250,")
    import_redcap(session, tech, data=edited, today=TODAY)

    after = session.execute(select(*columns).order_by(Treatment.id)).all()
    assert [a for a, b in zip(after, before, strict=True) if a != b] == [
        (before[0][0], before[0][1], before[0][2], 250)
    ]
