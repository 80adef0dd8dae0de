"""The data dictionary a site uploads into REDCap to build its project from our instruments."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from phenotype_link.catalog import lims_instruments
from phenotype_link.instruments import Choice, Field, Instrument
from phenotype_link.redcap import DICTIONARY_COLUMNS, dictionary_csv
from phenotype_link.redcap.sample import write_samples

DOCS = Path(__file__).resolve().parents[2] / "docs" / "redcap"
# REDCap's 18 columns, in order, as redcap.md 1.1.1 quotes them from REDCap's own files.
REDCAP_COLUMNS = [
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note",
    "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
    "Identifier?", "Branching Logic (Show field only if...)", "Required Field?",
    "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name", "Matrix Ranking?",
    "Field Annotation",
]  # fmt: skip


def rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(dictionary_csv(lims_instruments()))))


def test_the_dictionary_has_redcaps_columns_in_redcaps_order() -> None:
    header = next(csv.reader(io.StringIO(dictionary_csv(lims_instruments()))))

    assert header == REDCAP_COLUMNS == list(DICTIONARY_COLUMNS)
    assert all(
        len(row) == 18 for row in csv.reader(io.StringIO(dictionary_csv(lims_instruments())))
    )


def test_the_record_id_is_the_first_field_and_a_text_field() -> None:
    first = rows()[0]

    assert (first["Variable / Field Name"], first["Field Type"]) == ("record_id", "text")
    assert first["Form Name"] == "visit"


def test_checkbox_choices_are_code_comma_label_separated_by_bars() -> None:
    regions = next(r for r in rows() if r["Variable / Field Name"] == "dx_regions")

    assert regions["Field Type"] == "checkbox"
    pairs = regions["Choices, Calculations, OR Slider Labels"].split(" | ")
    assert pairs[:2] == ["1, Eyes / upper face", "2, Lower face"]
    assert all(pair.split(", ", 1)[0].isdigit() for pair in pairs)


def test_dates_and_numbers_are_validated_text_fields_with_their_limits() -> None:
    by_name = {r["Variable / Field Name"]: r for r in rows()}
    validation = "Text Validation Type OR Show Slider Number"

    assert (by_name["btx_date"]["Field Type"], by_name["btx_date"][validation]) == (
        "text",
        "date_ymd",
    )
    onset = by_name["dx_onset_age"]
    assert (onset[validation], onset["Text Validation Min"], onset["Text Validation Max"]) == (
        "integer",
        "0",
        "120",
    )
    assert by_name["jrs_severity"]["Text Validation Max"] == "4"
    assert by_name["btx_date"]["Required Field?"] == "y"


def test_free_text_fields_are_flagged_as_identifiers() -> None:
    flagged = {r["Variable / Field Name"] for r in rows() if r["Identifier?"] == "y"}

    assert flagged == {"voice_comment", "gen_variant"}


def test_every_instrument_and_every_rating_scale_is_a_form() -> None:
    forms = {r["Form Name"] for r in rows()}

    assert {"diagnosis", "botulinum_toxin", "oral_medication", "dbs", "voice_speech"} <= forms
    assert {"family_history", "genetic_test", "jrs", "bfmdrs_m", "twstrs", "vhi"} <= forms


def test_variable_names_are_unique_and_redcap_safe() -> None:
    names = [r["Variable / Field Name"] for r in rows()]

    assert len(names) == len(set(names))
    assert all(n[0].isalpha() and "__" not in n and n == n.lower() for n in names)
    # REDCap warns above 26 characters (redcap.md 1.2.8); no site should have to click it away.
    assert max(len(n) for n in names) <= 26


def test_a_field_name_used_twice_is_refused() -> None:
    field = Field("dx_type", "Type", "integer")
    twice = [Instrument("one", "One", (field,)), Instrument("two", "Two", (field,))]

    with pytest.raises(ValueError, match="dx_type is also in one"):
        dictionary_csv(twice)


def test_a_bar_inside_a_choice_label_is_refused() -> None:
    field = Field("colour", "Colour", "radio", choices=(Choice("1", "red | blue"),))

    with pytest.raises(ValueError, match=r"contains '\|'"):
        dictionary_csv([Instrument("one", "One", (field,))])


def test_the_files_in_docs_are_what_the_code_generates(tmp_path: Path) -> None:
    for made in write_samples(tmp_path):
        assert (DOCS / made.name).read_text() == made.read_text(), (
            f"docs/redcap/{made.name} is stale: python -m phenotype_link.redcap.sample docs/redcap"
        )
