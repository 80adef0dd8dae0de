"""Specimen-side factories: the worked SPREC example, DNA stocks, import files."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from lims.demo import CONSENT_V1, CONSENT_V2
from lims.specimens.consent_models import ConsentDocument, ConsentEvent
from lims.specimens.models import Aliquot, Specimen, SpecimenType, Subject, Temperature, TubeType
from lims.specimens.services import (
    PreAnalytics,
    accession_specimen,
    create_consent_document,
    extract_dna,
    record_consent,
)
from lims.specimens.services.imports import COLUMN_NAMES
from tests.factories import SYSTEM, make_visit

DRAWN = datetime(2026, 3, 18, 9, 0, tzinfo=UTC)


def worked_example(drawn: datetime = DRAWN) -> PreAnalytics:
    """Serum in SST, clotted 45 min at RT, spun 1300 g 10 min RT with brake, no second spin,
    aliquoted within 1 h at RT, stored at -80 °C: SER-SST-A-B-N-B-A by the SPREC tables
    (Lehmann et al., Biopreserv Biobank 2012;10(4):366-374)."""
    return PreAnalytics(
        collected_at=drawn,
        received_at=drawn + timedelta(minutes=20),
        processing_started_at=drawn + timedelta(minutes=45),
        pre_processing_temperature=Temperature.ROOM,
        centrifuge_g=1300,
        centrifuge_minutes=10,
        centrifuge_temperature=Temperature.ROOM,
        centrifuge_braked=True,
        processed_at=drawn + timedelta(minutes=45 + 10 + 30),
        storage_temperature_c=-80,
        is_second_spun=False,
    )


def make_edta_tube(session: Session, subject: Subject | None = None) -> Specimen:
    visit = make_visit(session, subject) if subject else make_visit(session)
    return accession_specimen(
        session,
        SYSTEM,
        study_code=visit.subject.study_code,
        visit_number=visit.visit_number,
        specimen_type=SpecimenType.WHOLE_BLOOD,
        tube_type=TubeType.PED,
        volume_ml=4.0,
        pre=PreAnalytics(
            collected_at=DRAWN,
            processed_at=DRAWN + timedelta(hours=5),
            pre_processing_temperature=Temperature.COLD,
            storage_temperature_c=-80,
        ),
    )


def make_dna_stock(session: Session, *, volume_ul: int = 200) -> Aliquot:
    tube = make_edta_tube(session)
    return extract_dna(
        session,
        SYSTEM,
        specimen_barcode=tube.barcode,
        volume_ul=volume_ul,
        concentration_ng_ul=50.0,
        a260_280=1.85,
    )


def import_row(**values: object) -> dict[str, str]:
    """One serum aliquot row of a new tube at a new visit, with any value overridden."""
    row = {
        "study_code": "SUBJ-0001",
        "visit_number": "1",
        "visit_on": "2026-03-18",
        "tube_barcode": "T-0001",
        "tube_type": "SST",
        "tube_volume_ml": "6",
        "collected_at": "2026-03-18 09:00",
        "received_at": "2026-03-18 09:20",
        "processing_started_at": "2026-03-18 09:45",
        "pre_processing_temperature": "RT",
        "centrifuge_g": "1300",
        "centrifuge_minutes": "10",
        "centrifuge_temperature": "RT",
        "centrifuge_braked": "yes",
        "processed_at": "2026-03-18 10:25",
        "storage_temperature_c": "-80",
        "is_second_spun": "no",
        "aliquot_barcode": "AQ-0001",
        "specimen_type": "serum",
        "volume_ul": "250",
        "concentration_ng_ul": "",
        "a260_280": "",
        "parent_barcode": "",
    }
    row.update({k: str(v) for k, v in values.items()})
    return row


def csv_bytes(rows: Iterable[Mapping[str, str]], columns: Iterable[str] | None = None) -> bytes:
    """The rows as a CSV file. Without `columns`, the header has the columns the rows use, in
    template order: the optional quality columns (issue #16) only when a row gives them."""
    rows = list(rows)
    used = {name for row in rows for name in row}
    names = list(columns) if columns is not None else [c for c in COLUMN_NAMES if c in used]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def make_consent_form(
    session: Session, *, version: str = "1.0", effective_on: date = date(2022, 6, 1)
) -> ConsentDocument:
    """The demo's consent form: version 1.0 (GRU, HMB, DS, genetic, commercial, sharing...) or
    2.0, which adds ancestry research (POA) and an ethics-approval condition (IRB)."""
    return create_consent_document(
        session,
        SYSTEM,
        name="Dystonia Biobank participant consent",
        version=version,
        effective_on=effective_on,
        irb_reference=f"IRB-TEST-{version}",
        statements=CONSENT_V1 if version == "1.0" else CONSENT_V2,
    )


def give_consent(
    session: Session, subject: Subject, form: ConsentDocument, on: date, **answers: bool
) -> ConsentEvent:
    """Consent on a form: yes to every statement unless told otherwise."""
    given = {s.code: answers.get(s.code, True) for s in form.statements}
    return record_consent(
        session,
        SYSTEM,
        study_code=subject.study_code,
        document_id=form.id,
        consented_on=on,
        answers=given,
    )
