"""The LIMS's instruments as definition files, and rating scales turned into instruments."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from phenotype_link.catalog import instrument_from_scale, lims_instruments
from phenotype_link.instruments import DefinitionError, clinical_instruments, load_instrument
from phenotype_link.scales import SCALES, Item, Scale


def test_the_clinical_instruments_load_from_their_definition_files() -> None:
    names = [i.name for i in clinical_instruments()]

    assert names == [
        "visit", "diagnosis", "botulinum_toxin", "oral_medication", "dbs", "voice_speech",
        "family_history", "genetic_test",
    ]  # fmt: skip
    repeating = {i.name for i in clinical_instruments() if i.is_repeating}
    assert repeating == {"botulinum_toxin", "oral_medication", "dbs", "genetic_test"}


def test_every_rating_scale_becomes_an_instrument_after_the_clinical_ones() -> None:
    scale_forms = [i for i in lims_instruments() if i.scale_id is not None]

    assert {i.name for i in scale_forms} == set(SCALES)
    assert lims_instruments()[: len(clinical_instruments())] == clinical_instruments()


def test_a_scales_items_keep_their_range_and_half_points() -> None:
    half = Item("udrs_neck_duration", "Neck: duration", tuple(Decimal(n) / 2 for n in range(9)))
    whole = Item("udrs_neck_severity", "Neck: severity", tuple(Decimal(n) for n in range(5)))
    scale = Scale("udrs", "UDRS", "2003", "Comella 2003", False, (half, whole), (), ())

    duration, severity, _mode, total = instrument_from_scale(scale).fields
    assert (duration.kind, duration.maximum, duration.allowed[1]) == ("number", 4, Decimal("0.5"))
    assert (severity.kind, severity.minimum, severity.maximum, severity.allowed) == (
        "integer", 0, 4, ()
    )  # fmt: skip
    assert total.name == "udrs_total"


def test_a_definition_with_an_unknown_field_type_names_the_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('name = "bad"\n[[fields]]\nname = "bad_x"\ntype = "slider"\n')

    with pytest.raises(DefinitionError, match=r"bad.toml, field 'bad_x': type 'slider'"):
        load_instrument(path)


def test_a_choice_code_with_letters_is_refused(tmp_path: Path) -> None:
    # Letters change REDCap's checkbox column names (redcap.md 2.3.2).
    path = tmp_path / "bad.toml"
    path.write_text(
        'name = "bad"\n[[fields]]\nname = "bad_x"\ntype = "radio"\nchoices = [["A", "a"]]\n'
    )

    with pytest.raises(DefinitionError, match="choice codes must be digits"):
        load_instrument(path)
