"""The criteria document: parsing, the canonical form, and the web form (no database)."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from lims.errors import InvalidInput
from lims.requests.criteria import criteria_from_form, form_values, parse_criteria
from lims.requests.protection import criteria_hash
from lims.specimens.duo import DuoTerm
from lims.specimens.models import Dystonia

FULL = {
    "purpose": {"term": "DS", "modifiers": ["NCU", "GSO"]},
    "diagnoses": ["cervical", "blepharospasm"],
    "body_regions": ["neck"],
    "specimen_types": ["serum"],
    "min_volume_ul": 200,
    "min_visits": 2,
    "scores": [
        {"scale": "twstrs", "min": 10, "max": 45.5},
        {"scale": "vhi", "subscale": "physical", "max": 20},
    ],
    "toxin_weeks": {"min": 12},
    "age": {"min": 18, "max": 80},
    "sexes": ["female"],
    "disease_duration_years": {"max": 10},
    "sites": ["na1", "EU1"],
    "sprec": {"pre_centrifugation": ["A", "b"]},
    "max_freeze_thaw": 2,
}


def problems(doc: dict[str, object]) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        parse_criteria(doc)
    return caught.value.field_errors


def test_a_purpose_alone_is_a_question_about_every_available_aliquot() -> None:
    criteria = parse_criteria({"purpose": {"term": "HMB"}})

    assert criteria.purpose.term is DuoTerm.HMB
    assert criteria.diagnoses == frozenset() and criteria.min_visits == 1
    assert criteria.document() == {"purpose": {"term": "DUO:0000006"}}


def test_every_criterion_is_read_and_written_back_canonically() -> None:
    criteria = parse_criteria(FULL)

    assert criteria.diagnoses == {Dystonia.CERVICAL, Dystonia.BLEPHAROSPASM}
    assert criteria.document() == {
        "purpose": {"term": "DUO:0000007", "modifiers": ["DUO:0000016", "DUO:0000046"]},
        "diagnoses": ["blepharospasm", "cervical"],
        "body_regions": ["neck"],
        "specimen_types": ["serum"],
        "min_volume_ul": 200,
        "min_visits": 2,
        "scores": [
            {"scale": "twstrs", "min": 10, "max": 45.5},
            {"scale": "vhi", "subscale": "physical", "max": 20},
        ],
        "toxin_weeks": {"min": 12},
        "age": {"min": 18, "max": 80},
        "sexes": ["female"],
        "disease_duration_years": {"max": 10},
        "sites": ["EU1", "NA1"],
        "sprec": {"pre_centrifugation": ["A", "B"]},
        "max_freeze_thaw": 2,
    }


def test_two_spellings_of_one_question_have_one_hash() -> None:
    one = {"purpose": {"term": "DUO:0000006"}, "diagnoses": ["cervical", "laryngeal"]}
    other = {"diagnoses": ["laryngeal", "cervical"], "min_visits": 1.0, "purpose": {"term": "hmb"}}

    assert criteria_hash(parse_criteria(one).document()) == criteria_hash(
        parse_criteria(other).document()
    )


def test_the_document_read_again_is_the_same_criteria() -> None:
    criteria = parse_criteria(FULL)

    assert parse_criteria(criteria.document()) == criteria


def test_a_score_range_upside_down_names_its_path() -> None:
    found = problems({"purpose": HMB, "scores": [{"scale": "twstrs", "min": 30, "max": 10}]})

    assert found == {"criteria.scores[0].max": "10 is below the minimum 30"}


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    found = problems(
        {
            "purpose": {"term": "NCU"},
            "diagnoses": ["cervical", "migraine"],
            "age": {"min": "old"},
            "scores": [{"scale": "twstrs", "subscale": "mood", "min": 1}],
            "sprec": {"pre_centrifugation": ["7"]},
            "colour": "blue",
        }
    )

    assert set(found) == {
        "criteria.purpose.term",
        "criteria.diagnoses[1]",
        "criteria.age.min",
        "criteria.scores[0].subscale",
        "criteria.sprec.pre_centrifugation",
        "criteria.colour",
    }
    assert "modifier, not a research purpose" in found["criteria.purpose.term"]
    assert "'migraine' is not one of" in found["criteria.diagnoses[1]"]


def test_the_purpose_is_required_so_consent_can_be_checked() -> None:
    assert "is required" in problems({"diagnoses": ["cervical"]})["criteria.purpose"]


def test_a_form_gives_the_document_it_shows() -> None:
    canonical = parse_criteria(FULL).document()

    assert parse_criteria(criteria_from_form(form_values(canonical))).document() == canonical


def test_a_form_leaves_blanks_out_and_passes_a_typo_on_for_its_message() -> None:
    form = MultiDict(
        [("purpose.term", "HMB"), ("age.min", ""), ("age.max", "sixty"), ("diagnoses", "limb")]
    )

    doc = criteria_from_form(form)

    assert doc == {"purpose": {"term": "HMB"}, "diagnoses": ["limb"], "age": {"max": "sixty"}}
    assert problems(doc) == {"criteria.age.max": "must be a number, not 'sixty'"}


HMB = {"term": "HMB"}
