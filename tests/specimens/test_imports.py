from __future__ import annotations

import gc
import io
from datetime import date

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.models import Action, AuditEvent
from lims.audit.services import events_for, verify_chain
from lims.db import utcnow
from lims.errors import Conflict, Forbidden, InvalidInput
from lims.specimens import barcodes
from lims.specimens.models import Aliquot, Specimen, Visit
from lims.specimens.services import (
    import_aliquots,
    installation_number,
    issue_serials,
    subject_record,
    template_csv,
    withdraw_consent,
)
from lims.specimens.services.import_checks import plan_import
from lims.specimens.services.import_writes import write_import
from lims.specimens.services.imports import HashingReader, read_rows
from tests.factories import make_aliquot, make_subject, make_visit
from tests.specimens.factories import DRAWN, csv_bytes, import_row


def _counts(session: Session) -> tuple[int, ...]:
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Visit, Specimen, Aliquot, AuditEvent)
    )


def _problems(err: pytest.ExceptionInfo[InvalidInput]) -> set[tuple[int, str]]:
    return {(e["row"], e["field"]) for e in err.value.errors}


def _dna_rows() -> list[dict[str, str]]:
    """A DNA stock from an EDTA tube and two sub-aliquots, the stock listed after its children."""
    tube = {
        "tube_barcode": "T-EDTA",
        "tube_type": "PED",
        "processing_started_at": "",
        "centrifuge_g": "",
        "centrifuge_minutes": "",
        "centrifuge_temperature": "",
        "centrifuge_braked": "",
        "pre_processing_temperature": "2-10C",
        "specimen_type": "dna",
        "concentration_ng_ul": "50",
        "a260_280": "1.8",
    }
    return [
        import_row(**tube, aliquot_barcode="D-SUB1", volume_ul=50, parent_barcode="D-STOCK"),
        import_row(**tube, aliquot_barcode="D-SUB2", volume_ul=50, parent_barcode="D-STOCK"),
        import_row(**tube, aliquot_barcode="D-STOCK", volume_ul=100),
    ]


def test_a_valid_file_creates_visits_tubes_and_aliquots_with_their_trail(
    session: Session, tech: Actor
) -> None:
    subject = make_subject(session, study_code="SUBJ-0001")
    rows = [
        import_row(aliquot_barcode="AQ-001"),
        import_row(aliquot_barcode="AQ-002", **dict.fromkeys(("tube_type", "collected_at"), "")),
        *_dna_rows(),
    ]
    result = import_aliquots(session, tech, data=csv_bytes(rows), filename="site-log.csv")

    assert (result.aliquots, result.tubes, result.visits) == (5, 2, 1)
    assert (result.first_barcode, result.last_barcode) == ("AQ-001", "D-STOCK")
    record = subject_record(session, tech, subject.study_code)
    (visit,) = record.visits
    assert visit.visit_on == date(2026, 3, 18)
    sst, edta = visit.specimens
    assert sst.sprec_code == "SER-SST-A-B-N-B-A" and sst.collected_at == DRAWN
    assert edta.sprec_code == "BLD-PED-B-N-N-N-A"
    stock = next(a for a in edta.aliquots if a.barcode == "D-STOCK")
    assert sorted(c.barcode for c in stock.children) == ["D-SUB1", "D-SUB2"]
    created = events_for(session, stock)
    assert [e.action for e in created] == [Action.ALIQUOT_CREATED]
    assert created[0].after is not None and created[0].after["import_sha256"] == result.sha256
    batch = session.scalars(
        select(AuditEvent).where(AuditEvent.action == Action.ALIQUOTS_IMPORTED)
    ).one()
    assert batch.object_id == result.sha256 and batch.after is not None
    assert batch.after["aliquots"] == 5
    assert verify_chain(session).is_intact


def test_a_file_with_one_bad_row_writes_nothing_and_names_row_and_field(
    session: Session, tech: Actor
) -> None:
    make_subject(session, study_code="SUBJ-0001")
    rows = [import_row(aliquot_barcode=f"AQ-{i:03d}") for i in range(1, 6)]
    rows[2]["volume_ul"] = "-5"
    before = _counts(session)

    with pytest.raises(InvalidInput, match="nothing was imported") as err:
        import_aliquots(session, tech, data=csv_bytes(rows))

    assert _counts(session) == before
    (problem,) = err.value.errors
    assert problem["row"] == 4 and problem["field"] == "volume_ul"
    assert "-5 is outside 1 to 100000" in problem["message"]
    assert gc.isenabled()  # the import pauses the cycle collector and turns it back on


def test_every_kind_of_bad_row_is_reported_at_once(session: Session, tech: Actor) -> None:
    make_subject(session, study_code="SUBJ-0001")
    existing = make_aliquot(session)
    (serial,) = issue_serials(session, "aliquot", 1)
    issued = barcodes.aliquot_barcode(serial, installation=installation_number(session))
    typo = issued[:-1] + str((int(issued[-1]) + 1) % 10)
    rows = [
        import_row(aliquot_barcode="AQ-001"),  # row 2: fine
        import_row(aliquot_barcode="AQ-001"),  # 3: repeated in the file
        import_row(aliquot_barcode=existing.barcode),  # 4: already in the LIMS
        import_row(aliquot_barcode=typo),  # 5: wrong check digit
        import_row(aliquot_barcode="AQ-005", study_code="SUBJ-9999", tube_barcode="T-0006"),  # 6
        import_row(aliquot_barcode="AQ-006", parent_barcode="NOPE"),  # 7: parent not found
        import_row(
            aliquot_barcode="AQ-007", visit_number=2, visit_on="", tube_barcode="T-0002"
        ),  # 8
        import_row(aliquot_barcode="AQ-008", specimen_type="urine", collected_at="yesterday"),  # 9
        import_row(aliquot_barcode="AQ-009", tube_type="PED"),  # 10: tube disagrees with row 2
        import_row(aliquot_barcode="AQ-010", tube_barcode="T-0011", tube_volume_ml="nan"),  # 11
        # 12: the database allows a purity ratio below 5 only; the import says so by row
        import_row(aliquot_barcode="AQ-011", specimen_type="dna", a260_280="5"),
    ]
    with pytest.raises(InvalidInput) as err:
        import_aliquots(session, tech, data=csv_bytes(rows))
    assert _problems(err) == {
        (3, "aliquot_barcode"),
        (4, "aliquot_barcode"),
        (5, "aliquot_barcode"),
        (6, "study_code"),
        (7, "parent_barcode"),
        (8, "visit_on"),
        (9, "specimen_type"),
        (9, "collected_at"),
        (10, "tube_type"),
        (11, "tube_volume_ml"),
        (12, "a260_280"),
    }
    messages = {(e["row"], e["field"]): e["message"] for e in err.value.errors}
    assert messages[(3, "aliquot_barcode")] == "AQ-001 is also on row 2"
    assert "check digit" in messages[(5, "aliquot_barcode")]
    assert "register the subject first" in messages[(6, "study_code")]
    assert messages[(12, "a260_280")] == "5 is outside 0 (exclusive) to 5 (exclusive)"


def test_a_barcode_another_bench_takes_after_the_checks_is_a_conflict_and_nothing_is_written(
    session: Session, tech: Actor
) -> None:
    # The rows go in by COPY on PostgreSQL, which the engine's error handler never sees: the
    # unique key must still answer as the executemany on SQLite does, with a 409.
    make_subject(session, study_code="SUBJ-0001")
    rows, _ = read_rows(HashingReader(io.BytesIO(csv_bytes([import_row()]))))
    plan, problems = plan_import(session, rows, now=utcnow())
    assert problems == []
    other = make_aliquot(session)  # another bench labels its tube AQ-0001 meanwhile
    session.execute(update(Aliquot).where(Aliquot.id == other.id).values(barcode="AQ-0001"))

    with pytest.raises(Conflict, match="Another aliquot already has this barcode"):
        write_import(session, tech, plan, sha256="0" * 64, filename="race.csv")
    session.rollback()

    assert session.scalars(select(Aliquot.barcode)).all() == [other.barcode]
    assert session.scalar(select(Specimen.id).where(Specimen.barcode == "T-0001")) is None


def test_a_barcode_with_quotes_commas_and_backslashes_is_found_in_the_lims(
    session: Session, tech: Actor
) -> None:
    # PostgreSQL looks the file's barcodes up as one array, sent as its text form.
    make_subject(session, study_code="SUBJ-0001")
    odd = 'AQ-"1",{2}\\3'
    other = make_aliquot(session)
    session.execute(update(Aliquot).where(Aliquot.id == other.id).values(barcode=odd))

    with pytest.raises(InvalidInput) as err:
        import_aliquots(session, tech, data=csv_bytes([import_row(aliquot_barcode=odd)]))

    assert err.value.errors[0]["message"] == f"{odd} is already in use in the LIMS"


def test_parents_must_be_from_the_same_tube_and_not_loop(session: Session, tech: Actor) -> None:
    make_subject(session, study_code="SUBJ-0001")
    rows = [
        import_row(aliquot_barcode="AQ-001", parent_barcode="AQ-002"),
        import_row(aliquot_barcode="AQ-002", parent_barcode="AQ-001"),
        import_row(aliquot_barcode="AQ-003", parent_barcode="AQ-003"),
        import_row(aliquot_barcode="BQ-001", tube_barcode="T-9", parent_barcode="AQ-001"),
    ]
    with pytest.raises(InvalidInput) as err:
        import_aliquots(session, tech, data=csv_bytes(rows))
    assert {(2, "parent_barcode"), (4, "parent_barcode"), (5, "parent_barcode")} <= _problems(err)


def test_a_wrong_header_is_refused_before_any_row(session: Session, tech: Actor) -> None:
    columns = [c for c in import_row() if c != "volume_ul"] + ["colour"]
    rows = [{k: v for k, v in import_row().items() if k != "volume_ul"} | {"colour": "red"}]
    with pytest.raises(InvalidInput, match="missing required columns: volume_ul") as err:
        import_aliquots(session, tech, data=csv_bytes(rows, columns))
    assert {(e["row"], e["field"]) for e in err.value.errors} == {(1, "header")}


def test_rows_for_a_subject_who_withdrew_are_refused(session: Session, tech: Actor) -> None:
    subject = make_subject(session, study_code="SUBJ-0001")
    withdraw_consent(
        session, tech, study_code=subject.study_code, withdrawn_at=DRAWN, reason="letter"
    )
    with pytest.raises(InvalidInput) as err:
        import_aliquots(session, tech, data=csv_bytes([import_row()]))
    assert "withdrawn consent" in err.value.errors[0]["message"]


def test_aliquots_join_a_tube_and_visit_the_lims_already_has(session: Session, tech: Actor) -> None:
    subject = make_subject(session, study_code="SUBJ-0001")
    make_visit(session, subject)
    make_aliquot(session)  # another subject's tube, to be sure the right one is chosen
    first = import_aliquots(session, tech, data=csv_bytes([import_row()]))
    second = import_aliquots(
        session,
        tech,
        data=csv_bytes([import_row(aliquot_barcode="AQ-002", collected_at="", tube_type="SST")]),
    )
    assert (first.visits, first.tubes, second.visits, second.tubes) == (0, 1, 0, 0)
    (visit,) = subject_record(session, tech, "SUBJ-0001").visits
    assert [a.barcode for a in visit.specimens[0].aliquots] == ["AQ-0001", "AQ-002"]


def test_an_investigator_may_not_import(session: Session, investigator: Actor) -> None:
    with pytest.raises(Forbidden):
        import_aliquots(session, investigator, data=csv_bytes([import_row()]))


def test_the_template_is_a_valid_header_with_an_example(session: Session, tech: Actor) -> None:
    make_subject(session, study_code="NA1-0007")
    result = import_aliquots(session, tech, data=template_csv().encode())
    assert result.aliquots == 1


def test_five_thousand_rows_import_in_one_go(session: Session, tech: Actor) -> None:
    rows = []
    for s in range(1, 51):
        code = f"BULK-{s:04d}"
        make_subject(session, study_code=code)
        for v in range(1, 11):
            tube = f"T{s:03d}{v:02d}"
            day = f"2026-03-{v + 9}"  # each tube collected on its visit's day
            common = {
                "study_code": code,
                "visit_number": v,
                "visit_on": day,
                "collected_at": f"{day} 09:00",
                "received_at": f"{day} 09:20",
                "processing_started_at": f"{day} 09:45",
                "processed_at": f"{day} 10:25",
            }
            for a in range(8):
                rows.append(
                    import_row(**common, tube_barcode=tube + "S", aliquot_barcode=f"{tube}S{a}")
                )
            dna = {**common, "tube_barcode": tube + "E", "tube_type": "PED", "specimen_type": "dna"}
            rows.append(import_row(**dna, aliquot_barcode=tube + "D0", volume_ul=100))
            rows.append(import_row(**dna, aliquot_barcode=tube + "D1", parent_barcode=tube + "D0"))
    events_before = session.scalar(select(func.count(AuditEvent.id))) or 0

    result = import_aliquots(session, tech, data=csv_bytes(rows))

    assert (result.aliquots, result.tubes, result.visits) == (5000, 1000, 500)
    assert session.scalar(select(func.count(Aliquot.id))) == 5000
    events = (session.scalar(select(func.count(AuditEvent.id))) or 0) - events_before
    assert events == 1 + 500 + 1000 + 5000
    assert verify_chain(session).is_intact
