"""Importing REDCap exports as REDCap writes them: raw and label, longitudinal, repeating,
checkboxes, Missing Data Codes, mapping files; every problem named by row, record, event, field."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from phenotype_link.catalog import lims_instruments
from phenotype_link.redcap import (
    ExportErrors,
    ExportProblem,
    InstrumentRecord,
    MappingError,
    ParsedExport,
    load_mapping,
    parse_export,
    visit_number,
)
from phenotype_link.redcap.sample import SUBJECTS
from phenotype_link.redcap.writer import ExportRow, write_export

DOCS = Path(__file__).resolve().parents[2] / "docs" / "redcap"
TODAY = date(2026, 12, 1)
INSTRUMENTS = lims_instruments()
HEADER = (
    "record_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,"
    "visit_date,visit_complete,dx_type,dx_regions___1,dx_regions___5,dx_regions___unk,"
    "diagnosis_complete,btx_date,btx_product,btx_dose_units,btx_muscles___1,"
    "botulinum_toxin_complete\n"
)


def parse(text: str, **kw: object) -> ParsedExport:
    args: dict[str, object] = {"known_subjects": set(SUBJECTS), "today": TODAY, **kw}
    return parse_export(text, INSTRUMENTS, **args)  # type: ignore[arg-type]


def problems(text: str, **kw: object) -> list[ExportProblem]:
    with pytest.raises(ExportErrors) as caught:
        parse(text, **kw)
    return list(caught.value.problems)


def find(parsed: ParsedExport, record: str, instrument: str, **kw: object) -> InstrumentRecord:
    return next(
        r
        for r in parsed.records
        if r.record == record
        and r.instrument == instrument
        and all(getattr(r, k) == v for k, v in kw.items())
    )


def test_the_raw_sample_imports_longitudinal_repeating_and_checkbox_data() -> None:
    parsed = parse((DOCS / "sample-export-raw.csv").read_text())

    second = find(parsed, "NA2-0001", "botulinum_toxin", repeat_instance=2)
    spread = find(parsed, "EU1-0002", "diagnosis", visit_number=2)
    assert second.values["btx_dose_units"] == Decimal(220)
    assert second.values["btx_muscles"] == ("2", "3", "8")
    assert second.visit_date == date(2022, 4, 1)
    assert spread.values["dx_regions"] == ("1", "3")
    assert spread.event == "visit_2_arm_1" and spread.visit_date == date(2022, 4, 22)
    assert find(parsed, "NA2-0001", "visit").data_access_group == "na2"
    assert parsed.is_label_export is False


def test_the_label_sample_gives_the_same_records_as_the_raw_sample() -> None:
    raw = parse((DOCS / "sample-export-raw.csv").read_text())
    labels = parse((DOCS / "sample-export-labels.csv").read_text())

    assert labels.is_label_export is True
    assert [replace(r, event="") for r in labels.records] == [
        replace(r, event="") for r in raw.records
    ]
    assert labels.records[0].event == "Visit 1 (Arm 1: Arm 1)"


def test_a_rating_scale_is_scored_from_its_imported_items() -> None:
    parsed = parse((DOCS / "sample-export-raw.csv").read_text())

    jrs = find(parsed, "EU1-0002", "jrs", visit_number=1)
    severity, frequency = jrs.values["jrs_severity"], jrs.values["jrs_frequency"]
    assert isinstance(severity, int) and isinstance(frequency, int)
    assert jrs.score is not None and jrs.score.total == severity + frequency
    assert jrs.score.subscales == {"severity": severity, "frequency": frequency}


def test_instruments_left_blank_for_an_event_are_skipped() -> None:
    # Unticked boxes and a gray form export as 0 even when nothing was entered (redcap.md 4.5).
    text = HEADER + "NA2-0001,visit_1_arm_1,,,2023-01-05,2,,0,0,0,0,,,,,\n"

    assert [r.instrument for r in parse(text).records] == ["visit"]


def test_missing_data_codes_are_stored_as_codes_not_values() -> None:
    text = HEADER + (
        "NA2-0001,visit_1_arm_1,,,2023-01-05,2,UNK,0,0,1,2,,,,,\n"
        "NA2-0001,visit_1_arm_1,botulinum_toxin,1,,,,,,,,2022-12-01,1,NASK,1,2\n"
    )
    parsed = parse(text)

    assert find(parsed, "NA2-0001", "diagnosis").missing == {"dx_type": "UNK", "dx_regions": "UNK"}
    toxin = find(parsed, "NA2-0001", "botulinum_toxin")
    assert toxin.missing == {"btx_dose_units": "NASK"} and "btx_dose_units" not in toxin.values


def test_one_bad_cell_names_its_row_record_event_field_and_value() -> None:
    text = HEADER + (
        "NA2-0001,visit_1_arm_1,,,2023-01-05,2,1,0,1,0,2,,,,,\n"
        "NA2-0001,visit_1_arm_1,botulinum_toxin,1,,,,,,,,2022-12-01,1,-5,1,2\n"
    )

    assert problems(text) == [
        ExportProblem(
            3, "NA2-0001", "visit_1_arm_1", "btx_dose_units", "-5", "is below the minimum 0"
        )
    ]
    assert str(problems(text)[0]) == (
        "Row 3, record NA2-0001, event visit_1_arm_1, btx_dose_units: '-5' is below the minimum 0"
    )


def test_a_value_read_before_and_a_bad_one_repeated_are_each_handled_in_every_row() -> None:
    # Cell texts are parsed once per file and looked up after; problems are never looked up.
    text = HEADER + (
        "NA2-0001,visit_1_arm_1,,,2023-01-05,2,1,0,1,0,2,,,,,\n"
        "NA2-0001,visit_2_arm_1,,,2023-01-05,2,UNK,0,1,0,2,,,,,\n"
        "NA2-0001,visit_3_arm_1,,,2023-01-05,2,1,0,1,0,2,,,,,\n"
        "NA2-0001,visit_1_arm_1,botulinum_toxin,1,,,,,,,,2022-12-01,1,-5,1,2\n"
        "NA2-0001,visit_2_arm_1,botulinum_toxin,1,,,,,,,,2022-12-01,1,-5,1,2\n"
    )
    assert [(p.row, p.field) for p in problems(text)] == [
        (5, "btx_dose_units"),
        (6, "btx_dose_units"),
    ]
    parsed = parse(text.rsplit("NA2-0001,visit_1_arm_1,botulinum", 1)[0])
    diagnoses = [r for r in parsed.records if r.instrument == "diagnosis"]
    assert [(r.values.get("dx_type"), dict(r.missing)) for r in diagnoses] == [
        ("1", {}),
        (None, {"dx_type": "UNK"}),
        ("1", {}),
    ]


def test_every_problem_of_the_file_is_reported_at_once() -> None:
    text = HEADER + (
        "XX-9999,visit_1_arm_1,,,2023-01-05,2,1,0,1,0,2,,,,,\n"  # unknown subject
        "NA2-0001,visit_1_arm_1,,,2027-01-05,2,8,0,1,0,2,,,,,\n"  # future date, no choice 8
        "NA2-0001,visit_1_arm_1,,,2023-01-05,2,1,0,1,0,2,,,,,\n"  # the same event again
        "NA2-0001,screening_arm_1,,,2023-01-05,2,1,0,1,0,2,,,,,\n"  # names no visit
    )

    found = {(p.row, p.field, p.reason.split(" (")[0].split(";")[0]) for p in problems(text)}
    assert found == {
        (2, "record_id", "is not a study code the LIMS knows"),
        (3, "visit_date", "is in the future"),
        (3, "dx_type", "is not a choice of this field"),
        (4, "record_id", "repeats row 3"),
        (5, "redcap_event_name", "names no visit: use visit_<n>_... or map it"),
    }


def test_a_repeated_instance_of_a_repeating_instrument_is_an_error() -> None:
    row = "NA2-0001,visit_1_arm_1,botulinum_toxin,1,,,,,,,,2022-12-01,1,100,1,2\n"

    [problem] = problems(HEADER + row + row)
    assert (problem.row, problem.reason) == (
        3,
        "repeats row 2 (instance 1 of botulinum_toxin of this record)",
    )


def test_an_unknown_column_is_an_error_not_skipped() -> None:
    text = (
        "record_id,redcap_event_name,visit_date,favourite_colour\n"
        "NA2-0001,visit_1_arm_1,2023-01-05,red\n"
    )

    [problem] = problems(text)
    assert (problem.row, problem.field) == (1, "favourite_colour")
    assert "not a field of the LIMS dictionary" in problem.reason


def test_a_scale_item_out_of_range_is_an_error() -> None:
    text = (
        "record_id,redcap_event_name,jrs_severity,jrs_frequency,jrs_complete\n"
        "EU1-0002,visit_1_arm_1,5,2,2\n"
    )

    [problem] = problems(text)
    assert (problem.field, problem.value, problem.reason) == (
        "jrs_severity",
        "5",
        "is above the maximum 4",
    )


def test_a_missing_scale_item_leaves_the_score_unscored_with_a_flag_not_zero() -> None:
    text = "record_id,redcap_event_name,jrs_severity,jrs_frequency\nEU1-0002,visit_1_arm_1,3,UNK\n"

    jrs = find(parse(text), "EU1-0002", "jrs")
    assert jrs.missing == {"jrs_frequency": "UNK"}
    assert jrs.score is not None and jrs.score.total is None and jrs.score.flags


def test_a_bom_and_a_newline_inside_a_quoted_cell_are_read_as_redcap_writes_them() -> None:
    text = (
        "\ufeffrecord_id,redcap_event_name,voice_breaks,voice_comment\n"
        'NA2-0013,visit_1_arm_1,4,"strained\nvoice, worse when tired"\n'
    )

    voice = find(parse(text), "NA2-0013", "voice_speech")
    assert voice.values == {"voice_breaks": 4, "voice_comment": "strained\nvoice, worse when tired"}


def test_a_classic_project_without_events_is_visit_1() -> None:
    text = "record_id,visit_date,dx_type\nNA2-0013,2022-01-04,2\n"

    assert {r.visit_number for r in parse(text).records} == {1}


@pytest.mark.parametrize(
    ("event", "visit"),
    [("visit_1_arm_1", 1), ("visit_12_arm_2b", 12), ("Visit 3 (Arm 1: Arm 1)", 3), ("", 1)],
)
def test_the_event_rule_reads_the_visit_number_from_the_event_name(event: str, visit: int) -> None:
    assert visit_number(event, None) == visit


def test_events_the_rule_cannot_read_need_the_mapping() -> None:
    mapping = load_mapping("[events]\nbaseline_arm_1 = 1\nyear_2_arm_1 = 2\n")

    assert visit_number("year_2_arm_1", None) is None
    assert visit_number("year_2_arm_1", mapping) == 2


def test_another_projects_export_imports_through_its_mapping_file() -> None:
    mapping = load_mapping((DOCS / "other-project-mapping.toml").read_text())
    parsed = parse((DOCS / "other-project-export.csv").read_text(), mapping=mapping)

    diagnosis = find(parsed, "NA2-0001", "diagnosis")
    assert diagnosis.values == {"dx_type": "1", "dx_onset_age": 47, "dx_regions": ("5",)}
    assert find(parsed, "NA2-0001", "botulinum_toxin").values["btx_dose_units"] == Decimal(220)
    assert {r.visit_number for r in parsed.records} == {1}


def test_a_column_the_mapping_file_does_not_map_is_an_error() -> None:
    mapping = load_mapping('[fields]\nvdate = "visit_date"\n')
    text = "study_id,vdate,site_comment\nNA2-0001,2023-01-05,seen by Dr X\n"

    [problem] = problems(text, mapping=mapping)
    assert (problem.row, problem.field) == (1, "site_comment")
    assert "is not mapped" in problem.reason


def test_a_label_export_with_exported_checkbox_labels_reads_ticked_boxes() -> None:
    # exportCheckboxLabel=true writes the choice's label for a ticked box, blank otherwise.
    rows = [ExportRow("NA2-0001", "visit_1_arm_1", {"dx_type": "1", "dx_regions": ("5",)})]
    text = write_export(rows, INSTRUMENTS, labels=True)
    text = text.replace("Unchecked", "").replace("Checked", "Neck")

    assert find(parse(text), "NA2-0001", "diagnosis").values["dx_regions"] == ("5",)


def test_a_file_without_a_header_is_refused() -> None:
    assert problems("")[0].reason == "the file has no header row"


def test_a_row_with_more_or_fewer_cells_than_the_header_is_refused() -> None:
    # A line break in an unquoted cell shifts every later column (redcap.md 4.2).
    text = "record_id,redcap_event_name,voice_breaks\nNA2-0013,visit_1_arm_1\n"

    [problem] = problems(text)
    assert (problem.row, problem.reason) == (2, "has 2 cells where the header has 3")


def test_a_label_export_with_a_mapping_file_is_refused_with_the_reason() -> None:
    text = (DOCS / "sample-export-labels.csv").read_text()

    [problem] = problems(text, mapping=load_mapping(""))
    assert "needs an export with raw headers" in problem.reason


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ("[fields\n", "not valid TOML"),
        ("[events]\nbaseline_arm_1 = 0\n", "is not a visit number"),
        ("[colours]\nred = 1\n", "unknown tables ['colours']"),
        ('[fields]\nvdate = "Visit Date"\n', "are not REDCap variable names"),
        ("[ignore]\ncolumns = 3\n", "must be a list of column names"),
    ],
)
def test_a_broken_mapping_file_is_refused_naming_what_is_wrong(mapping: str, message: str) -> None:
    with pytest.raises(MappingError, match=re.escape(message)):
        load_mapping(mapping)


def test_a_repeating_event_gives_every_instrument_of_the_row_its_instance() -> None:
    # A whole event that repeats: the instance is set and the repeat instrument is blank.
    text = HEADER + (
        "NA2-0001,visit_1_arm_1,,1,2023-01-05,2,1,0,1,0,2,,,,,\n"
        "NA2-0001,visit_1_arm_1,,2,2023-02-05,2,1,1,1,0,2,,,,,\n"
    )

    diagnoses = [r for r in parse(text).records if r.instrument == "diagnosis"]
    assert [(d.repeat_instance, d.visit_date, d.values["dx_regions"]) for d in diagnoses] == [
        (1, date(2023, 1, 5), ("5",)),
        (2, date(2023, 2, 5), ("1", "5")),
    ]


def test_a_repeating_instruments_row_without_an_instance_is_refused() -> None:
    text = HEADER + "NA2-0001,visit_1_arm_1,botulinum_toxin,,,,,,,,,2022-12-01,1,100,1,2\n"

    [problem] = problems(text)
    assert (problem.field, problem.reason) == (
        "redcap_repeat_instance",
        "is needed in a row of botulinum_toxin",
    )


def test_survey_columns_are_read_past_not_refused() -> None:
    text = (
        "record_id,redcap_event_name,redcap_survey_identifier,voice_speech_timestamp,voice_breaks\n"
        "NA2-0013,visit_1_arm_1,,2023-01-05 10:12:00,4\n"
    )

    assert find(parse(text), "NA2-0013", "voice_speech").values == {"voice_breaks": 4}
