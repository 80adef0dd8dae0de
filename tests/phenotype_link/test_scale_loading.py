"""Definition files: a new scale is a new file, and a broken file is refused by name."""

from decimal import Decimal
from pathlib import Path

import pytest

from phenotype_link.scales import (
    DefinitionError,
    ScoringError,
    UnknownScale,
    get_scale,
    load_scales,
)

D = Decimal

# A made-up four-item scale: two items in a weighted product, two plain items, a mean rule.
NEW_SCALE = """
id = "toy"
name = "Toy scale"
version = "1"
source = "written for this test"
licensed_text = false
verified = ["everything: it is made up"]

[missing]
kind = "mean"
min_answered = 2
statement = "the mean of the answered items when at least 2 are answered"

[[items]]
id = "toy_a"
label = "A"
values = [0, 1, 2]

[[items]]
id = "toy_b"
label = "B"
min = 0
max = 3
step = 1

[[items]]
id = "toy_c"
label = "C"
min = 0
max = 3
step = 1
"""


def write(directory: Path, text: str, name: str = "toy") -> Path:
    path = directory / f"{name}.toml"
    path.write_text(text)
    return path


def test_a_new_scale_is_a_new_file_and_scores_without_new_code(tmp_path: Path) -> None:
    write(tmp_path, NEW_SCALE)
    toy = load_scales(tmp_path)["toy"]
    assert toy.score({"toy_a": D(2), "toy_b": D(3), "toy_c": D(2)}).total == D("2.33")


def test_a_mean_rule_scores_the_answered_items_and_says_how_many_were_missing(
    tmp_path: Path,
) -> None:
    write(tmp_path, NEW_SCALE)
    score = load_scales(tmp_path)["toy"].score({"toy_a": D(2), "toy_b": D(3)})
    assert score.total == D("2.5")
    assert score.flags == ("total: mean of 2 answered items, 1 missing (toy_c)",)


def test_a_mean_rule_with_too_few_answers_names_the_missing_items(tmp_path: Path) -> None:
    write(tmp_path, NEW_SCALE)
    with pytest.raises(ScoringError) as caught:
        load_scales(tmp_path)["toy"].score({"toy_a": D(2)})
    assert [p.item_id for p in caught.value.problems] == ["toy_b", "toy_c"]


def test_a_weighted_product_multiplies_its_items(tmp_path: Path) -> None:
    text = NEW_SCALE.replace('kind = "mean"', 'kind = "complete"') + (
        '\n[[products]]\nlabel = "a by b"\nitems = ["toy_a", "toy_b"]\nweight = 0.5\n'
    )
    write(tmp_path, text)
    toy = load_scales(tmp_path)["toy"]
    assert toy.score({"toy_a": D(2), "toy_b": D(3), "toy_c": D(1)}).total == D(4)  # 2x3x0.5 + 1
    assert toy.maximum() == D(6)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('label = "A"', 'label = "A"\nlabl = "typo"'), "item 'toy_a': unknown keys ['labl']"),
        (('id = "toy_b"', 'id = "Toy-B"'),
         "item id 'Toy-B': use lower case letters, digits and '_'"),
        (("step = 1\n", "step = 2\n"), "item toy_b: 0 to 3 does not step evenly by 2"),
        (('label = "C"', 'label = "C"\nsubscale = "motor"'),
         "item toy_c: unknown subscale 'motor'"),
        (('id = "toy_c"', 'id = "toy_a"'), "item ids repeat: ['toy_a']"),
        (('kind = "mean"', 'kind = "prorate"'), "missing rule 'prorate': use 'complete' or 'mean'"),
        (('id = "toy"', 'id = "other"'), "id 'other' differs from the file name"),
        (("values = [0, 1, 2]", 'values = [0, 1, 2]\nanchors = {"5" = "x"}'),
         "item toy_a: anchors for values not allowed: 5"),
    ],
)  # fmt: skip
def test_a_broken_definition_is_refused_naming_the_file_and_the_fault(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    write(tmp_path, NEW_SCALE.replace(*change, 1))
    with pytest.raises(DefinitionError) as caught:
        load_scales(tmp_path)
    assert str(caught.value) == f"toy.toml: {message}"


def test_an_unknown_scale_id_names_the_known_ones() -> None:
    with pytest.raises(UnknownScale) as caught:
        get_scale("tsui")
    assert "unknown scale 'tsui'; known: bfmdrs_d, bfmdrs_m" in str(caught.value)


# A total-only scale: no items because no readable source confirms them (issue 17).
TOTAL_ONLY = NEW_SCALE.split("[missing]")[0]


def test_a_scale_without_items_must_name_the_source_that_would_settle_it(tmp_path: Path) -> None:
    write(tmp_path, TOTAL_ONLY)
    with pytest.raises(DefinitionError) as caught:
        load_scales(tmp_path)
    message = "a scale without items must name in settled_by what would settle it"
    assert str(caught.value) == f"toy.toml: {message}"


def test_a_scale_without_items_that_names_its_settling_source_keeps_totals_as_given(
    tmp_path: Path,
) -> None:
    write(tmp_path, TOTAL_ONLY + 'settled_by = "the published form"\n')
    scale = load_scales(tmp_path)["toy"]
    assert (scale.is_scorable, scale.settled_by) == (False, "the published form")
    assert scale.score({}, D(7)).flags[-1] == "imported total 7 kept as given: not recomputed"
