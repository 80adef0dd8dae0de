"""Release rows: request pseudonyms, days instead of dates, "90+", no free text, a dictionary."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from phenotype_link.catalog import lims_instruments
from phenotype_link.deidentify import (
    LinkedRecord,
    ReleaseColumn,
    ReleaseRefused,
    deidentify,
    new_request_secret,
    pseudonym,
    release_columns,
)
from phenotype_link.instruments import Choice

SECRET = bytes(range(32))
DX = (Choice("1", "Cervical dystonia"), Choice("3", "Blepharospasm"))
COLUMNS = (
    ReleaseColumn("visit_date", "Visit date", "date"),
    ReleaseColumn("age_at_visit", "Age at the visit", "age_at"),
    ReleaseColumn("dx_type", "Dystonia type", "code", DX),
    ReleaseColumn("dx_onset_age", "Age at onset", "years"),
    ReleaseColumn("btx_dose_units", "Dose", "number", unit="units"),
    ReleaseColumn("aliquot", "Aliquot", "identifier"),
    ReleaseColumn("voice_comment", "Comment", "text"),
)


def linked(key: str, code: str, visit_on: date, born: date, **values: object) -> LinkedRecord:
    base = {
        "visit_date": visit_on,
        "age_at_visit": visit_on,
        "dx_type": "1",
        "dx_onset_age": 50,
        "btx_dose_units": Decimal(200),
        "aliquot": f"A{key}",
        "voice_comment": f"{code} seen on {visit_on}, strained voice",
    }
    return LinkedRecord(key, code, date(2021, 3, 1), {**base, **values}, birth_on=born)  # type: ignore[arg-type]


RECORDS = [
    linked("k-17", "NA1-0017", date(2021, 3, 1), date(1950, 6, 2)),
    linked("k-17", "NA1-0017", date(2022, 3, 15), date(1950, 6, 2)),
    linked("k-42", "EU1-0042", date(2023, 9, 30), date(1931, 1, 1), dx_onset_age=91),
]


def test_no_cell_holds_a_study_code_a_date_or_free_text() -> None:
    release = deidentify(RECORDS, COLUMNS, secret=SECRET)
    cells = [cell for row in release.rows for cell in row]

    assert not [c for c in cells if "NA1-0017" in c or "EU1-0042" in c]
    assert not [c for c in cells if re.search(r"\d{4}-\d{2}-\d{2}", c)]
    assert not [c for c in cells if "strained" in c]
    assert "voice_comment" not in release.columns
    assert release.withheld == {"voice_comment": "free text is never released"}


def test_dates_become_days_since_the_subjects_first_visit() -> None:
    release = deidentify(RECORDS, COLUMNS, secret=SECRET)
    day = release.columns.index("visit_day")

    assert [row[day] for row in release.rows] == [
        "0",
        "379",
        str((date(2023, 9, 30) - date(2021, 3, 1)).days),
    ]


def test_ages_of_90_and_over_are_released_as_90_plus() -> None:
    release = deidentify(RECORDS, COLUMNS, secret=SECRET)
    age, onset = release.columns.index("age_at_visit"), release.columns.index("dx_onset_age")

    assert [row[age] for row in release.rows] == ["70", "71", "90+"]
    assert [row[onset] for row in release.rows] == ["50", "50", "90+"]


def test_one_subject_gets_different_pseudonyms_in_two_requests() -> None:
    first = deidentify(RECORDS, COLUMNS, secret=SECRET)
    second = deidentify(RECORDS, COLUMNS, secret=new_request_secret())

    assert first.rows[0][0] == first.rows[1][0] != first.rows[2][0]
    assert first.rows[0][0] != second.rows[0][0]
    assert first.rows[0][0] == pseudonym(SECRET, "k-17") and len(first.rows[0][0]) == 16


def test_aliquot_barcodes_get_request_pseudonyms_too() -> None:
    release = deidentify(RECORDS, COLUMNS, secret=SECRET)
    aliquot = release.columns.index("aliquot")

    assert release.rows[0][aliquot] == pseudonym(SECRET, "Ak-17", namespace="aliquot")
    assert release.rows[0][aliquot] != release.rows[0][0]


def test_a_tube_label_is_released_as_printed_and_a_sentence_in_its_place_is_refused() -> None:
    label = ReleaseColumn("barcode", "Aliquot barcode", "tube_label")
    tube = LinkedRecord("k-1", "NA1-0001", date(2021, 3, 1), {"barcode": "DYS-000123-7"})
    typed = LinkedRecord("k-1", "NA1-0001", date(2021, 3, 1), {"barcode": "see the notes"})

    assert deidentify([tube], [label], secret=SECRET).rows[0][1] == "DYS-000123-7"
    with pytest.raises(ReleaseRefused, match="barcode"):
        deidentify([typed], [label], secret=SECRET)


def test_every_released_column_has_a_dictionary_entry() -> None:
    release = deidentify(RECORDS, COLUMNS, secret=SECRET)
    entries = {e.column: e for e in release.dictionary}

    assert list(entries) == list(release.columns)
    assert "1 = Cervical dystonia" in entries["dx_type"].values
    assert entries["visit_day"].values.startswith("days since the subject's first visit")
    assert release.dictionary_csv().splitlines()[0] == "column,label,type,values"


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ReleaseRefused, match="at least 32 bytes"):
        deidentify(RECORDS, COLUMNS, secret=b"password")


def test_a_code_outside_the_columns_choices_is_refused_as_possible_free_text() -> None:
    odd = [linked("k-1", "NA1-0001", date(2021, 3, 1), date(1960, 1, 1), dx_type="see notes")]

    with pytest.raises(ReleaseRefused, match="dx_type"):
        deidentify(odd, COLUMNS, secret=SECRET)


def test_a_study_code_that_slips_into_a_number_column_stops_the_release() -> None:
    leaky = [ReleaseColumn("dx_type", "Dystonia type", "code", (Choice("NA1-0017", "oops"),))]
    record = LinkedRecord("k-17", "NA1-0017", date(2021, 3, 1), {"dx_type": "NA1-0017"})

    with pytest.raises(ReleaseRefused, match="study code or a date"):
        deidentify([record], leaky, secret=SECRET)


def test_the_instruments_give_release_columns_with_free_text_marked() -> None:
    columns = {c.name: c for c in release_columns(lims_instruments())}

    assert columns["voice_comment"].kind == "text" and columns["gen_variant"].kind == "text"
    assert columns["btx_date"].kind == "date" and columns["dx_onset_age"].kind == "years"
    assert columns["dx_regions"].kind == "codes"
