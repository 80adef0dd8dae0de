"""The web under load (issue 20): app servers on PostgreSQL, and a load client of our own on the
same machine, mixing the bench's work: scans into boxes, aliquot lookups, box pages, finds and
aliquot list pages. Every answer must be a success: one error fails the run.

    python -m bench.load                       # demo size: saturation, then paced, then profile
    python -m bench.load --subjects 600        # ten times the demo
    python -m bench.load --seconds 10 --rate 100 --server werkzeug

(a) saturation: --clients clients (50) send with no pause for --seconds (60): requests/s and
    p50/p95/p99; (b) paced: --rate requests/s (200) offered by 20 clients that keep a schedule;
    latency counts from the scheduled moment, so a stalled server cannot hide its queue
    (coordinated omission). (d) the baseline: the same mix as hand-written SQL from as many
    clients, no app in between. (c) profile: each kind of request in-process, with the queries
    it runs, their time, and the time in templates, to show where a request's milliseconds go.
    (a), (b) and (d) report the CPU each side spent per request: the load client, the app
    server's processes and PostgreSQL's backends.

The server is gunicorn with deploy/gunicorn.conf.py (pip install -e '.[deploy]'), or
`flask run --with-threads` with --server werkzeug (what the test uses: no extra dependency).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lims import demo  # noqa: E402
from lims.actors import Actor  # noqa: E402
from lims.auth.models import User  # noqa: E402
from lims.cli import alembic_config  # noqa: E402
from lims.db import make_engine  # noqa: E402
from lims.specimens.models import Aliquot, AliquotStatus  # noqa: E402
from lims.storage.models import Box, Placement  # noqa: E402
from lims.storage.services import create_box, move_aliquot  # noqa: E402

# The share of each kind of request, as a bench's day looks: mostly lookups and box pages.
MIX = {"lookup": 40, "box page": 25, "find": 15, "list page": 10, "scan": 10}
SECRET = "load-bench-only"
USERNAME, PASSWORD = "tech", demo.DEMO_PASSWORD


@dataclass(frozen=True)
class Fixture:
    """What the clients work on: barcodes to look up, boxes to open, and per client a tube of
    its own with two boxes of its own to scan it into, so no two clients race (0 errors)."""

    barcodes: list[str]
    box_ids: list[int]
    own: list[tuple[str, int, int]]  # (tube, box A, box B) per client


# At most this many barcodes and boxes to draw from: a 2,000,000-aliquot database (--database-url
# on `demo generate`'s set) is sampled, not read whole into the client.
SAMPLE = 100_000


def prepare(url: str, *, subjects: int, clients: int) -> Fixture:
    """Migrate, load the demo at the size asked (unless the database has one: `demo generate`'s
    set), and set up each client's tube and boxes (kept for the next run)."""
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        demo.load(session, subjects=subjects)
        tech = Actor.of(session.scalars(select(User).where(User.username == USERNAME)).one())
        own = _own_tubes(session, tech, clients)
        theirs = {tube for tube, _, _ in own}
        stored = select(Aliquot.barcode).join(Placement, Placement.aliquot_id == Aliquot.id)
        stored = stored.where(Aliquot.status == AliquotStatus.STORED)
        barcodes = [b for b in session.scalars(stored.limit(SAMPLE)) if b not in theirs]
        box_ids = list(session.scalars(select(Box.id).order_by(Box.id).limit(SAMPLE)))
    engine.dispose()
    return Fixture(barcodes, box_ids, own)


def _own_tubes(session: Session, tech: Actor, clients: int) -> list[tuple[str, int, int]]:
    """Per client a stored tube and two boxes of its own ("Load <n>a", "Load <n>b"): made on the
    first run, found again on the next."""
    own = []
    for n in range(clients):
        names = (f"Load {n}a", f"Load {n}b")
        boxes = {b.name: b for b in session.scalars(select(Box).where(Box.name.in_(names)))}
        if len(boxes) == 2:
            a, b = boxes[names[0]], boxes[names[1]]
            in_box = select(Aliquot.barcode).join(Placement, Placement.aliquot_id == Aliquot.id)
            tube = session.scalars(in_box.where(Placement.box_id.in_([a.id, b.id]))).first()
            if tube is not None:
                own.append((tube, a.id, b.id))
                continue
        a, b = (create_box(session, tech, name=name, n_rows=9, n_cols=9) for name in names)
        spare = select(Aliquot.barcode).join(Placement, Placement.aliquot_id == Aliquot.id)
        spare = spare.where(Aliquot.status == AliquotStatus.STORED).order_by(Aliquot.id.desc())
        tube = session.scalars(spare.offset(n).limit(1)).first()
        if tube is None:
            raise SystemExit("too few stored tubes for the clients; use more --subjects")
        move_aliquot(session, tech, barcode=tube, box_id=a.id)
        own.append((tube, a.id, b.id))
    return own


@contextmanager
def app_server(
    url: str, *, server: str, workers: int, port: int, pids: list[int] | None = None
) -> Iterator[str]:
    """gunicorn (deploy/gunicorn.conf.py) or werkzeug in a process of its own, until done; its
    process id goes into `pids` (for its CPU time)."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "LIMS_SECURE_COOKIES": "0",
        "LIMS_BIND": f"127.0.0.1:{port}",
        "LIMS_WORKERS": str(workers),
        "LIMS_ACCESS_LOG": "/dev/null",
        "LIMS_LOG_LEVEL": "warning",
        # Fifty clients sign in from one address at once; a lab does not.
        "LIMS_LOGIN_MAX_FAILURES_PER_ADDRESS": "100000",
    }
    if server == "gunicorn":
        cmd = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy/gunicorn.conf.py")]
        cmd.append("lims:create_app()")
    else:
        cmd = [sys.executable, "-m", "flask", "--app", "lims", "run", "--port", str(port)]
        cmd.append("--with-threads")
    process = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    if pids is not None:
        pids.append(process.pid)
    try:
        _wait_until_up(port, process)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(30)


def _wait_until_up(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app server exited with {process.returncode}")
        try:
            status, _, _ = _http(f"127.0.0.1:{port}", "GET", "/login")
            if status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the app server did not start within 60 s")


def _http(
    host: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request on a connection of its own (gunicorn's sync workers close it anyway)."""
    conn = http.client.HTTPConnection(host, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@dataclass
class Client:
    """One bench: signed in with a cookie (pages) and a token (the API)."""

    host: str
    fixture: Fixture
    own: tuple[str, int, int]
    rng: random.Random
    cookie: str = ""
    token: str = ""
    in_box_a: bool = True

    def sign_in(self) -> None:
        status, headers, page = _http(self.host, "GET", "/login")
        match = re.search(rb'name="csrf_token" value="([^"]+)"', page)
        assert status == 200 and match, status
        form = {"username": USERNAME, "password": PASSWORD, "csrf_token": match.group(1).decode()}
        status, headers, _ = _http(
            self.host,
            "POST",
            "/login",
            urllib.parse.urlencode(form).encode(),
            {"Content-Type": "application/x-www-form-urlencoded", "Cookie": _cookie(headers)},
        )
        assert status == 302, f"sign-in answered {status}"
        self.cookie = _cookie(headers)
        login = json.dumps({"username": USERNAME, "password": PASSWORD}).encode()
        status, _, body = _http(
            self.host, "POST", "/api/v1/tokens", login, {"Content-Type": "application/json"}
        )
        assert status == 201, f"token answered {status}"
        self.token = json.loads(body)["token"]

    def request(self, kind: str) -> tuple[str, str, bytes | None, dict[str, str]]:
        """(method, path, body, headers) of one request of this kind."""
        page = {"Cookie": self.cookie}
        api = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        barcode = self.rng.choice(self.fixture.barcodes)
        if kind == "lookup":
            return "GET", f"/api/v1/aliquots/{barcode}", None, api
        if kind == "box page":
            return "GET", f"/storage/boxes/{self.rng.choice(self.fixture.box_ids)}", None, page
        if kind == "find":
            return "GET", f"/find?q={barcode}", None, page
        if kind == "list page":
            return "GET", f"/aliquots?page={self.rng.randint(1, 5)}", None, page
        # Profiled, not in the load mix: the aliquot's own page and the list's JSON.
        if kind == "aliquot page":
            return "GET", f"/aliquots/{barcode}", None, page
        if kind == "list API":
            return "GET", "/api/v1/aliquots", None, api
        tube, box_a, box_b = self.own
        self.in_box_a = not self.in_box_a
        body = json.dumps({"box_id": box_a if self.in_box_a else box_b}).encode()
        return "POST", f"/api/v1/aliquots/{tube}/move", body, api


def _cookie(headers: dict[str, str]) -> str:
    return headers.get("Set-Cookie", "").split(";", 1)[0]


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # CPU seconds over the run: the load client, the app server, PostgreSQL (when metered).
    cpu: tuple[float, float, float] | None = None

    def add(self, kind: str, seconds: float, status: int) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            if status >= 400:
                self.errors[f"{kind} {status}"] += 1

    def all(self) -> list[float]:
        return [s for values in self.latencies.values() for s in values]


def _kinds(rng: random.Random) -> Callable[[], str]:
    names, weights = list(MIX), list(MIX.values())
    return lambda: rng.choices(names, weights)[0]


Meter = Callable[[], tuple[float, float, float]]


def drive(
    host: str,
    fixture: Fixture,
    *,
    clients: int,
    seconds: float,
    rate: float | None,
    seed: int = 1,
    meter: Meter | None = None,
) -> tuple[Results, float]:
    """Run the clients for `seconds`: flat out (rate None) or together offering `rate` req/s;
    with a `meter`, the CPU each side used over the run goes into the results."""
    benches = [
        Client(host, fixture, fixture.own[n % len(fixture.own)], random.Random(seed + n))
        for n in range(clients)
    ]
    for bench in benches:
        bench.sign_in()
    results = Results()
    start = time.monotonic() + 0.5
    stop = start + seconds

    def run(n: int, bench: Client) -> None:
        pick = _kinds(bench.rng)
        interval = clients / rate if rate else 0.0
        due = start + (n * interval / clients if rate else 0.0)
        while True:
            if rate:
                time.sleep(max(0.0, due - time.monotonic()))
            began = due if rate else time.monotonic()
            if began >= stop:
                return
            if rate and time.monotonic() >= stop:  # behind at the end: what was due, unsent
                if unsent := int((stop - due) / interval):
                    results.errors["not sent in time (server behind)"] += unsent
                return
            kind = pick()
            method, path, body, headers = bench.request(kind)
            try:
                status, _, _ = _http(host, method, path, body, headers)
            except OSError as err:
                status = 599
                results.errors[f"{kind} {type(err).__name__}"] += 1
            results.add(kind, time.monotonic() - began, status)
            due += interval

    threads = [
        threading.Thread(target=run, args=(n, b), daemon=True) for n, b in enumerate(benches)
    ]
    _run_metered(threads, results, meter)
    return results, seconds


# The competent baseline: the same mix as hand-written SQL (bench/scale.py's, for the lookup and
# the box page), each client on a psycopg connection of its own in autocommit, so its statements
# are prepared once and never re-planned. No HTTP, no framework, no audit event for a scan: what
# the database and the driver alone give on these cores, the ceiling the app works under.
LIST_SQL = """
SELECT a.id, a.barcode, a.specimen_type, a.status, a.volume_ul, s.study_code, v.visit_number
FROM aliquots a
JOIN specimens sp ON sp.id = a.specimen_id
JOIN visits v ON v.id = sp.visit_id
JOIN subjects s ON s.id = v.subject_id
WHERE a.status <> 'disposed' ORDER BY a.id LIMIT 50 OFFSET %s"""
SCAN_SQL = """
UPDATE placements SET box_id = %s
WHERE aliquot_id = (SELECT id FROM aliquots WHERE barcode = %s)"""


def baseline(
    url: str,
    fixture: Fixture,
    *,
    clients: int,
    seconds: float,
    seed: int = 1,
    meter: Meter | None = None,
) -> tuple[Results, float]:
    """The mix, flat out, as hand-written SQL from `clients` threads, one connection each."""
    import psycopg

    from bench.scale import BOX_SQL, GRID_SQL, LOOKUP_SQL

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    lookup, box, grid = (sql.format(p="%s") for sql in (LOOKUP_SQL, BOX_SQL, GRID_SQL))
    results = Results()
    # Connected before the meter reads PostgreSQL's backends, closed after.
    connections = [psycopg.connect(dsn, autocommit=True) for _ in range(clients)]
    start = time.monotonic() + 0.5
    stop = start + seconds

    def run(n: int) -> None:
        rng = random.Random(seed + n)
        pick = _kinds(rng)
        tube, box_a, box_b = fixture.own[n % len(fixture.own)]
        in_a = True
        conn = connections[n]
        time.sleep(max(0.0, start - time.monotonic()))
        while (began := time.monotonic()) < stop:
            kind = pick()
            barcode = rng.choice(fixture.barcodes)
            if kind in ("lookup", "find"):
                conn.execute(lookup, (barcode,)).fetchall()
            elif kind == "box page":
                box_id = rng.choice(fixture.box_ids)
                conn.execute(box, (box_id,)).fetchall()
                conn.execute(grid, (box_id,)).fetchall()
            elif kind == "list page":
                conn.execute(LIST_SQL, (50 * rng.randint(0, 4),)).fetchall()
            else:
                in_a = not in_a
                conn.execute(SCAN_SQL, (box_a if in_a else box_b, tube))
            results.add(kind, time.monotonic() - began, 200)

    threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(clients)]
    _run_metered(threads, results, meter)
    for conn in connections:
        conn.close()
    return results, seconds


def _run_metered(threads: list[threading.Thread], results: Results, meter: Meter | None) -> None:
    began = meter() if meter else None
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if meter and began:
        ended = meter()
        results.cpu = (ended[0] - began[0], ended[1] - began[1], ended[2] - began[2])


def cpu_meter(url: str, server_pid: int) -> tuple[Meter, Callable[[], None]]:
    """CPU seconds used so far by this process (the load client, all its threads), by the app
    server (gunicorn's master and workers), and by the database's backends; and a cleanup."""
    engine = make_engine(url)
    backends = _backend_cpu(engine)

    def used() -> tuple[float, float, float]:
        return time.process_time(), _tree_cpu_s(server_pid), backends()

    return used, engine.dispose


def _tree_cpu_s(root: int) -> float:
    """CPU seconds of a process and its live descendants, with the children they reaped; 0 for
    no process (pid 0)."""
    from bench._common import children_cpu_s, parent_pid, process_cpu_s

    if root <= 0:
        return 0.0

    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                children[parent_pid(int(entry.name))].append(int(entry.name))
            except OSError:  # ended meanwhile
                continue
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        try:
            total += process_cpu_s(pid) + children_cpu_s(pid)
        except OSError:
            continue
        todo.extend(children[pid])
    return total


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000 if ordered else 0.0


def report(title: str, results: Results, seconds: float) -> str:
    every = results.all()
    lines = [
        f"{title}: {len(every)} requests in {seconds:g} s = {len(every) / seconds:.0f} req/s, "
        f"p50 {percentile(every, 50):.1f} ms, p95 {percentile(every, 95):.1f} ms, "
        f"p99 {percentile(every, 99):.1f} ms, errors {sum(results.errors.values())}"
        + (f" {dict(results.errors)}" if results.errors else "")
    ]
    if results.cpu and every:
        client, app, database = (seconds * 1000 / len(every) for seconds in results.cpu)
        lines.append(
            f"  CPU per request: client {client:.2f} ms, app server {app:.2f} ms, "
            f"PostgreSQL {database:.2f} ms; load average {os.getloadavg()[0]:.1f}"
        )
    for kind, values in sorted(results.latencies.items()):
        lines.append(
            f"  {kind:10} n={len(values):6}  p50 {percentile(values, 50):6.1f} ms  "
            f"p95 {percentile(values, 95):6.1f} ms  p99 {percentile(values, 99):6.1f} ms"
        )
    return "\n".join(lines)


# Profiled in-process: the load mix, plus the aliquot page and the list's JSON (hot paths too).
PROFILED = [*MIX, "aliquot page", "list API"]


def _backend_cpu(engine: Engine) -> Callable[[], float]:
    """Seconds of CPU used so far by the database's other backends (the app's pool), read from
    /proc: the cluster is local. SQLite runs in this process, so there it is always 0."""
    from bench._common import process_cpu_s

    if engine.dialect.name != "postgresql":
        return lambda: 0.0
    watcher = engine.connect()
    own = watcher.exec_driver_sql("SELECT pg_backend_pid()").scalar()

    def used() -> float:
        pids = watcher.exec_driver_sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> %s",
            (own,),
        ).scalars()
        total = 0.0
        for pid in pids:
            try:
                total += process_cpu_s(pid)
            except OSError:  # ended meanwhile
                continue
        watcher.rollback()
        return total

    return used


def profile(url: str, fixture: Fixture, *, repeat: int = 50, cprofile: str | None = None) -> str:
    """Each kind of request in-process: total and CPU, SQL (count and time), template, and the
    database backend's CPU; with `cprofile`, cProfile's top functions for that kind."""
    from flask import before_render_template, template_rendered

    from lims import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "TESTING": True})
    engine = app.extensions["lims_engine"]
    clock: dict[str, float] = Counter()

    @event.listens_for(engine, "before_cursor_execute")
    def _before(*_args: object) -> None:
        clock["queries"] += 1
        clock["sql_started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(*_args: object) -> None:
        clock["sql"] += time.perf_counter() - clock["sql_started"]

    def _render_began(*_args: object, **_kw: object) -> None:
        clock["tpl_started"] = time.perf_counter()

    def _render_ended(*_args: object, **_kw: object) -> None:
        clock["template"] += time.perf_counter() - clock["tpl_started"]

    before_render_template.connect(_render_began, app)
    template_rendered.connect(_render_ended, app)
    web = app.test_client()
    page = web.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    web.post("/login", data={"username": USERNAME, "password": PASSWORD, "csrf_token": token[1]})
    bearer = web.post("/api/v1/tokens", json={"username": USERNAME, "password": PASSWORD})
    bench = Client("", fixture, fixture.own[0], random.Random(7), token=bearer.get_json()["token"])
    backend_cpu = _backend_cpu(engine)
    lines = [
        f"load average {os.getloadavg()[0]:.1f} at the start",
        f"{'request':12} {'total ms':>9} {'CPU ms':>7} {'queries':>8} {'SQL ms':>7} "
        f"{'template ms':>12} {'db CPU ms':>10}",
    ]

    def send(kind: str) -> float:
        method, path, body, headers = bench.request(kind)
        headers.pop("Cookie", None)  # the test client keeps the session cookie itself
        began = time.process_time()
        answer = web.open(path, method=method, data=body, headers=headers)
        assert answer.status_code < 400, (path, answer.status_code)
        return time.process_time() - began

    for kind in PROFILED:
        send(kind)  # warm-up: the template's compilation, the statement caches
        totals: list[float] = []
        cpus: list[float] = []
        clock.clear()
        db_began = backend_cpu()
        for _ in range(repeat):
            began = time.perf_counter()
            cpus.append(send(kind))
            totals.append(time.perf_counter() - began)
        db_cpu = backend_cpu() - db_began
        lines.append(
            f"{kind:12} {statistics.median(totals) * 1000:9.1f} "
            f"{statistics.median(cpus) * 1000:7.1f} {clock['queries'] / repeat:8.1f} "
            f"{clock['sql'] / repeat * 1000:7.1f} {clock['template'] / repeat * 1000:12.1f} "
            f"{db_cpu / repeat * 1000:10.2f}"
        )
    lines.append(f"load average {os.getloadavg()[0]:.1f} at the end")
    if cprofile:
        lines.append(_cprofiled(lambda: send(cprofile), repeat))
    engine.dispose()
    return "\n".join(lines)


def _cprofiled(call: Callable[[], object], repeat: int) -> str:
    """cProfile of `repeat` calls: the functions with the most own time, and cumulative."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile(time.process_time)  # CPU, not waiting for the database
    profiler.enable()
    for _ in range(repeat):
        call()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    return out.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=demo.SUBJECTS)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--server", choices=("gunicorn", "werkzeug"), default="gunicorn")
    # One sync worker per core: with PostgreSQL and the client on the same cores, more workers
    # only take turns (at 4 on 2 cores each request cost a third more CPU; docs/benchmarks.md).
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--port", type=int, default=8731)
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL database: empty (the demo is loaded) or with data (demo generate's)",
    )
    parser.add_argument(
        "--runs", default="abdc", help="which runs, in order: a, b, d (baseline), c (profile)"
    )
    parser.add_argument("--profile-only", action="store_true", help="the same as --runs c")
    parser.add_argument("--cprofile", choices=PROFILED, help="(c) also prints cProfile's top")
    args = parser.parse_args(argv)
    runs = "c" if args.profile_only else args.runs
    # A plain kill (timeout, CI) must still stop the app server and the throwaway cluster.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from bench._common import header
    from tests.databases import postgres_factory

    stop: Callable[[], None] = lambda: None  # noqa: E731
    url = args.database_url
    if url is None:
        make, stop = postgres_factory()
        url = make("lims_load")
    try:
        fixture = prepare(url, subjects=args.subjects, clients=args.clients)
        header(
            f"PostgreSQL, {_size(url)}, {len(fixture.barcodes):,} stored tubes to look up, "
            f"{args.server} with {args.workers} workers"
        )
        if "a" in runs or "b" in runs:
            _through_the_app(url, fixture, args, runs)
        if "d" in runs:
            meter, done = cpu_meter(url, 0)  # no app server: its share is 0
            results, seconds = baseline(
                url, fixture, clients=args.clients, seconds=args.seconds, meter=meter
            )
            done()
            title = f"(d) baseline: the mix as hand-written SQL, {args.clients} clients, no app"
            print(report(title, results, seconds))
        if "c" in runs:
            print("(c) profile, in-process, medians of 50 of each:")
            print(profile(url, fixture, cprofile=args.cprofile))
    finally:
        stop()


def _through_the_app(url: str, fixture: Fixture, args: argparse.Namespace, runs: str) -> None:
    pids: list[int] = []
    server = app_server(url, server=args.server, workers=args.workers, port=args.port, pids=pids)
    with server as host:
        meter, done = cpu_meter(url, pids[0])
        if "a" in runs:
            results, seconds = drive(
                host, fixture, clients=args.clients, seconds=args.seconds, rate=None, meter=meter
            )
            print(report(f"(a) saturation, {args.clients} clients", results, seconds))
        if "b" in runs:
            results, seconds = drive(
                host, fixture, clients=20, seconds=args.seconds, rate=args.rate, meter=meter
            )
            print(report(f"(b) offered {args.rate:g} req/s, 20 clients", results, seconds))
        done()


def _size(url: str) -> str:
    """What the database holds: subjects and aliquots."""
    engine = make_engine(url)
    with engine.connect() as connection:
        subjects, aliquots = (
            connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
            for table in ("subjects", "aliquots")
        )
    engine.dispose()
    return f"{subjects:,} subjects, {aliquots:,} aliquots"


if __name__ == "__main__":
    main()
