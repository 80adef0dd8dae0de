"""bench/load.py at a tiny size for a couple of seconds, so the load benchmark does not rot:
every kind of request of the mix is sent and none fails. The figures belong in
docs/benchmarks.md, never in an assert."""

from __future__ import annotations

import socket

from bench.load import MIX, app_server, drive, prepare, profile
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

    with app_server(url, server="werkzeug", workers=1, port=_free_port()) as host:
        flat_out, _ = drive(host, fixture, clients=2, seconds=2, rate=None)
        paced, _ = drive(host, fixture, clients=2, seconds=1, rate=10)
    table = profile(url, fixture, repeat=1)

    assert flat_out.errors == {} and paced.errors == {}
    assert set(flat_out.latencies) | set(paced.latencies) == set(MIX)
    assert all(kind in table for kind in MIX)
