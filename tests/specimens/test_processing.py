from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.models import Action
from lims.audit.services import events_for
from lims.errors import Conflict, Forbidden, InvalidInput, NotFound
from lims.specimens import barcodes
from lims.specimens.models import Aliquot, AliquotStatus, Specimen, SpecimenType, TubeType
from lims.specimens.services import (
    accession_specimen,
    aliquot_specimen,
    extract_dna,
    get_specimen,
    installation_number,
    issue_serials,
    sub_aliquot,
)
from tests.factories import make_specimen, make_visit
from tests.specimens.factories import make_dna_stock, make_edta_tube, worked_example


def _accession(session: Session, actor: Actor, **kwargs: Any) -> Specimen:
    visit = make_visit(session)
    values: dict[str, Any] = {
        "study_code": visit.subject.study_code,
        "visit_number": visit.visit_number,
        "specimen_type": SpecimenType.WHOLE_BLOOD,
        "tube_type": TubeType.SST,
        "pre": worked_example(),
        "volume_ml": 6.0,
    }
    return accession_specimen(session, actor, **{**values, **kwargs})


def test_accessioning_stores_the_computed_sprec_code_and_audits_it(
    session: Session, tech: Actor
) -> None:
    tube = _accession(session, tech)
    assert tube.sprec_code == "SER-SST-A-B-N-B-A"
    assert barcodes.check_problem(tube.barcode) is None
    (event,) = events_for(session, tube)
    assert event.action == Action.SPECIMEN_ACCESSIONED
    assert event.after is not None
    assert event.after["sprec_code"] == "SER-SST-A-B-N-B-A" and event.after["sprec_version"]


def test_a_pre_printed_tube_barcode_is_taken_as_scanned(session: Session, tech: Actor) -> None:
    tube = _accession(session, tech, barcode=" fx-0012345 ")
    assert tube.barcode == "FX-0012345"
    with pytest.raises(Conflict, match="FX-0012345 is already in use"):
        _accession(session, tech, barcode="FX-0012345")


def test_a_barcode_carrying_our_number_must_have_been_issued(session: Session, tech: Actor) -> None:
    ours = installation_number(session)
    unissued = barcodes.aliquot_barcode(900_000, installation=ours)
    with pytest.raises(InvalidInput, match=rf"carries this installation's number \({ours}\)"):
        _accession(session, tech, barcode=unissued)
    (serial,) = issue_serials(session, "aliquot", 1)
    tube = _accession(session, tech, barcode=barcodes.aliquot_barcode(serial, installation=ours))
    assert tube.barcode == barcodes.aliquot_barcode(serial, installation=ours)


def test_a_barcode_carrying_another_installations_number_is_that_installations_tube(
    session: Session, tech: Actor
) -> None:
    theirs = (installation_number(session) + 1) % 10
    code = barcodes.aliquot_barcode(900_000, installation=theirs)

    tube = _accession(session, tech, barcode=code)

    assert tube.barcode == code


def test_a_mistyped_check_digit_is_refused(session: Session, tech: Actor) -> None:
    (serial,) = issue_serials(session, "aliquot", 1)
    code = barcodes.aliquot_barcode(serial, installation=installation_number(session))
    typo = code[:-1] + str((int(code[-1]) + 1) % 10)
    with pytest.raises(InvalidInput, match="wrong check digit"):
        _accession(session, tech, barcode=typo)


def test_times_before_collection_are_refused_naming_the_field(
    session: Session, tech: Actor
) -> None:
    pre = worked_example()
    early = replace(pre, received_at=pre.collected_at - timedelta(hours=1))
    with pytest.raises(InvalidInput) as err:
        _accession(session, tech, pre=early)
    assert "received_at" in err.value.field_errors


def test_impossible_centrifugation_values_are_refused(session: Session, tech: Actor) -> None:
    with pytest.raises(InvalidInput) as err:
        _accession(session, tech, pre=replace(worked_example(), centrifuge_g=0))
    assert set(err.value.field_errors) == {"centrifuge_g"}


def test_a_reviewer_may_not_accession(session: Session, reviewer: Actor) -> None:
    with pytest.raises(Forbidden):
        _accession(session, reviewer)


def test_a_tube_is_split_into_n_serum_aliquots_of_v(session: Session, tech: Actor) -> None:
    tube = make_specimen(session)
    made = aliquot_specimen(
        session,
        tech,
        specimen_barcode=tube.barcode,
        specimen_type=SpecimenType.SERUM,
        count=4,
        volume_ul=250,
    )
    assert [(a.volume_ul, a.status) for a in made] == [(250, AliquotStatus.RECEIVED)] * 4
    assert all(barcodes.check_problem(a.barcode) is None for a in made)
    assert len({a.barcode for a in made}) == 4
    assert [e.action for e in events_for(session, made[0])] == [Action.ALIQUOT_CREATED]


def test_scanned_aliquot_barcodes_are_used_and_a_repeated_scan_is_refused(
    session: Session, tech: Actor
) -> None:
    tube = make_specimen(session)
    made = aliquot_specimen(
        session,
        tech,
        specimen_barcode=tube.barcode,
        specimen_type=SpecimenType.SERUM,
        count=2,
        volume_ul=500,
        barcodes_given=["fx-1", "FX-2"],
    )
    assert [a.barcode for a in made] == ["FX-1", "FX-2"]
    assert not any(a.is_issued_barcode for a in made)
    with pytest.raises(InvalidInput, match="FX-3 was scanned twice"):
        aliquot_specimen(
            session,
            tech,
            specimen_barcode=tube.barcode,
            specimen_type=SpecimenType.SERUM,
            count=2,
            volume_ul=500,
            barcodes_given=["FX-3", "FX-3"],
        )


def test_dna_extraction_records_the_stock_and_its_yield(session: Session, tech: Actor) -> None:
    tube = make_edta_tube(session)
    stock = extract_dna(
        session,
        tech,
        specimen_barcode=tube.barcode,
        volume_ul=200,
        concentration_ng_ul=45.5,
        a260_280=1.82,
    )
    assert stock.specimen_type is SpecimenType.DNA and stock.parent is None
    assert stock.total_ug == 9.1
    (event,) = events_for(session, stock)
    assert event.after is not None and event.after["process"] == "dna_extraction"
    assert event.after["sprec_code"] == "DNA-BLD-X-A-0"  # no method given: X


def test_dna_is_not_extracted_from_a_serum_tube(session: Session, tech: Actor) -> None:
    with pytest.raises(Conflict, match="serum tube"):
        extract_dna(
            session,
            tech,
            specimen_barcode=make_specimen(session).barcode,
            volume_ul=200,
            concentration_ng_ul=9,
        )


def test_an_impossible_purity_ratio_is_refused(session: Session, tech: Actor) -> None:
    tube = make_edta_tube(session)
    with pytest.raises(InvalidInput, match="A260/280 7 is outside"):
        extract_dna(
            session,
            tech,
            specimen_barcode=tube.barcode,
            volume_ul=200,
            concentration_ng_ul=9,
            a260_280=7,
        )


def test_sub_aliquots_take_their_volume_out_of_the_stock(session: Session, tech: Actor) -> None:
    stock = make_dna_stock(session, volume_ul=200)
    subs = sub_aliquot(session, tech, parent_barcode=stock.barcode, count=3, volume_ul=50)
    assert stock.volume_ul == 50
    assert [s.parent for s in subs] == [stock] * 3
    assert all(s.concentration_ng_ul == stock.concentration_ng_ul for s in subs)
    event = events_for(session, stock)[-1]
    assert event.action == Action.ALIQUOT_SUB_ALIQUOTED
    assert event.before == {"volume_ul": 200} and event.after is not None
    assert event.after["volume_ul"] == 50 and len(event.after["sub_aliquots"]) == 3


def test_a_stock_that_does_not_hold_enough_is_refused_naming_it_and_the_volumes(
    session: Session, tech: Actor
) -> None:
    stock = make_dna_stock(session, volume_ul=100)
    before = session.scalar(select(func.count(Aliquot.id)))
    with pytest.raises(Conflict) as err:
        sub_aliquot(session, tech, parent_barcode=stock.barcode, count=3, volume_ul=50)
    assert err.value.detail == f"Stock {stock.barcode} holds 100 µL; 3 × 50 µL needs 150 µL"
    assert stock.volume_ul == 100
    assert session.scalar(select(func.count(Aliquot.id))) == before


def test_a_disposed_stock_gives_nothing(session: Session, tech: Actor) -> None:
    stock = make_dna_stock(session)
    stock.status = AliquotStatus.DISPOSED  # storage's service would do this; only the state matters
    with pytest.raises(Conflict, match="disposed"):
        sub_aliquot(session, tech, parent_barcode=stock.barcode, count=1, volume_ul=10)


def test_a_parent_from_another_tube_is_refused(session: Session, tech: Actor) -> None:
    stock = make_dna_stock(session)
    other = make_edta_tube(session)
    with pytest.raises(Conflict, match="comes from tube"):
        aliquot_specimen(
            session,
            tech,
            specimen_barcode=other.barcode,
            specimen_type=SpecimenType.DNA,
            count=1,
            volume_ul=10,
            parent_barcode=stock.barcode,
        )


def test_an_investigator_may_not_look_up_tubes(session: Session, investigator: Actor) -> None:
    tube = make_specimen(session)
    with pytest.raises(Forbidden):
        get_specimen(session, investigator, tube.barcode)


def test_a_tube_is_processed_by_its_scanned_barcode_and_an_unknown_one_is_named(
    session: Session, tech: Actor
) -> None:
    tube = make_specimen(session)
    made = aliquot_specimen(
        session,
        tech,
        specimen_barcode=f" {tube.barcode.lower()} ",
        specimen_type=SpecimenType.SERUM,
        count=1,
        volume_ul=250,
    )
    assert made[0].specimen is tube
    unknown = barcodes.aliquot_barcode(99_999, installation=installation_number(session))
    with pytest.raises(NotFound, match=f"No primary tube has barcode {unknown}") as err:
        extract_dna(session, tech, specimen_barcode=unknown, volume_ul=100, concentration_ng_ul=20)
    assert set(err.value.field_errors) == {"barcode"}


def test_a_tube_is_accessioned_to_a_visit_named_as_the_bench_names_it(
    session: Session, tech: Actor
) -> None:
    visit = make_visit(session)
    with pytest.raises(NotFound, match=f"{visit.subject.study_code} has no visit 9"):
        _accession(session, tech, study_code=visit.subject.study_code, visit_number=9)
    tube = _accession(session, tech, study_code=visit.subject.study_code.lower(), visit_number=1)
    assert tube.visit.subject is visit.subject
