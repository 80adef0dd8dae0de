"""Settings, read from the environment once when the app is created."""

from __future__ import annotations

import os
import re
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("LIMS_INSTANCE_DIR", ROOT / "instance"))


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once into instance/ (no constant)."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        # O_EXCL: two workers starting together must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


# Key ids name keys in the audit trail's key_id column; "sha256" marks the unkeyed legacy rows.
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
LEGACY_KEY_ID = "sha256"


def audit_keyring() -> list[tuple[str, str]]:
    """The audit chain's HMAC keys as (key id, secret), oldest first; the last one signs.

    From LIMS_AUDIT_KEY ("id:secret", several separated by commas), else the file named by
    LIMS_AUDIT_KEY_FILE (one "id:secret" a line), else a key generated once into instance/.
    Never from the database: a key stored beside the trail would not protect it.
    """
    if text := os.environ.get("LIMS_AUDIT_KEY"):
        return _parse_keyring(text.replace(",", "\n"), "LIMS_AUDIT_KEY")
    if name := os.environ.get("LIMS_AUDIT_KEY_FILE"):
        return _parse_keyring(Path(name).read_text(), name)
    path = INSTANCE_DIR / "audit_keyring"
    _write_once(path, f"k1:{secrets.token_hex(32)}\n")
    return _parse_keyring(path.read_text(), str(path))


def _parse_keyring(text: str, source: str) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key_id, _, secret = line.partition(":")
        if not _KEY_ID.match(key_id) or key_id == LEGACY_KEY_ID or len(secret) < 32:
            raise ValueError(
                f"{source}: each key is 'id:secret', the id 1-32 letters, digits, '.', '_' or "
                f"'-' (not '{LEGACY_KEY_ID}'), the secret at least 32 characters"
            )
        if key_id in dict(keys):
            raise ValueError(f"{source}: key id {key_id!r} appears twice")
        keys.append((key_id, secret))
    if not keys:
        raise ValueError(f"{source}: no audit key found")
    return keys


def _write_once(path: Path, content: str) -> None:
    """Create a private file unless it exists; O_EXCL so two workers cannot write two keys."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as fh:
        fh.write(content)


def feasibility_secret() -> bytes:
    """The server secret that seeds the feasibility noise (docs/user/feasibility-counts.md).

    From LIMS_FEASIBILITY_SECRET (at least 32 characters), else the file named by
    LIMS_FEASIBILITY_SECRET_FILE, else one generated once into instance/feasibility_secret (the
    development default). Changing it gives every past question fresh noise: treat it as a key.
    """
    if text := os.environ.get("LIMS_FEASIBILITY_SECRET"):
        source = "LIMS_FEASIBILITY_SECRET"
    elif name := os.environ.get("LIMS_FEASIBILITY_SECRET_FILE"):
        text, source = Path(name).read_text().strip(), name
    else:
        path = INSTANCE_DIR / "feasibility_secret"
        _write_once(path, secrets.token_hex(32) + "\n")
        text, source = path.read_text().strip(), str(path)
    if len(text) < 32:
        raise ValueError(f"{source}: the feasibility secret must be at least 32 characters")
    return text.encode()


def database_url() -> str:
    """DATABASE_URL, or a SQLite file under instance/ (the embedded default)."""
    if url := os.environ.get("DATABASE_URL"):
        return _psycopg(url)
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{INSTANCE_DIR / 'lims.sqlite3'}"


def replica_url() -> str | None:
    """DATABASE_REPLICA_URL: a PostgreSQL hot standby of DATABASE_URL for reads, or None."""
    url = os.environ.get("DATABASE_REPLICA_URL")
    return _psycopg(url) if url else None


def _psycopg(url: str) -> str:
    """Accept the common postgres:// spelling and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def installation() -> int | None:
    """LIMS_INSTALLATION: this installation's number, the first digit of its tube codes (0-9).

    Read by `flask db upgrade`, which stores it in the database; None leaves the stored one.
    """
    text = os.environ.get("LIMS_INSTALLATION", "").strip()
    if not text:
        return None
    if not (len(text) == 1 and text.isdigit()):
        raise ValueError(f"LIMS_INSTALLATION is one digit, 0-9, not {text!r}")
    return int(text)


def load() -> dict[str, Any]:
    """The app's settings; create_app(overrides) may replace any of them."""
    session_max_hours = int(os.environ.get("LIMS_SESSION_MAX_HOURS", "12"))
    return {
        "SECRET_KEY": _secret_key(),
        "DATABASE_URL": database_url(),
        # Optional: reads (GET requests) go to this hot standby once it has replayed the user's
        # own writes (lims/db.py; docs/operations.md, "A read replica").
        "DATABASE_REPLICA_URL": replica_url(),
        # The first digit of every tube code this installation issues (docs/operations.md).
        "INSTALLATION": installation(),
        # "development" (make run: plain http on 127.0.0.1) or "production" (the default).
        "LIMS_ENV": os.environ.get("LIMS_ENV", "production"),
        # Label printers: the command that takes a PDF on standard input for a print queue
        # ({queue} is replaced by the printer's queue), and how long a printer may take.
        "LABEL_PRINT_COMMAND": os.environ.get("LIMS_LABEL_PRINT_COMMAND", "lp -d {queue}"),
        "PRINTER_TIMEOUT_S": float(os.environ.get("LIMS_PRINTER_TIMEOUT_S", "5")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session, which now ends
        # A session ends after this long without a request, and this long after signing in.
        "SESSION_IDLE_MINUTES": int(os.environ.get("LIMS_SESSION_IDLE_MINUTES", "30")),
        "SESSION_MAX_HOURS": session_max_hours,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=session_max_hours),
        "API_TOKEN_HOURS": int(os.environ.get("LIMS_API_TOKEN_HOURS", "12")),
        # Failed sign-ins allowed in the window, per username from one source address, before
        # further attempts are refused; and per source address whatever the usernames.
        "LOGIN_MAX_FAILURES": int(os.environ.get("LIMS_LOGIN_MAX_FAILURES", "5")),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": int(
            os.environ.get("LIMS_LOGIN_MAX_FAILURES_PER_ADDRESS", "50")
        ),
        "LOGIN_WINDOW_MINUTES": int(os.environ.get("LIMS_LOGIN_WINDOW_MINUTES", "15")),
        # Behind a reverse proxy: how many proxies set X-Forwarded-For (the throttle counts by
        # the client's address, not the proxy's). 0 when clients connect directly.
        "PROXY_HOPS": int(os.environ.get("LIMS_PROXY_HOPS", "0")),
        "PAGE_SIZE": 50,
        # Feasibility counts (docs/user/feasibility-counts.md): the noise's secret, the small-
        # count threshold k, the per-investigator rate limit, and the lockout (i2b2: more than
        # 7 different queries with one true count in 30 days).
        "FEASIBILITY_SECRET": feasibility_secret(),
        "FEASIBILITY_K": int(os.environ.get("LIMS_FEASIBILITY_K", "5")),
        "FEASIBILITY_RATE_LIMIT": int(os.environ.get("LIMS_FEASIBILITY_RATE_LIMIT", "30")),
        "FEASIBILITY_RATE_WINDOW_MINUTES": int(
            os.environ.get("LIMS_FEASIBILITY_RATE_WINDOW_MINUTES", "60")
        ),
        "FEASIBILITY_LOCKOUT_LIMIT": int(os.environ.get("LIMS_FEASIBILITY_LOCKOUT_LIMIT", "7")),
        "FEASIBILITY_LOCKOUT_DAYS": int(os.environ.get("LIMS_FEASIBILITY_LOCKOUT_DAYS", "30")),
        # A 100,000-row aliquot import (the row limit below) measured 15.0 MiB (bench/imports.py
        # collection_log, 157 bytes a row); anything larger is refused (413) before it is read.
        "MAX_CONTENT_LENGTH": int(os.environ.get("LIMS_MAX_UPLOAD_MB", "16")) * 2**20,
        "MAX_IMPORT_ROWS": int(os.environ.get("LIMS_MAX_IMPORT_ROWS", "100000")),
        # Plausibility (docs/user/plausibility-rules.md): how far ahead of the server's clock a
        # time may be, and how many days a collection may lie from its visit's date.
        "CLOCK_SKEW_MINUTES": int(os.environ.get("LIMS_CLOCK_SKEW_MINUTES", "5")),
        "COLLECTION_VISIT_TOLERANCE_DAYS": int(
            os.environ.get("LIMS_COLLECTION_VISIT_TOLERANCE_DAYS", "1")
        ),
        # Investigators' protocols and data use agreements (PDF), stored under random names.
        "REQUEST_FILES_DIR": Path(
            os.environ.get("LIMS_REQUEST_FILES_DIR", INSTANCE_DIR / "request-files")
        ),
        # A protocol with its appendices runs to a few MiB; the limit keeps a scan of a thick
        # binder (or a wrong file) out. Below MAX_CONTENT_LENGTH so the message is ours, not a 413.
        "REQUEST_FILE_MAX_BYTES": int(os.environ.get("LIMS_REQUEST_FILE_MAX_MB", "10")) * 2**20,
    }


def cookie_security(settings: dict[str, Any]) -> dict[str, Any]:
    """Secure cookies everywhere but development and tests, which run on plain http.

    LIMS_SECURE_COOKIES=0 turns them off elsewhere too (a site that terminates TLS in front of
    the app and talks http to it still wants them on: the browser sees https).
    """
    plain_http = settings.get("TESTING") or settings["LIMS_ENV"] == "development"
    secure = not plain_http and os.environ.get("LIMS_SECURE_COOKIES") != "0"
    return {"SESSION_COOKIE_SECURE": secure, "REMEMBER_COOKIE_SECURE": secure}
