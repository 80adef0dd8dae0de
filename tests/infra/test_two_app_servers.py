"""Two app server processes on one PostgreSQL database (issue 20): nothing a user's session
needs lives in a process, so a cookie or a token from one server works on the other, and a
sign-out or a revoked token on one is refused at once by the other."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from alembic import command
from sqlalchemy.orm import Session

from lims.actors import Role
from lims.cli import alembic_config
from lims.db import make_engine
from tests.conftest import DatabaseMaker
from tests.factories import DEMO_PASSWORD, make_user


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


@dataclass
class Answer:
    status: int
    body: str
    cookie: str | None
    location: str


def call(
    base: str,
    path: str,
    *,
    cookie: str = "",
    data: bytes | None = None,
    token: str = "",
    method: str = "",
) -> Answer:
    method = method or ("POST" if data else "GET")
    req = urllib.request.Request(base + path, data=data, method=method)
    if cookie:
        req.add_header("Cookie", cookie)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        json_body = data.startswith(b"{")
        kind = "application/json" if json_body else "application/x-www-form-urlencoded"
        req.add_header("Content-Type", kind)
    try:
        with _OPENER.open(req, timeout=30) as response:
            status, headers, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        status, headers, body = err.code, err.headers, err.read()
    set_cookie = headers.get("Set-Cookie")
    new_cookie = set_cookie.split(";", 1)[0] if set_cookie else None
    return Answer(status, body.decode(), new_cookie, headers.get("Location", ""))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(database_url: str, port: int, **env: str) -> subprocess.Popen[bytes]:
    """`flask run` in a process of its own, as an app server would be (gunicorn in deploy/)."""
    environ = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "shared-by-every-app-server",
        "LIMS_SECURE_COOKIES": "0",  # plain http on loopback
        **env,
    }
    cmd = [sys.executable, "-m", "flask", "--app", "lims", "run", "--port", str(port)]
    process = subprocess.Popen(cmd, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5).close()
            return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(
                    process.stderr.read().decode() if process.stderr else ""
                ) from None
            time.sleep(0.1)


@pytest.fixture(scope="module")
def servers(databases: DatabaseMaker) -> Iterator[tuple[str, str]]:
    url = databases.url("postgresql", "lims_two_servers")
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    with Session(engine) as session:
        make_user(session, "tech", Role.TECHNICIAN)
    engine.dispose()
    ports = [_free_port(), _free_port()]
    processes = [start_server(url, port) for port in ports]
    yield f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}"
    for process in processes:
        process.terminate()
        process.wait(10)


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _form(cookie: str, base: str, page: str, **fields: str) -> tuple[str, bytes]:
    """The cookie and a form body carrying the CSRF token `page` embeds."""
    answer = call(base, page, cookie=cookie)
    match = _CSRF.search(answer.body)
    assert match, answer.body[:500]
    fields["csrf_token"] = match.group(1)
    return answer.cookie or cookie, urllib.parse.urlencode(fields).encode()


def _sign_in(base: str) -> str:
    cookie, body = _form("", base, "/login", username="tech", password=DEMO_PASSWORD)
    answer = call(base, "/login", cookie=cookie, data=body)
    assert answer.status == 302 and answer.cookie, answer.body[:500]
    return answer.cookie


def test_a_session_begun_on_one_server_works_on_the_other_until_signed_out_on_either(
    servers: tuple[str, str],
) -> None:
    first, second = servers
    cookie = _sign_in(first)

    assert call(second, "/", cookie=cookie).status == 200
    form_cookie, body = _form(cookie, second, "/")
    assert call(second, "/logout", cookie=form_cookie, data=body).status == 302
    refused = call(first, "/", cookie=cookie)  # the copy of the cookie from before sign-out

    assert refused.status == 302 and "/login" in refused.location


def test_a_token_from_one_server_works_on_the_other_until_revoked_on_either(
    servers: tuple[str, str],
) -> None:
    first, second = servers
    login = json.dumps({"username": "tech", "password": DEMO_PASSWORD}).encode()
    created = call(first, "/api/v1/tokens", data=login)
    token = re.search(r'"token":\s*"([^"]+)"', created.body)
    assert created.status == 201 and token, created.body

    assert call(second, "/api/v1/me", token=token.group(1)).status == 200
    assert (
        call(second, "/api/v1/tokens/current", token=token.group(1), method="DELETE").status == 200
    )
    assert call(first, "/api/v1/me", token=token.group(1)).status == 401
