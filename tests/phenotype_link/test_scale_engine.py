"""The scoring engine every scale shares: ranges, unknown and missing items, imported totals."""

from decimal import Decimal

import pytest

from phenotype_link.scales import SCALES, ScoringError, get_scale
from phenotype_link.scales.loading import ITEM_ID

D = Decimal


def test_every_scale_the_issue_lists_has_a_definition_file() -> None:
    assert set(SCALES) == {
        "gdrs", "bfmdrs_m", "bfmdrs_d", "twstrs", "twstrs2", "twstrs_psych", "cdip58", "jrs",
        "bsdi", "bsrs", "udrs", "vhi", "vhi10",
    }  # fmt: skip


def test_item_ids_are_redcap_safe_and_unique_across_every_scale() -> None:
    ids = [item.id for scale in SCALES.values() for item in scale.items]
    assert all(ITEM_ID.fullmatch(i) for i in ids)
    assert len(ids) == len(set(ids))


def test_an_out_of_range_and_an_unknown_item_are_both_named_and_not_also_called_missing() -> None:
    with pytest.raises(ScoringError) as caught:
        get_scale("jrs").score({"jrs_severity": D(5), "jrs_frequency": D(2), "jrs_extra": D(1)})
    assert [(p.item_id, p.reason) for p in caught.value.problems] == [
        ("jrs_extra", "not an item of jrs Jankovic & Orman 1987"),
        ("jrs_severity", "5 is above the maximum 4"),
    ]


def test_a_half_point_on_a_whole_point_item_is_refused() -> None:
    with pytest.raises(ScoringError) as caught:
        get_scale("jrs").score({"jrs_severity": D("2.5"), "jrs_frequency": D(2)})
    assert caught.value.problems[0].reason == "2.5 is not one of 0, 1, 2, 3, 4"


def test_a_float_or_text_answer_is_not_a_number() -> None:
    with pytest.raises(ScoringError) as caught:
        get_scale("jrs").score({"jrs_severity": 2.0, "jrs_frequency": "2"})  # type: ignore[dict-item]
    assert [p.reason for p in caught.value.problems] == [
        "2.0 is not a number",
        "'2' is not a number",
    ]


def test_whole_number_answers_score_alike_as_ints_and_decimals_and_a_bool_is_refused() -> None:
    # A complete set of int answers is checked a group of items at a time (Scale._check).
    scale = get_scale("gdrs")
    as_ints = {item.id: 2 for item in scale.items}
    assert scale.score(as_ints) == scale.score({k: D(v) for k, v in as_ints.items()})
    with pytest.raises(ScoringError) as caught:
        scale.score(as_ints | {scale.items[0].id: True})  # type: ignore[dict-item]
    assert [p.reason for p in caught.value.problems] == ["True is not a number"]


def test_a_missing_item_is_an_error_naming_the_rule_never_a_silent_zero() -> None:
    with pytest.raises(ScoringError) as caught:
        get_scale("jrs").score({"jrs_severity": D(3), "jrs_frequency": None})
    (problem,) = caught.value.problems
    assert problem.item_id == "jrs_frequency"
    assert problem.reason == "missing; no published rule: the total needs both items"


def test_a_partial_score_leaves_the_unscorable_parts_empty_and_says_why() -> None:
    score = get_scale("jrs").score({"jrs_severity": D(3)}, partial=True)
    assert score.total is None
    assert score.subscales == {"severity": D(3), "frequency": None}
    assert score.flags[0].startswith("frequency not scored: 1 missing (jrs_frequency)")


def test_an_imported_total_that_differs_is_flagged_and_the_computed_one_kept() -> None:
    score = get_scale("jrs").score({"jrs_severity": D(3), "jrs_frequency": D(2)}, D(6))
    assert score.total == D(5)
    assert score.flags == ("imported total 6 differs from computed 5",)


def test_an_imported_total_that_agrees_raises_no_flag() -> None:
    score = get_scale("jrs").score({"jrs_severity": D(3), "jrs_frequency": D(2)}, D(5))
    assert score.flags == ()


def test_an_imported_total_above_the_maximum_suggests_another_version() -> None:
    score = get_scale("jrs").score({"jrs_severity": D(4), "jrs_frequency": D(4)}, D(9))
    assert score.flags[0] == (
        "imported total 9 is above the maximum 8 of jrs Jankovic & Orman 1987: "
        "another version of the scale?"
    )


def test_not_a_number_is_refused_as_an_answer_and_ignored_as_an_imported_total() -> None:
    jrs = get_scale("jrs")
    with pytest.raises(ScoringError) as caught:
        jrs.score({"jrs_severity": D("NaN"), "jrs_frequency": D("Infinity")})
    assert [p.reason for p in caught.value.problems] == [
        "NaN is not a number",
        "Infinity is not a number",
    ]
    score = jrs.score({"jrs_severity": D(1), "jrs_frequency": D(1)}, D("NaN"))
    assert score.flags == ("imported total NaN is not a number: ignored",)


def test_asking_a_scale_for_an_item_it_does_not_have_names_both() -> None:
    with pytest.raises(KeyError, match="jrs has no item 'vhi_f1'"):
        get_scale("jrs").item("vhi_f1")


def test_a_scale_definition_is_read_once_and_shared() -> None:
    assert get_scale("udrs") is SCALES["udrs"]


def test_the_error_message_lists_every_problem() -> None:
    with pytest.raises(ScoringError, match=r"^jrs: 1 problem: jrs_frequency: missing; "):
        get_scale("jrs").score({"jrs_severity": D(1)})
