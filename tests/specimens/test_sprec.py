from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from lims.specimens import sprec
from lims.specimens.models import SpecimenType, Temperature, TubeType
from lims.specimens.quality import ExtractionMethod
from lims.specimens.sprec import Centrifugation
from tests.specimens.factories import DRAWN, worked_example

RT, COLD = Temperature.ROOM, Temperature.COLD


def test_the_worked_example_of_the_domain_reference_comes_out_right() -> None:
    assert sprec.tube_code(worked_example(), TubeType.SST) == "SER-SST-A-B-N-B-A"


def test_the_code_names_the_version_its_tables_follow_not_one_it_was_not_checked_against() -> None:
    assert sprec.FLUID_VERSION == sprec.SPREC_VERSION == "2.0"
    assert "unverified" in sprec.DERIVATIVE_VERSION


@pytest.mark.parametrize(
    ("hours", "temperature", "code"),
    [
        (1.99, RT, "A"),
        (1.99, COLD, "B"),
        (2, RT, "C"),
        (3.5, COLD, "D"),
        (6, RT, "E"),
        (10, COLD, "H"),
        (20, RT, "I"),
        (30, COLD, "L"),
        (49, RT, "M"),
        (72, COLD, "N"),
    ],
)
def test_pre_centrifugation_letters_pair_delay_bands_with_temperature(
    hours: float, temperature: Temperature, code: str
) -> None:
    assert sprec.pre_centrifugation_code(timedelta(hours=hours), temperature) == code


@pytest.mark.parametrize(
    ("hours", "temperature", "code"),
    [(0.5, COLD, "A"), (0.5, RT, "B"), (1.5, COLD, "C"), (5, RT, "F"), (30, COLD, "I")],
)
def test_post_centrifugation_gives_the_refrigerated_option_the_first_letter(
    hours: float, temperature: Temperature, code: str
) -> None:
    assert sprec.post_centrifugation_code(timedelta(hours=hours), temperature) == code


@pytest.mark.parametrize(
    ("spin", "code"),
    [
        (Centrifugation(1300, 10, RT, False), "A"),
        (Centrifugation(1300, 10, RT, True), "B"),
        (Centrifugation(2000, 15, COLD, False), "C"),
        (Centrifugation(2000, 15, COLD, True), "D"),
        (Centrifugation(3000, 10, RT, True), "E"),
        (Centrifugation(8000, 10, COLD, True), "H"),
        (Centrifugation(12000, 10, RT, True), "I"),
        (Centrifugation(800, 30, RT, False), "M"),
        (Centrifugation(1300, 20, RT, True), "Z"),
        (Centrifugation(4000, 10, RT, False), "Z"),
        (Centrifugation(1300, None, RT, True), "X"),
        (None, "N"),
    ],
)
def test_a_spin_is_coded_by_its_force_time_temperature_and_brake(
    spin: Centrifugation | None, code: str
) -> None:
    assert sprec.centrifugation_code(spin) == code


@pytest.mark.parametrize(
    ("celsius", "code"), [(-80, "A"), (-70, "A"), (-20, "B"), (-150, "V"), (-50, "Z"), (None, "X")]
)
def test_the_storage_temperature_gives_the_long_term_storage_letter(
    celsius: int | None, code: str
) -> None:
    assert sprec.long_term_storage_code(celsius) == code


def test_unknown_values_become_x_not_a_guess() -> None:
    record = replace(worked_example(), pre_processing_temperature=None, processed_at=None)
    assert sprec.tube_code(record, TubeType.SST) == "SER-SST-X-B-N-X-A"


def test_the_whole_blood_a_dna_stock_comes_from_keeps_its_fluid_code() -> None:
    record = replace(
        worked_example(),
        processing_started_at=None,
        centrifuge_g=None,
        centrifuge_minutes=None,
        centrifuge_temperature=None,
        centrifuge_braked=None,
        pre_processing_temperature=COLD,
        processed_at=DRAWN + timedelta(hours=5),
    )
    assert sprec.tube_code(record, TubeType.PED) == "BLD-PED-F-N-N-N-A"


def test_a_spun_edta_tube_gives_single_spun_plasma() -> None:
    assert sprec.tube_code(worked_example(), TubeType.PED).startswith("PL1-PED-A-B-N-B-")


def test_serum_aliquots_of_an_sst_are_ser() -> None:
    serum = sprec.fluid_code(
        worked_example(),
        tube_type=TubeType.SST,
        sample=SpecimenType.SERUM,
        storage_temperature_c=-80,
    )
    assert serum.startswith("SER-SST-")


# ---- issue #16: element 5, element 7 per tube, the derivative code ------------------------


def test_a_second_spin_not_recorded_is_unknown_not_no_second_spin() -> None:
    unrecorded = replace(worked_example(), is_second_spun=None)
    assert sprec.tube_code(unrecorded, TubeType.SST) == "SER-SST-A-B-X-B-A"


@pytest.mark.parametrize(
    ("sample", "second", "code"),
    [
        (SpecimenType.SERUM, None, "X"),
        (SpecimenType.SERUM, False, "N"),
        (SpecimenType.SERUM, True, "X"),  # spun twice, settings not recorded
        (SpecimenType.WHOLE_BLOOD, None, "N"),  # never spun at all
    ],
)
def test_second_centrifugation_codes(sample: SpecimenType, second: bool | None, code: str) -> None:
    assert sprec.second_centrifugation_code(sample, second) == code


def test_plasma_spun_twice_is_pl2() -> None:
    twice = replace(worked_example(), is_second_spun=True)
    code = sprec.fluid_code(
        twice, tube_type=TubeType.PED, sample=SpecimenType.PLASMA, storage_temperature_c=-80
    )
    assert code.startswith("PL2-PED-")


@pytest.mark.parametrize(
    ("celsius", "element7"), [(-80, "A"), (-20, "B"), (-196, "V"), (None, "X")]
)
def test_element_7_is_where_the_tube_is_kept_not_the_primary_tube(
    celsius: int | None, element7: str
) -> None:
    code = sprec.fluid_code(
        worked_example(),
        tube_type=TubeType.SST,
        sample=SpecimenType.SERUM,
        storage_temperature_c=celsius,
    )
    assert code == f"SER-SST-A-B-N-B-{element7}"


@pytest.mark.parametrize(
    ("method", "celsius", "thaws", "code"),
    [
        (ExtractionMethod.SILICA_COLUMN, -80, 0, "DNA-BLD-C-A-0"),
        (ExtractionMethod.SALTING_OUT, -20, 2, "DNA-BLD-S-B-2"),
        (ExtractionMethod.MAGNETIC_BEADS, None, 0, "DNA-BLD-M-X-0"),
        (None, -80, 1, "DNA-BLD-X-A-1"),
    ],
)
def test_the_dna_derivative_code_has_five_elements(
    method: ExtractionMethod | None, celsius: int | None, thaws: int, code: str
) -> None:
    assert (
        sprec.derivative_code(
            sample=SpecimenType.DNA,
            primary=SpecimenType.WHOLE_BLOOD,
            method=method,
            storage_temperature_c=celsius,
            freeze_thaw_count=thaws,
        )
        == code
    )
