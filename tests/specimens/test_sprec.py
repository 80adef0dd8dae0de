from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from lims.specimens import sprec
from lims.specimens.models import SpecimenType, Temperature, TubeType
from lims.specimens.sprec import Centrifugation
from tests.specimens.factories import DRAWN, worked_example

RT, COLD = Temperature.ROOM, Temperature.COLD


def test_the_worked_example_of_the_domain_reference_comes_out_right() -> None:
    assert sprec.tube_code(worked_example(), TubeType.SST) == "SER-SST-A-B-N-B-A"


def test_the_code_names_its_version() -> None:
    assert sprec.SPREC_VERSION == "3.0"


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
def test_centrifugation_codes(spin: Centrifugation | None, code: str) -> None:
    assert sprec.centrifugation_code(spin) == code


@pytest.mark.parametrize(
    ("celsius", "code"), [(-80, "A"), (-70, "A"), (-20, "B"), (-150, "V"), (-50, "Z"), (None, "X")]
)
def test_long_term_storage_codes(celsius: int | None, code: str) -> None:
    assert sprec.long_term_storage_code(celsius) == code


def test_unknown_values_become_x_not_a_guess() -> None:
    record = replace(worked_example(), pre_processing_temperature=None, processed_at=None)
    assert sprec.tube_code(record, TubeType.SST) == "SER-SST-X-B-N-X-A"


def test_a_dna_aliquot_carries_the_code_of_its_whole_blood() -> None:
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
    code = sprec.fluid_code(record, tube_type=TubeType.PED, sample=SpecimenType.DNA)
    assert code == "BLD-PED-F-N-N-N-A"


def test_a_spun_edta_tube_gives_single_spun_plasma() -> None:
    assert sprec.tube_code(worked_example(), TubeType.PED).startswith("PL1-PED-A-B-N-B-")


def test_serum_aliquots_of_an_sst_are_ser_but_its_dna_would_be_bld() -> None:
    record = worked_example()
    serum = sprec.fluid_code(record, tube_type=TubeType.SST, sample=SpecimenType.SERUM)
    dna = sprec.fluid_code(record, tube_type=TubeType.SST, sample=SpecimenType.DNA)
    assert serum.startswith("SER-SST-") and dna.startswith("BLD-SST-")
