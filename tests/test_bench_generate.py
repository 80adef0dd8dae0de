"""bench/generate.py runs at a tiny size, so the benchmark does not rot between its real runs."""

from __future__ import annotations

import pytest

from bench import generate


def test_the_generate_benchmark_reports_each_phase_and_the_rows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    generate.main(["--subjects", "3", "--db", "sqlite"])

    out = capsys.readouterr().out
    assert "demo generate: wall" in out and "of which the requests" in out
    assert "audit chain intact: True" in out and "scale_administrations" in out
