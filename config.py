"""Settings, read from the environment once when the app is created."""

from __future__ import annotations

import os
import secrets
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


def database_url() -> str:
    """DATABASE_URL, or a SQLite file under instance/ (the embedded default)."""
    if url := os.environ.get("DATABASE_URL"):
        # Accept the common postgres:// spelling and use the psycopg 3 driver.
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{INSTANCE_DIR / 'lims.sqlite3'}"


def load() -> dict[str, Any]:
    """The app's settings; create_app(overrides) may replace any of them."""
    return {
        "SECRET_KEY": _secret_key(),
        "DATABASE_URL": database_url(),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("LIMS_SECURE_COOKIES") == "1",
        "WTF_CSRF_TIME_LIMIT": None,  # a bench session stays open all day; the token is per session
        "API_TOKEN_HOURS": int(os.environ.get("LIMS_API_TOKEN_HOURS", "12")),
        # Failed sign-ins allowed per username in the window before further attempts are refused.
        "LOGIN_MAX_FAILURES": int(os.environ.get("LIMS_LOGIN_MAX_FAILURES", "5")),
        "LOGIN_WINDOW_MINUTES": int(os.environ.get("LIMS_LOGIN_WINDOW_MINUTES", "15")),
        "PAGE_SIZE": 50,
        # A 100,000-row aliquot import (the row limit below) measured 15.0 MiB (bench/imports.py
        # collection_log, 157 bytes a row); anything larger is refused (413) before it is read.
        "MAX_CONTENT_LENGTH": int(os.environ.get("LIMS_MAX_UPLOAD_MB", "16")) * 2**20,
        "MAX_IMPORT_ROWS": int(os.environ.get("LIMS_MAX_IMPORT_ROWS", "100000")),
    }
