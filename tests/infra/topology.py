"""The production topology on this machine's loopback (issue 20; docs/operations.md, "Several app
servers"): gunicorn app servers run with deploy/gunicorn.conf.py, and Debian's nginx in front
with deploy/nginx.conf, rendered for loopback ports (no TLS, a temporary prefix, pid and logs).
The database side (a primary and its hot standby) is tests/replicas.py."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_ALL

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SECRET_KEY = "shared-by-every-app-server"
# What every app server of one deployment is given alike (/etc/lims/lims.env for
# deploy/lims@.service, the app servers of deploy/compose.yaml); each adds its own LIMS_BIND.
SHARED_SETTINGS = ("DATABASE_URL", "DATABASE_REPLICA_URL", "SECRET_KEY", "LIMS_PROXY_HOPS")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for(url: str, process: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"{what} did not start:\n{log.read_text()[-2000:]}") from None
            time.sleep(0.1)


def _missing(reason: str) -> None:
    if REQUIRE_ALL:
        pytest.fail(reason + " (LIMS_REQUIRE_ALL=1)")
    pytest.skip(reason)


class AppServer:
    """One app server, as `systemctl start lims@PORT` runs it: gunicorn with
    deploy/gunicorn.conf.py, master and workers in a process group of their own, so that
    kill() takes the whole server down at once, as a crashed host would. Starting returns at
    once (start several, then wait_until_up on each)."""

    def __init__(self, port: int, env: dict[str, str], log: Path) -> None:
        if shutil.which("gunicorn", path=str(Path(sys.executable).parent)) is None:
            _missing("gunicorn is not installed (pip install -e '.[test]')")
        self.port, self.log = port, log
        environ = {**os.environ, **env, "LIMS_BIND": f"127.0.0.1:{port}"}
        cmd = [sys.executable, "-m", "gunicorn", "-c", str(DEPLOY / "gunicorn.conf.py")]
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [*cmd, "lims:create_app()"],
                cwd=ROOT,
                env=environ,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_until_up(self) -> None:
        _wait_for(f"{self.base}/login", self.process, "gunicorn", self.log)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL to the master and every worker: no graceful shutdown, no request finished.
        Returns once the port refuses connections: a worker may outlive its master by a few
        milliseconds, holding the listening socket, and what it accepts then is lost too."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            except ConnectionRefusedError:
                return
            time.sleep(0.01)
        raise RuntimeError(f"port {self.port} still accepts connections after SIGKILL")


def _swap(text: str, old: str, new: str) -> str:
    """Replace `old`, which must be there: if deploy/nginx.conf changes shape, this test must
    change with it, not quietly run another configuration."""
    assert old in text, f"deploy/nginx.conf no longer contains {old!r}"
    return text.replace(old, new)


def render_nginx_conf(listen: int, upstreams: list[int], root: Path = ROOT) -> str:
    """deploy/nginx.conf for loopback: the same upstream, retry and proxy settings, with the app
    servers' ports, plain http on `listen` instead of the TLS server, and the repository's
    static files."""
    text = (DEPLOY / "nginx.conf").read_text()
    text = _swap(text, "server 127.0.0.1:8001 ", f"server 127.0.0.1:{upstreams[0]} ")
    text = _swap(text, "server 127.0.0.1:8002 ", f"server 127.0.0.1:{upstreams[1]} ")
    text, redirects = re.subn(r"server \{\s*listen 80;.*?\n\}\n", "", text, flags=re.S)
    assert redirects == 1, "deploy/nginx.conf: the http-to-https server is not where it was"
    tls = re.compile(r"listen 443 ssl[^\n]*\n(.*\n)*?\s*ssl_certificate_key [^\n]*\n")
    text, servers = tls.subn(f"listen 127.0.0.1:{listen};\n", text)
    assert servers == 1, "deploy/nginx.conf: the TLS listen and certificate lines moved"
    return _swap(text, "/srv/lims/", f"{root}/")


# $upstream_addr lists every app server nginx tried for a request: "A, B" is a retry on B.
_MAIN_CONF = """\
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    log_format upstreams '$msec $request_time $status $request_method "$upstream_addr"';
    access_log {dir}/access.log upstreams;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/lims.conf;
}}
"""


@dataclass(frozen=True)
class Passed:
    """One request as nginx logged it: when it began (wall clock), its answer, and the ports of
    the app servers it was passed to, in order (two when the first failed)."""

    began: float
    status: int
    upstreams: tuple[int, ...]


class Nginx:
    """Debian's nginx in the foreground with a prefix of its own: `nginx -p DIR -c FILE`."""

    def __init__(self, directory: Path, upstreams: list[int]) -> None:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(binary).exists():
            _missing("nginx is not installed (apt-get install nginx-light)")
        directory.mkdir(parents=True, exist_ok=True)
        self.dir, self.port = directory, free_port()
        (directory / "lims.conf").write_text(render_nginx_conf(self.port, upstreams))
        (directory / "nginx.conf").write_text(_MAIN_CONF.format(dir=directory))
        cmd = [binary, "-p", str(directory), "-c", str(directory / "nginx.conf")]
        checked = subprocess.run([*cmd, "-t"], capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stderr
        self.process = subprocess.Popen(
            [*cmd, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _wait_for(f"{self.base}/login", self.process, "nginx", directory / "error.log")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def access_log(self) -> list[Passed]:
        entries = []
        for line in (self.dir / "access.log").read_text().splitlines():
            done, took, status, _method, upstreams = line.split(" ", 4)
            addresses = upstreams.strip('"').split(", ") if upstreams != '"-"' else []  # static
            servers = tuple(int(a.rsplit(":", 1)[1]) for a in addresses)
            entries.append(Passed(float(done) - float(took), int(status), servers))
        return entries

    def error_log(self) -> str:
        return (self.dir / "error.log").read_text()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)  # nginx's fast shutdown
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
