"""bench/load.py at a tiny size for a couple of seconds, so the load benchmark does not rot:
every kind of request of the mix is sent and none fails. The figures belong in
docs/benchmarks.md, never in an assert."""

from __future__ import annotations

import socket

from bench.load import MIX, app_server, baseline, cpu_meter, drive, prepare, profile
from tests.conftest import DatabaseMaker


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_the_load_client_runs_the_whole_mix_against_an_app_server_without_an_error(
    databases: DatabaseMaker,
) -> None:
    url = databases.url("postgresql", "lims_load_bench")
    fixture = prepare(url, subjects=2, clients=2)
    again = prepare(url, subjects=2, clients=2)  # a second run on the same data: same benches

    pids: list[int] = []
    with app_server(url, server="werkzeug", workers=1, port=_free_port(), pids=pids) as host:
        meter, done = cpu_meter(url, pids[0])
        flat_out, _ = drive(host, fixture, clients=2, seconds=2, rate=None, meter=meter)
        paced, _ = drive(host, fixture, clients=2, seconds=1, rate=10)
        done()
    by_hand, _ = baseline(url, fixture, clients=2, seconds=1)
    table = profile(url, fixture, repeat=1)

    assert again.own == fixture.own
    assert flat_out.errors == {} and paced.errors == {} and by_hand.errors == {}
    assert set(flat_out.latencies) | set(paced.latencies) == set(MIX) == set(by_hand.latencies)
    assert flat_out.cpu is not None and all(seconds > 0 for seconds in flat_out.cpu)
    assert all(kind in table for kind in MIX)
