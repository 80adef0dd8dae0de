"""DNA and serum quality (issue #16): recorded by the services, shown by the API and the pages,
read from the CSV import and written to the export; dilutions keep their lineage."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.models import Action
from lims.audit.services import events_for
from lims.errors import Conflict, InvalidInput, field_label
from lims.specimens.models import Aliquot, Specimen, SpecimenType, TubeType
from lims.specimens.quality import (
    ExtractionMethod,
    InterferenceGrade,
    QuantificationMethod,
)
from lims.specimens.services import (
    accession_specimen,
    extract_dna,
    import_aliquots,
    sub_aliquot,
)
from tests.conftest import bearer, sign_in
from tests.factories import make_visit
from tests.specimens.factories import csv_bytes, import_row, make_edta_tube, worked_example


def _stock(session: Session, actor: Actor, *, volume_ul: int = 200) -> Aliquot:
    tube = make_edta_tube(session)
    return extract_dna(
        session,
        actor,
        specimen_barcode=tube.barcode,
        volume_ul=volume_ul,
        concentration_ng_ul=120.0,
        a260_280=1.84,
        a260_230=2.1,
        quantification_method=QuantificationMethod.FLUOROMETRY,
        din=8.6,
        extraction_method=ExtractionMethod.SILICA_COLUMN,
        extraction_kit="QIAamp DNA Blood Mini",
        extracted_on=date(2026, 3, 19),
    )


def test_a_dna_extraction_records_its_quality_method_kit_date_and_operator(
    session: Session, tech: Actor
) -> None:
    stock = _stock(session, tech)
    assert (stock.a260_230, stock.din) == (2.1, 8.6)
    assert stock.quantification_method is QuantificationMethod.FLUOROMETRY
    assert stock.extraction_kit == "QIAamp DNA Blood Mini"
    assert (stock.extracted_on, stock.extracted_by) == (date(2026, 3, 19), tech.username)
    # The DNA derivative code, not the blood's fluid code: stored at -80 °C, never thawed.
    assert (stock.sprec_code, stock.sprec_version) == (
        "DNA-BLD-C-A-0",
        "ibru-derivative-unverified",
    )
    (created,) = events_for(session, stock)
    assert created.after is not None
    assert (
        created.after["a260_230"] == 2.1 and created.after["extraction_method"] == "silica_column"
    )
    assert created.after["sprec_code"] == "DNA-BLD-C-A-0"


@pytest.mark.parametrize(
    ("field", "value"), [("a260_230", 5.5), ("a260_230", 0.0), ("din", 0.5), ("din", 10.5)]
)
def test_an_impossible_dna_quality_value_is_refused(
    session: Session, tech: Actor, field: str, value: float
) -> None:
    tube = make_edta_tube(session)
    with pytest.raises(InvalidInput, match=field_label(field)) as refused:
        extract_dna(
            session,
            tech,
            specimen_barcode=tube.barcode,
            volume_ul=200,
            concentration_ng_ul=50,
            **{field: value},
        )
    assert refused.value.errors[0]["field"] == field  # scripts keep the name


def test_a_dilution_records_its_parent_and_factor_and_divides_the_concentration(
    session: Session, tech: Actor
) -> None:
    stock = _stock(session, tech, volume_ul=200)
    (working,) = sub_aliquot(
        session, tech, parent_barcode=stock.barcode, count=1, volume_ul=100, dilution_factor=10
    )
    assert working.parent is stock and working.dilution_factor == 10
    assert working.concentration_ng_ul == pytest.approx(12.0)  # 120 / 10
    assert working.a260_280 == stock.a260_280 and working.din == stock.din  # the same DNA
    assert working.extraction_method is ExtractionMethod.SILICA_COLUMN
    assert stock.volume_ul == 190  # 100 µL at 1:10 takes 10 µL of stock
    drawn = events_for(session, stock)[-1]
    assert drawn.action == Action.ALIQUOT_SUB_ALIQUOTED and drawn.after is not None
    assert drawn.after["volume_each_ul"] == 10 and drawn.after["dilution_factor"] == 10
    created = events_for(session, working)[0].after
    assert created is not None and created["process"] == "dilution"
    assert created["concentration_ng_ul"] == pytest.approx(12.0)


def test_a_plain_sub_aliquot_keeps_the_stock_concentration(session: Session, tech: Actor) -> None:
    stock = _stock(session, tech)
    (sub,) = sub_aliquot(session, tech, parent_barcode=stock.barcode, count=1, volume_ul=50)
    assert sub.concentration_ng_ul == 120.0 and sub.dilution_factor is None
    assert stock.volume_ul == 150


def test_a_dilution_factor_of_one_or_less_is_refused(session: Session, tech: Actor) -> None:
    stock = _stock(session, tech)
    with pytest.raises(InvalidInput, match="Dilution factor must be above 1"):
        sub_aliquot(
            session, tech, parent_barcode=stock.barcode, count=1, volume_ul=50, dilution_factor=1
        )


def test_a_dilution_the_stock_cannot_supply_is_refused_with_the_stock_volume_needed(
    session: Session, tech: Actor
) -> None:
    stock = _stock(session, tech, volume_ul=20)
    with pytest.raises(Conflict, match="3 × 10 µL needs 30 µL"):
        sub_aliquot(
            session, tech, parent_barcode=stock.barcode, count=3, volume_ul=100, dilution_factor=10
        )


def _serum_tube(session: Session, actor: Actor) -> Specimen:
    visit = make_visit(session)
    pre = worked_example()
    from dataclasses import replace

    pre = replace(
        pre,
        hemolysis=InterferenceGrade.SLIGHT,
        lipemia=InterferenceGrade.NONE,
        icterus=InterferenceGrade.NONE,
        is_fasting=True,
        clotting_minutes=35,
    )
    return accession_specimen(
        session,
        actor,
        study_code=visit.subject.study_code,
        visit_number=visit.visit_number,
        specimen_type=SpecimenType.WHOLE_BLOOD,
        tube_type=TubeType.SST,
        pre=pre,
    )


def test_accessioning_records_serum_quality_and_audits_it(session: Session, tech: Actor) -> None:
    tube = _serum_tube(session, tech)
    assert (tube.hemolysis, tube.is_fasting, tube.clotting_minutes) == (
        InterferenceGrade.SLIGHT,
        True,
        35,
    )
    (event,) = events_for(session, tube)
    assert event.after is not None
    assert event.after["hemolysis"] == "slight" and event.after["clotting_minutes"] == 35


def test_a_negative_clotting_time_is_refused(session: Session, tech: Actor) -> None:
    from dataclasses import replace

    visit = make_visit(session)
    with pytest.raises(InvalidInput, match="clotting"):
        accession_specimen(
            session,
            tech,
            study_code=visit.subject.study_code,
            visit_number=visit.visit_number,
            specimen_type=SpecimenType.WHOLE_BLOOD,
            tube_type=TubeType.SST,
            pre=replace(worked_example(), clotting_minutes=-5),
        )


# ---- API ------------------------------------------------------------------------------------


def test_the_api_records_and_shows_dna_quality_and_dilutions(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    headers = bearer(client, "tech")
    tube = make_edta_tube(session)
    body: dict[str, Any] = {
        "volume_ul": 200,
        "concentration_ng_ul": 80,
        "a260_280": 1.8,
        "a260_230": 2.05,
        "quantification_method": "uv_spectrophotometry",
        "gel_integrity": "intact",
        "extraction_method": "salting_out",
        "extraction_kit": "Gentra Puregene",
        "extracted_on": "2026-03-19",
    }
    made = client.post(
        f"/api/v1/specimens/{tube.barcode}/dna-extractions", json=body, headers=headers
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    stock = made.get_json()
    assert stock["a260_230"] == 2.05 and stock["gel_integrity"] == "intact"
    assert stock["quantification_method"] == "uv_spectrophotometry"
    assert stock["sprec_code"] == "DNA-BLD-S-A-0" and stock["extracted_by"] == "tech"

    diluted = client.post(
        f"/api/v1/aliquots/{stock['barcode']}/sub-aliquots",
        json={"count": 2, "volume_ul": 50, "dilution_factor": 4},
        headers=headers,
    )
    assert diluted.status_code == 201, diluted.get_data(as_text=True)
    children = diluted.get_json()["aliquots"]
    assert [c["concentration_ng_ul"] for c in children] == [20.0, 20.0]
    assert {c["parent_barcode"] for c in children} == {stock["barcode"]}
    assert {c["dilution_factor"] for c in children} == {4.0}

    bad = client.post(
        f"/api/v1/aliquots/{stock['barcode']}/sub-aliquots",
        json={"count": 1, "volume_ul": 50, "dilution_factor": 0.5},
        headers=headers,
    )
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"


def test_the_api_records_and_shows_serum_quality(client: FlaskClient, tech: Actor) -> None:
    headers = bearer(client, "tech")
    visit = client.post(
        "/api/v1/subjects",
        json={
            "study_code": "NA1-0901",
            "site_code": "NA1",
            "sex": "female",
            "primary_diagnosis": "limb",
        },
        headers=headers,
    )
    assert visit.status_code == 201
    client.post(
        "/api/v1/subjects/NA1-0901/visits",
        json={"visit_number": 1, "visit_on": "2026-03-18"},
        headers=headers,
    )
    tube = {
        "study_code": "NA1-0901",
        "visit_number": 1,
        "tube_type": "SST",
        "collected_at": "2026-03-18T09:00:00Z",
        "hemolysis": "moderate",
        "lipemia": "none",
        "icterus": "slight",
        "is_fasting": False,
        "clotting_minutes": 40,
    }
    made = client.post("/api/v1/specimens", json=tube, headers=headers)
    assert made.status_code == 201, made.get_data(as_text=True)
    shown = client.get(f"/api/v1/specimens/{made.get_json()['barcode']}", headers=headers)
    out = shown.get_json()
    assert (out["hemolysis"], out["lipemia"], out["icterus"]) == ("moderate", "none", "slight")
    assert out["is_fasting"] is False and out["clotting_minutes"] == 40
    assert out["sprec_code"].split("-")[4] == "X"  # second spin not recorded: unknown


# ---- import and export ----------------------------------------------------------------------


def test_the_import_reads_the_quality_columns(session: Session, tech: Actor) -> None:
    from tests.factories import make_subject

    make_subject(session, study_code="SUBJ-0001")
    rows = [
        import_row(hemolysis="slight", is_fasting="yes", clotting_minutes="30"),
        import_row(
            aliquot_barcode="D-STOCK",
            tube_barcode="T-0002",
            tube_type="PED",
            specimen_type="dna",
            volume_ul="200",
            concentration_ng_ul="100",
            a260_280="1.8",
            a260_230="2.1",
            quantification_method="fluorometry",
            din="7.5",
            extraction_method="magnetic_beads",
            extraction_kit="EZ1 DSP",
            extracted_on="2026-03-19",
            extracted_by="jdoe",
            **dict.fromkeys(("centrifuge_g", "centrifuge_minutes", "centrifuge_temperature"), ""),
            centrifuge_braked="",
        ),
        import_row(
            aliquot_barcode="D-WORK",
            tube_barcode="T-0002",
            tube_type="PED",
            specimen_type="dna",
            volume_ul="100",
            concentration_ng_ul="10",
            dilution_factor="10",
            parent_barcode="D-STOCK",
            **dict.fromkeys(("centrifuge_g", "centrifuge_minutes", "centrifuge_temperature"), ""),
            centrifuge_braked="",
        ),
    ]
    import_aliquots(session, tech, data=csv_bytes(rows))
    serum_tube = session.scalar(select(Specimen).where(Specimen.barcode == "T-0001"))
    assert serum_tube is not None
    assert (serum_tube.hemolysis, serum_tube.is_fasting, serum_tube.clotting_minutes) == (
        InterferenceGrade.SLIGHT,
        True,
        30,
    )
    stock = session.scalar(select(Aliquot).where(Aliquot.barcode == "D-STOCK"))
    assert stock is not None and (stock.a260_230, stock.din) == (2.1, 7.5)
    assert stock.extraction_method is ExtractionMethod.MAGNETIC_BEADS
    assert (stock.extracted_on, stock.extracted_by) == (date(2026, 3, 19), "jdoe")
    work = session.scalar(select(Aliquot).where(Aliquot.barcode == "D-WORK"))
    assert work is not None and work.parent is stock and work.dilution_factor == 10


def test_the_import_names_a_bad_quality_value(session: Session, tech: Actor) -> None:
    from tests.factories import make_subject

    make_subject(session, study_code="SUBJ-0001")
    with pytest.raises(InvalidInput) as err:
        import_aliquots(session, tech, data=csv_bytes([import_row(hemolysis="pink", din="12")]))
    fields = {(e["row"], e["field"]) for e in err.value.errors}
    assert {(2, "hemolysis"), (2, "din")} <= fields


def test_the_template_csv_documents_the_new_optional_columns(tech: Actor) -> None:
    from lims.specimens.services.imports import COLUMNS, REQUIRED, template_csv

    header = next(csv.reader(io.StringIO(template_csv())))
    for name in (
        "hemolysis",
        "is_fasting",
        "clotting_minutes",
        "a260_230",
        "din",
        "dilution_factor",
    ):
        assert name in header and name not in REQUIRED
    assert all(c.meaning for c in COLUMNS)


def test_the_export_carries_each_tubes_sprec_and_quality(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    stock = _stock(session, tech)
    sign_in(client, "tech")
    response = client.get("/aliquots/export.csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    row = next(r for r in rows if r["barcode"] == stock.barcode)
    assert row["sprec_code"] == "DNA-BLD-C-A-0"
    assert row["a260_230"] == "2.1" and row["din"] == "8.6"
    assert row["quantification_method"] == "fluorometry"
    assert row["extraction_kit"] == "QIAamp DNA Blood Mini"


def test_the_tube_and_aliquot_pages_show_the_quality(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tube = _serum_tube(session, tech)
    stock = _stock(session, tech)
    sign_in(client, "tech")
    page = client.get(f"/specimens/{tube.barcode}").get_data(as_text=True)
    assert "hemolysis slight" in page and "35 min" in page
    page = client.get(f"/aliquots/{stock.barcode}").get_data(as_text=True)
    assert "DNA-BLD-C-A-0" in page and "A260/230 2.1" in page and "DIN 8.6" in page
    assert "QIAamp DNA Blood Mini" in page
