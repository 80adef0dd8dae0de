"""The deployment test (issue 20): the production topology on this machine's loopback, from
Debian's packages. A PostgreSQL primary and a hot standby made with pg_basebackup, two gunicorn
app servers (deploy/gunicorn.conf.py) connected as the runtime role, and nginx in front
(deploy/nginx.conf). Migrations run as the owner role before the servers start.

It shows that a session or token from one app server works on the other and ends on both, that
reads go to the standby while a user still reads their own writes, and, under the load client
of bench/load.py running through nginx, that killing an app server mid-run loses no completed
write, that the client recovers through nginx, and that the standby answers feasibility.
The kill comes last: the tests of this module share one topology, in file order."""

from __future__ import annotations

import http.client
import json
import random
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from psycopg import errors
from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.load import MIX, Client, Fixture, prepare
from lims import create_app
from lims.actors import Actor
from lims.audit.services import verify_chain
from lims.auth.models import User
from lims.db import WAL_MARK, make_engine
from lims.storage.services import create_freezer
from tests.conftest import bearer
from tests.databases import ThrowawayCluster
from tests.factories import DEMO_PASSWORD
from tests.infra.topology import SECRET_KEY, SHARED_SETTINGS, AppServer, Nginx, free_port
from tests.replicas import Standby, primary_and_standby

DB, OWNER, RUNTIME = "lims", "lims_owner", "lims_app"
CLIENTS = 3
HMB = {"purpose": {"term": "HMB"}}


@dataclass
class Topology:
    primary: ThrowawayCluster
    standby: Standby
    servers: list[AppServer]
    nginx: Nginx
    fixture: Fixture
    tech: Actor

    def url(self, role: str, *, standby: bool = False) -> str:
        sock = self.standby.sock if standby else self.primary.sock
        return f"postgresql+psycopg://{role}@/{DB}?host={sock}"

    def sql(self, statement: str, role: str = "postgres") -> list[tuple[object, ...]]:
        with psycopg.connect(host=str(self.primary.sock), user=role, dbname=DB) as conn:
            return conn.execute(statement).fetchall()


def _roles_and_database(primary: ThrowawayCluster) -> None:
    """What a DBA does once (docs/operations.md, "Roles"): the owner, the runtime role."""
    with psycopg.connect(host=str(primary.sock), user="postgres", autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {OWNER} LOGIN")
        conn.execute(f"CREATE ROLE {RUNTIME} LOGIN")
        conn.execute(f"CREATE DATABASE {DB} OWNER {OWNER}")


def _release(owner_url: str) -> None:
    """What a release runs as the owner before any app server starts: `flask --app lims db
    upgrade` and `db grant-runtime-role` (in-process through Flask's CLI runner: the same
    commands, without starting another interpreter)."""
    app = create_app({"DATABASE_URL": owner_url, "SECRET_KEY": SECRET_KEY})
    for args in (["db", "upgrade"], ["db", "grant-runtime-role", RUNTIME]):
        result = app.test_cli_runner().invoke(args=args)
        assert result.exit_code == 0, result.output
    app.extensions["lims_engine"].dispose()


def _log_every_statement(primary: ThrowawayCluster) -> None:
    """The primary logs what it runs from here on, to show that it counts no feasibility."""
    with psycopg.connect(host=str(primary.sock), user="postgres", autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET log_min_duration_statement = 0")  # not on the standby
        conn.execute("SELECT pg_reload_conf()")


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    # The standby logs every statement it runs, to show it is where feasibility is counted.
    primary, standby = primary_and_standby(log_min_duration_statement="0")
    with ExitStack() as cleanup:  # nothing here is kept: no graceful shutdowns
        cleanup.callback(primary.stop)
        cleanup.callback(standby.stop)
        _roles_and_database(primary)
        owner = f"postgresql+psycopg://{OWNER}@/{DB}?host={primary.sock}"
        _release(owner)
        logs = tmp_path_factory.mktemp("deployment")
        shared = (
            f"postgresql+psycopg://{RUNTIME}@/{DB}?host={primary.sock}",
            f"postgresql+psycopg://{RUNTIME}@/{DB}?host={standby.sock}",
            SECRET_KEY,
            "1",  # nginx sets X-Forwarded-For
        )
        env = {
            **dict(zip(SHARED_SETTINGS, shared, strict=True)),
            "LIMS_SECURE_COOKIES": "0",  # plain http on loopback
            "LIMS_WORKERS": "1",  # enough to show the topology; each worker costs a start-up
            "LIMS_LOG_LEVEL": "warning",
        }
        servers = []
        for n in range(2):  # they start while the data is loaded
            servers.append(AppServer(free_port(), env, logs / f"gunicorn-{n}.log"))
            cleanup.callback(servers[-1].kill)
        fixture = prepare(owner, subjects=2, clients=CLIENTS)  # bench/load.py's data, as owner
        engine = make_engine(owner)
        with Session(engine) as session:
            tech = Actor.of(session.scalars(select(User).where(User.username == "tech")).one())
        engine.dispose()
        _log_every_statement(primary)
        standby.catch_up()  # before any read: the clients look up what was just loaded
        for server in servers:
            server.wait_until_up()
        nginx = Nginx(logs / "nginx", [server.port for server in servers])
        cleanup.callback(nginx.stop)
        yield Topology(primary, standby, servers, nginx, fixture, tech)


# --- the runtime role --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ddl",
    ["CREATE TABLE scratch (id int)", "ALTER TABLE aliquots ADD COLUMN x int", "DROP TABLE boxes"],
)
def test_the_app_servers_role_may_not_change_the_schema(topology: Topology, ddl: str) -> None:
    with pytest.raises(errors.InsufficientPrivilege):
        topology.sql(ddl, role=RUNTIME)


def test_the_app_servers_connect_as_the_runtime_role(topology: Topology) -> None:
    # A token check reads the database (and fails): both servers then hold a pooled connection.
    for server in topology.servers:
        _send(
            f"127.0.0.1:{server.port}", "GET", "/api/v1/me", headers={"Authorization": "Bearer x"}
        )

    users = topology.sql(f"SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = '{DB}'")
    assert (RUNTIME,) in users and (OWNER,) not in users


# --- sessions and tokens across app servers ----------------------------------------------------


@dataclass
class Answer:
    status: int
    body: str
    cookie: str | None
    location: str = ""


def _send(
    host: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    conn = http.client.HTTPConnection(host, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        text = response.read().decode()
        set_cookie = response.getheader("Set-Cookie")
        cookie = set_cookie.split(";", 1)[0] if set_cookie else None
        return Answer(response.status, text, cookie, response.getheader("Location") or "")
    finally:
        conn.close()


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
_JSON = {"Content-Type": "application/json"}


def _form(host: str, page: str, cookie: str, **fields: str) -> tuple[str, bytes]:
    """The cookie and a form body carrying the CSRF token `page` embeds."""
    answer = _send(host, "GET", page, headers={"Cookie": cookie})
    match = _CSRF.search(answer.body)
    assert match, answer.body[:500]
    fields["csrf_token"] = match.group(1)
    return answer.cookie or cookie, urllib.parse.urlencode(fields).encode()


def _sign_in(host: str) -> str:
    cookie, body = _form(host, "/login", "", username="tech", password=DEMO_PASSWORD)
    answer = _send(host, "POST", "/login", body, {**_FORM, "Cookie": cookie})
    assert answer.status == 302 and answer.cookie, answer.body[:500]
    return answer.cookie


def _hosts(topology: Topology) -> tuple[str, str]:
    first, second = (f"127.0.0.1:{server.port}" for server in topology.servers)
    return first, second


def test_a_session_begun_on_one_server_works_on_the_other_until_signed_out_on_either(
    topology: Topology,
) -> None:
    first, second = _hosts(topology)
    cookie = _sign_in(first)

    assert _send(second, "GET", "/", headers={"Cookie": cookie}).status == 200
    form_cookie, body = _form(second, "/", cookie)
    signed_out = _send(second, "POST", "/logout", body, {**_FORM, "Cookie": form_cookie})
    refused = _send(first, "GET", "/", headers={"Cookie": cookie})  # the cookie from before

    assert signed_out.status == 302
    assert refused.status == 302 and "/login" in refused.location


def test_a_token_from_one_server_works_on_the_other_until_revoked_on_either(
    topology: Topology,
) -> None:
    first, second = _hosts(topology)
    login = json.dumps({"username": "tech", "password": DEMO_PASSWORD}).encode()
    created = _send(first, "POST", "/api/v1/tokens", login, _JSON)
    assert created.status == 201, created.body
    token = {"Authorization": f"Bearer {json.loads(created.body)['token']}"}

    assert _send(second, "GET", "/api/v1/me", headers=token).status == 200
    assert _send(second, "DELETE", "/api/v1/tokens/current", headers=token).status == 200
    assert _send(first, "GET", "/api/v1/me", headers=token).status == 401


# --- reads from the standby, in-process (the routing itself: lims/db.py) -----------------------


@pytest.fixture(scope="module")
def replica_app(topology: Topology) -> Iterator[tuple[Flask, str]]:
    app = create_app(
        {
            "DATABASE_URL": topology.url(RUNTIME),
            "DATABASE_REPLICA_URL": topology.url(RUNTIME, standby=True),
            "SECRET_KEY": "replica-test-only",
            "TESTING": True,
        }
    )
    yield app, bearer(app.test_client(), "tech")["Authorization"]
    for key in ("lims_engine", "lims_replica_engine"):
        app.extensions[key].dispose()


@pytest.fixture
def client(replica_app: tuple[Flask, str]) -> FlaskClient:
    """A client of its own (its own cookie) with the token; the standby counts as up again."""
    app, token = replica_app
    app.extensions["lims_replica_down_until"] = 0.0
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = token
    return client


def _store_freezer_behind_the_apps_back(topology: Topology, name: str) -> None:
    engine = make_engine(topology.url(RUNTIME))
    with Session(engine) as session:
        create_freezer(
            session, topology.tech, name=name, temperature_c=-80, room="B1", site_code=None
        )
    engine.dispose()


def _freezers(client: FlaskClient) -> list[str]:
    response = client.get("/api/v1/freezers")
    assert response.status_code == 200, response.get_data(as_text=True)
    return [f["name"] for f in response.get_json()["items"]]


@pytest.fixture
def paused(topology: Topology) -> Iterator[None]:
    topology.standby.catch_up()
    topology.standby.execute("SELECT pg_wal_replay_pause()")
    yield
    topology.standby.execute("SELECT pg_wal_replay_resume()")
    topology.standby.catch_up()


def test_a_read_goes_to_the_standby_which_is_a_server_in_recovery(
    topology: Topology, client: FlaskClient, paused: None
) -> None:
    _store_freezer_behind_the_apps_back(topology, "Not yet replayed")

    assert "Not yet replayed" not in _freezers(client)  # the standby has not replayed it
    assert topology.standby.execute("SELECT pg_is_in_recovery()") is True


def test_a_write_goes_to_the_primary_and_the_writers_next_read_sees_it_while_replay_is_paused(
    client: FlaskClient, paused: None
) -> None:
    response = client.post(
        "/api/v1/freezers", json={"name": "Just stored", "temperature_c": -80, "room": "B2"}
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    assert "Just stored" in _freezers(client)


def test_once_the_standby_has_replayed_the_write_reads_go_back_to_it(
    topology: Topology, client: FlaskClient
) -> None:
    client.post("/api/v1/freezers", json={"name": "Replayed", "temperature_c": -80, "room": "B3"})
    topology.standby.catch_up()
    topology.standby.execute("SELECT pg_wal_replay_pause()")
    try:
        _store_freezer_behind_the_apps_back(topology, "Written after the pause")
        names = _freezers(client)
        with client.session_transaction() as cookie:
            mark = cookie.get(WAL_MARK)
    finally:
        topology.standby.execute("SELECT pg_wal_replay_resume()")

    assert "Replayed" in names and "Written after the pause" not in names
    assert mark is None  # the standby has it: the cookie no longer needs the mark


def test_with_the_standby_down_reads_fall_back_to_the_primary(
    topology: Topology, client: FlaskClient
) -> None:
    topology.standby.stop()
    try:
        _store_freezer_behind_the_apps_back(topology, "Read from the primary")
        names = _freezers(client)
    finally:
        topology.standby.start()

    assert "Read from the primary" in names


# --- the load client through nginx, and an app server killed mid-run --------------------------

# bench/load.py's mix, plus two writes whose results the test checks (a new box: its id) and
# feasibility, which the standby must answer.
KINDS = {**MIX, "new box": 10, "feasibility": 5}
AFTER_THE_KILL = 30
REQUIRED_AFTER = {"new box", "feasibility", "lookup"}


@dataclass(frozen=True)
class Outcome:
    kind: str
    method: str
    began: float
    status: int
    box: tuple[str, int | None] | None = None  # (name, id if created)


@dataclass
class LoadRun:
    """bench/load.py's clients (signed in through nginx) sending the mix until told to stop."""

    host: str
    fixture: Fixture
    stop: threading.Event = field(default_factory=threading.Event)
    killed_at: float = 0.0  # wall clock, to compare with nginx's log
    outcomes: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, n: int, bench: Client) -> None:
        rng, scans_in_doubt = random.Random(n), False
        api = {**_JSON, "Authorization": f"Bearer {bench.token}"}
        names, weights = list(KINDS), list(KINDS.values())
        for i in range(1_000_000):
            if self.stop.is_set():
                return
            kind, began, box = rng.choices(names, weights)[0], time.monotonic(), None
            if kind == "scan" and scans_in_doubt:
                kind = "lookup"
            if kind == "new box":
                name = f"Deploy {n}-{i}"
                box = (name, None)
                body = json.dumps({"name": name, "n_rows": 9, "n_cols": 9}).encode()
                method, path, headers = "POST", "/api/v1/boxes", api
            elif kind == "feasibility":
                body = json.dumps({"criteria": HMB}).encode()
                method, path, headers = "POST", "/api/v1/feasibility", api
            else:
                method, path, body, headers = bench.request(kind)
            try:
                answer = _send(self.host, method, path, body, headers)
                status = answer.status
            except (OSError, http.client.HTTPException):  # refused, reset, cut short
                status = 599
            if box is not None and status == 201:
                box = (box[0], int(json.loads(answer.body)["id"]))
            # A scan that failed may or may not have moved the tube: stop scanning it rather
            # than send the next one to the box it may already be in.
            scans_in_doubt = scans_in_doubt or (kind == "scan" and status >= 400)
            with self.lock:
                self.outcomes.append(Outcome(kind, method, began, status, box))

    def drive(self, *, kill: AppServer, kill_after: float) -> float:
        """SIGKILL `kill` after `kill_after` s, then run on until the clients have sent enough
        after the kill (AFTER_THE_KILL, every kind of REQUIRED_AFTER among them), counted on
        requests rather than seconds so a loaded machine does not make it flaky; returns when
        the server was dead."""
        benches = [
            Client(self.host, self.fixture, self.fixture.own[n], random.Random(n))
            for n in range(CLIENTS)
        ]
        for bench in benches:
            bench.sign_in()
        threads = [threading.Thread(target=self.run, args=(n, b)) for n, b in enumerate(benches)]
        for thread in threads:
            thread.start()
        time.sleep(kill_after)
        kill.kill()
        killed, self.killed_at = time.monotonic(), time.time()
        deadline = killed + 60
        while time.monotonic() < deadline:
            with self.lock:
                after = [o for o in self.outcomes if o.began > killed]
            if len(after) >= AFTER_THE_KILL and {o.kind for o in after} >= REQUIRED_AFTER:
                break
            time.sleep(0.1)
        self.stop.set()
        for thread in threads:
            thread.join()
        return killed


def _lines_from(path: Path, offset: int) -> list[str]:
    with path.open("rb") as fh:
        fh.seek(offset)
        return fh.read().decode(errors="replace").splitlines()


def test_with_an_app_server_killed_mid_run_no_completed_write_is_lost_and_the_client_recovers(
    topology: Topology,
) -> None:
    standby_log, primary_log = topology.standby.log, topology.primary.root / "log"
    offsets = standby_log.stat().st_size, primary_log.stat().st_size
    (last_event,) = topology.sql("SELECT max(id) FROM audit_events")[0]
    run = LoadRun(topology.nginx.host, topology.fixture)

    killed = run.drive(kill=topology.servers[0], kill_after=1.5)

    done = run.outcomes
    after = [o for o in done if o.began > killed]
    failed = [o for o in done if o.status >= 400]
    dead, alive = (server.port for server in topology.servers)
    passed = [p for p in topology.nginx.access_log() if p.began > run.killed_at]
    handed_on = sum(len(p.upstreams) > 1 for p in topology.nginx.access_log())
    print(
        f"{len(done)} requests, {len(after)} after the kill; nginx passed {handed_on} on from "
        f"the dead server; failed: {failed}"
    )  # shown when the test fails
    # The client recovers: everything sent after the kill succeeded, writes included, and the
    # only failures are writes in flight on the killed server (nginx never resends a POST).
    assert len(after) >= AFTER_THE_KILL and all(o.status < 400 for o in after), failed
    assert {o.kind for o in after} >= REQUIRED_AFTER
    assert all(o.method == "POST" and o.began < killed for o in failed), failed
    assert len(failed) <= CLIENTS
    # nginx saw the server die, and answered everything after from the live one: a request
    # it first tried on the dead one (connection refused) was passed on to the next upstream.
    assert f'upstream: "http://127.0.0.1:{dead}/' in topology.nginx.error_log()
    assert passed and all(p.upstreams[-1] == alive and p.status < 400 for p in passed), passed

    # No completed write is lost: every box the client saw created is in the primary, by id;
    # a box whose answer was lost may be there or not, and nothing else is.
    stored = dict(topology.sql("SELECT name, id FROM boxes WHERE name LIKE 'Deploy %'"))
    created = dict(o.box for o in done if o.box and o.status == 201)
    in_doubt = {o.box[0] for o in failed if o.box}
    assert created and all(stored.get(name) == ident for name, ident in created.items())
    assert set(stored) <= set(created) | in_doubt
    scans = sum(1 for o in done if o.kind == "scan" and o.status < 400)
    (moves,) = topology.sql(
        f"SELECT count(*) FROM audit_events WHERE id > {last_event} AND action = 'aliquot.moved'"
    )[0]
    assert scans <= moves <= scans + sum(1 for o in failed if o.kind == "scan")
    engine = make_engine(topology.url(OWNER))
    with Session(engine) as session:
        assert verify_chain(session).is_intact  # the trail is whole after the crash
    engine.dispose()

    # Feasibility was counted on the standby (the primary logs every statement and ran none).
    feasible = sum(1 for o in done if o.kind == "feasibility" and o.status == 200)
    on_standby = [line for line in _lines_from(standby_log, offsets[0]) if _COUNTING in line]
    on_primary = [line for line in _lines_from(primary_log, offsets[1]) if _COUNTING in line]
    assert feasible and len(on_standby) >= feasible and on_primary == []


# The criteria engine's counting query begins with its materialized CTE of eligible visits.
_COUNTING = "WITH eligible_visits AS MATERIALIZED"
