"""bench/scale.py runs at a tiny size, so the benchmark does not rot between its real runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench import scale
from bench._common import Databases


@pytest.fixture(scope="module")
def generated() -> Iterator[str]:
    with Databases() as databases:
        url = databases.fresh("sqlite", "bench_scale_tiny")
        scale.generate(url, 4)
        yield url


def test_every_scale_case_runs_ours_and_its_baseline_on_the_same_samples(generated: str) -> None:
    pick = scale.picks(generated, 3)

    for case in scale._cases():
        got = scale.measure(generated, case, pick)
        assert len(got["ours"]) == len(pick["barcodes"]) and got["base"], case


def test_the_export_streams_every_generated_aliquot(generated: str) -> None:
    ours = scale.measure_export(generated, "ours", 0)
    competent = scale.measure_export(generated, "competent", 10**6)

    assert ours["rows"] == competent["rows"] > 100
