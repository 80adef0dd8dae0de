"""The bench at consortium scale (issue #20): the generated demo (`demo generate`), then the
aliquot lookup, the aliquot page, the box page and the aliquot list through the app, each
against a competent baseline in the same run, and the whole inventory as CSV.

Run: .venv/bin/python bench/scale.py [--subjects 50000] [--db sqlite|postgresql|both]
                                     [--samples 100] [--export-rows 0] [--url URL]

N subjects give about 40 N aliquots (50,000: about 2,000,000). Each case runs in a fresh
process: an untimed warm-up request, then --samples requests (different barcodes, boxes or
list pages), and prints p50 and p95 in ms; the baseline runs the same samples in the same
process. The baselines:

- lookup, aliquot page, box page: the same rows as hand-written SQL on the driver's own
  connection (no ORM, no Flask, no template): what the app costs above its queries;
- the list: the list as it was before keyset paging (the same filters, `count(*)` of every
  match and OFFSET paging), at the same page;
- the export: the competent ORM export of bench/inventory_baselines.py for --baseline-rows
  rows (a full 2,000,000-row ORM export takes too long to run every time), in rows/s and RSS.

--url reuses a database that already holds a generated demo (skips the generation).
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask.testing import FlaskClient
from sqlalchemy import Engine, event, func, select, text

from bench._common import DIALECTS, Databases, header, peak_rss_mib, session_factory, spawn_pool
from lims import create_app, demo_scale
from lims.actors import Actor, Role
from lims.demo import DEMO_PASSWORD
from lims.specimens.models import Aliquot, AliquotStatus, SpecimenType
from lims.storage.models import Box
from lims.storage.services import AliquotFilter, list_aliquots

SEED = 20261201
READER = Actor(user_id=None, username="bench", role=Role.REVIEWER)


def generate(url: str, subjects: int) -> dict[str, Any]:
    """Fill the empty database as `flask demo generate` does, then ANALYZE (PostgreSQL)."""
    engine, sessions = session_factory(url)
    start = time.perf_counter()
    with sessions() as session:
        done = demo_scale.generate(session, subjects=subjects, seed=SEED)
    seconds = time.perf_counter() - start
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return {"seconds": seconds, "counts": done.counts, "peak_rss_mib": peak_rss_mib()}


def picks(url: str, samples: int) -> dict[str, Any]:
    """Barcodes, boxes and list cursors spread evenly over the data (deterministic)."""
    engine, sessions = session_factory(url)
    with sessions() as session:
        n = session.scalar(select(func.max(Aliquot.id))) or 1
        step = max(1, n // samples)
        wanted = list(range(1, n + 1, step))[:samples]
        barcodes = list(session.scalars(select(Aliquot.barcode).where(Aliquot.id.in_(wanted))))
        boxes = session.scalar(select(func.max(Box.id))) or 1
        box_ids = list(range(1, boxes + 1, max(1, boxes // samples)))[:samples]
        deep_after = int(n * 0.9)
    engine.dispose()
    return {"barcodes": barcodes, "box_ids": box_ids, "deep": deep_after}


# The app's side: the Flask test client, signed in as the demo's technician.


@functools.cache  # one app and one sign-in per process (each run's cases are fresh processes)
def _client(url: str) -> tuple[FlaskClient, dict[str, str]]:
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-only", "TESTING": True})
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    form = {"username": "tech", "password": DEMO_PASSWORD, "csrf_token": token[1]}
    assert client.post("/login", data=form).status_code == 302
    issued = client.post("/api/v1/tokens", json={"username": "tech", "password": DEMO_PASSWORD})
    bearer = {"Authorization": f"Bearer {issued.get_json()['token']}"}
    return client, bearer


QUERIES = [0]  # statements the app sent through SQLAlchemy (the baselines' raw SQL is not)


@event.listens_for(Engine, "before_cursor_execute")
def _count(*_args: Any) -> None:
    QUERIES[0] += 1


def _timed(calls: list[Callable[[], Any]], cpu: list[float] | None = None) -> list[float]:
    """Wall ms of each call; with `cpu`, also this process's CPU ms of each (on a loaded
    machine the wall time is mostly waiting for a core; the CPU time is the app's own work)."""
    calls[0]()  # warm-up: caches, the first connection, the template's compilation
    took = []
    QUERIES[0] = 0
    for call in calls:
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        took.append((time.perf_counter() - start) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - start_cpu) * 1000)
    return took


def _ours(calls: list[Callable[[], Any]]) -> dict[str, Any]:
    cpu: list[float] = []
    took = _timed(calls, cpu)
    return {"ours": took, "cpu": cpu, "queries": QUERIES[0] / len(calls)}


def _get(client: FlaskClient, path: str, headers: dict[str, str] | None = None) -> Any:
    def call() -> None:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.status_code)

    return call


# The baselines: the same rows in hand-written SQL, on the driver's connection.

LOOKUP_SQL = """
SELECT a.id, a.barcode, a.specimen_type, a.status, a.volume_ul, a.freeze_thaw_count,
       s.study_code, v.visit_number, sp.collected_at, b.barcode, p."row", p.col, r.name, f.name
FROM aliquots a
JOIN specimens sp ON sp.id = a.specimen_id
JOIN visits v ON v.id = sp.visit_id
JOIN subjects s ON s.id = v.subject_id
LEFT JOIN placements p ON p.aliquot_id = a.id
LEFT JOIN boxes b ON b.id = p.box_id
LEFT JOIN racks r ON r.id = b.rack_id
LEFT JOIN freezers f ON f.id = r.freezer_id
WHERE a.barcode = {p}"""
CUSTODY_SQL = """
SELECT id, occurred_at, actor_username, action, before_json, after_json, reason
FROM audit_events WHERE object_type = 'aliquot' AND object_id = {p} ORDER BY id"""
GRID_SQL = """
SELECT p."row", p.col, a.barcode, a.specimen_type, a.status, s.enrolment_status, s.id
FROM placements p
JOIN aliquots a ON a.id = p.aliquot_id
JOIN specimens sp ON sp.id = a.specimen_id
JOIN visits v ON v.id = sp.visit_id
JOIN subjects s ON s.id = v.subject_id
WHERE p.box_id = {p}"""
BOX_SQL = "SELECT id, barcode, name, n_rows, n_cols, rack_id FROM boxes WHERE id = {p}"


def _sql(url: str) -> Callable[[str, tuple[Any, ...]], list[Any]]:
    engine, _ = session_factory(url)
    raw = engine.raw_connection()
    mark = "%s" if engine.dialect.name == "postgresql" else "?"

    def run(sql: str, params: tuple[Any, ...]) -> list[Any]:
        cursor = raw.cursor()
        cursor.execute(sql.format(p=mark), params)
        rows = cursor.fetchall()
        cursor.close()
        # It only read: COMMIT, not ROLLBACK, on which psycopg drops its prepared statements
        # (a competent baseline does not re-plan every query; lims/db.py does the same).
        raw.commit()
        return rows

    return run


def _sql_page(run: Callable[[str, tuple[Any, ...]], list[Any]], barcode: str) -> None:
    found = run(LOOKUP_SQL, (barcode,))
    run(CUSTODY_SQL, (str(found[0][0]),))
    if found[0][9] is not None:
        box_id = run("SELECT id FROM boxes WHERE barcode = {p}", (found[0][9],))[0][0]
        run(GRID_SQL, (box_id,))


LIST_FILTERS = {
    "no filter": "",
    "NA2 + serum + stored": "site=NA2&specimen_type=serum&status=stored",
    "DNA, disposed": "specimen_type=dna&status=disposed",
}


def measure(url: str, case: str, pick: dict[str, Any]) -> dict[str, Any]:
    """One case in this (fresh) process: ours through the app, then the baseline."""
    client, bearer = _client(url)
    run = _sql(url)
    codes, boxes = pick["barcodes"], pick["box_ids"]
    if case == "lookup":
        ours = [_get(client, f"/api/v1/aliquots/{c}", bearer) for c in codes]
        base = [lambda c=c: run(LOOKUP_SQL, (c,)) for c in codes]
    elif case == "aliquot page":
        ours = [_get(client, f"/aliquots/{c}") for c in codes]
        base = [lambda c=c: _sql_page(run, c) for c in codes]
    elif case == "box page":
        ours = [_get(client, f"/storage/boxes/{b}") for b in boxes]
        base = [lambda b=b: (run(BOX_SQL, (b,)), run(GRID_SQL, (b,))) for b in boxes]
    else:  # "list: <filter>, <page>"
        return _measure_list(url, client, bearer, case, pick)
    return _ours(ours) | {"base": _timed(base), "peak_rss_mib": peak_rss_mib()}


def _measure_list(
    url: str, client: FlaskClient, bearer: dict[str, str], case: str, pick: dict[str, Any]
) -> dict[str, Any]:
    """Pages of the list through the API: keyset pages after ids spread over the table (the
    deep case), or the first page; the baseline is the old list service at the same depth."""
    label, where = case.removeprefix("list: ").rsplit(", ", 1)
    query = LIST_FILTERS[label]
    n = len(pick["barcodes"])
    step = max(1, pick["deep"] // (10 * n))  # deep pages: the last tenth of the table and before
    afters = [0] * n if where == "first page" else [pick["deep"] - step * k for k in range(n)]
    ours = [_get(client, f"/api/v1/aliquots?{query}&after={a}", bearer) for a in afters]
    engine, sessions = session_factory(url)
    filters = _filter_of(query)
    with sessions() as session:  # closed before timing: on SQLite a session holds the lock
        pages = [_page_of(session, filters, a) for a in afters[: max(3, n // 10)]]
    base = [lambda p=p: _old_list(sessions, filters, p) for p in pages]
    result = _ours(ours) | {"base": _timed(base), "peak_rss_mib": peak_rss_mib()}
    engine.dispose()
    return result


def _filter_of(query: str) -> AliquotFilter:
    args = dict(part.split("=") for part in query.split("&") if part)
    return AliquotFilter(
        site=args.get("site"),
        specimen_type=SpecimenType(args["specimen_type"]) if "specimen_type" in args else None,
        status=AliquotStatus(args["status"]) if "status" in args else None,
    )


def _page_of(session: Any, filters: AliquotFilter, after: int) -> int:
    """The page number of the page after `after`, as OFFSET paging would reach it."""
    before = filters.apply(select(Aliquot.id)).where(Aliquot.id <= after).subquery()
    return (session.scalar(select(func.count()).select_from(before)) or 0) // 50 + 1


def _old_list(sessions: Any, filters: AliquotFilter, page: int) -> None:
    """The list as it was: an exact count of every match, then OFFSET to the page."""
    with sessions() as session:
        ids = filters.apply(select(Aliquot.id))
        session.scalar(select(func.count()).select_from(ids.subquery()))
        list_aliquots(session, READER, filters=filters, page=page, count_up_to=0)


class _Null:
    def write(self, text: str) -> int:
        return len(text)


def measure_export(url: str, side: str, limit: int) -> dict[str, Any]:
    """The inventory as CSV in this (fresh) process: ours streamed through the app's export
    page, or the competent ORM export for `limit` rows; rows, seconds and peak RSS."""
    start = time.perf_counter()
    rows = 0
    if side == "ours":
        client, _ = _client(url)
        response = client.get("/aliquots/export.csv", buffered=False)
        for chunk in response.response:
            rows += chunk.count(b"\n" if isinstance(chunk, bytes) else "\n")
        response.close()
        rows -= 1  # the header
    else:
        from bench.inventory import _write_csv
        from bench.inventory_baselines import competent_export

        engine, sessions = session_factory(url)
        with sessions() as session:
            lines = competent_export(session)
            rows = _write_csv(_Null(), (line for _, line in zip(range(limit), lines, strict=False)))
        engine.dispose()
    return {"rows": rows, "seconds": time.perf_counter() - start, "peak_rss_mib": peak_rss_mib()}


TARGETS = {"lookup": 20, "aliquot page": 20, "box page": 20}  # p95 ms; the list: 100


def _cases() -> list[str]:
    lists = [
        f"list: {label}, {where}" for label in LIST_FILTERS for where in ("first page", "deep")
    ]
    return ["lookup", "aliquot page", "box page", *lists]


def _p(values: list[float], q: int) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="The bench at consortium scale.")
    parser.add_argument("--subjects", type=int, default=50_000, help="about 40 aliquots each")
    parser.add_argument("--db", choices=[*DIALECTS, "both"], default="both")
    parser.add_argument("--samples", type=int, default=100, help="requests per case")
    parser.add_argument("--export", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--baseline-rows", type=int, default=100_000, help="ORM export rows")
    parser.add_argument("--url", help="a database already holding a generated demo")
    args = parser.parse_args()
    with Databases() as databases, spawn_pool() as pool:
        header("the bench at consortium scale (issue #20)")
        dialects = [d for d in DIALECTS if args.db in (d, "both")]
        if args.url:
            dialects = ["postgresql" if args.url.startswith("postgresql") else "sqlite"]
        for dialect in dialects:
            if not args.url and (reason := databases.unavailable(dialect)):
                print(f"# {dialect}: skipped, {reason}")
                continue
            url = args.url or databases.fresh(dialect, "bench_scale")
            if not args.url:
                made = pool.apply(generate, (url, args.subjects))
                sizes = ", ".join(f"{n:,} {t}" for t, n in made["counts"].items())
                took, rss = made["seconds"], made["peak_rss_mib"]
                print(f"# {dialect}: demo generate --subjects {args.subjects:,} took {took:.0f} s "
                      f"(peak RSS {rss:.0f} MiB): {sizes}")  # fmt: skip
            print(f"# {databases.versions() if not args.url else dialect}", flush=True)
            _run(pool, dialect, url, args)


def _run(pool: Any, dialect: str, url: str, args: argparse.Namespace) -> None:
    pick = pool.apply(picks, (url, args.samples))
    print(f"{'db':<11}{'case':<36}{'ours p50':>9}{'p95':>8}{'base p50':>9}{'p95':>8}"
          f"{'target p95':>11}{'met':>5}{'queries':>8}{'CPU p50':>8}{'load':>6}")  # fmt: skip
    for case in _cases():
        got = pool.apply(measure, (url, case, pick))
        target = TARGETS.get(case, 100)
        ours95 = _p(got["ours"], 95)
        print(f"{dialect:<11}{case:<36}{statistics.median(got['ours']):>9.1f}{ours95:>8.1f}"
              f"{statistics.median(got['base']):>9.1f}{_p(got['base'], 95):>8.1f}"
              f"{target:>11}{'yes' if ours95 < target else 'NO':>5}{got['queries']:>8.1f}"
              f"{statistics.median(got['cpu']):>8.1f}{os.getloadavg()[0]:>6.1f}",
              flush=True)  # fmt: skip
    if args.export:
        for side, limit in (("ours", 0), ("competent", args.baseline_rows)):
            got = pool.apply(measure_export, (url, side, limit))
            rows, took, rss = got["rows"], got["seconds"], got["peak_rss_mib"]
            print(f"{dialect:<11}export CSV, {side:<10} {rows:>10,} rows in {took:.1f} s = "
                  f"{rows / took:,.0f} rows/s, peak RSS {rss:.0f} MiB (target < 200 MiB)",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
