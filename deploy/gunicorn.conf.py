"""gunicorn settings for one LIMS app server (docs/operations.md, "Several app servers").

    gunicorn -c deploy/gunicorn.conf.py "lims:create_app()"

Every value can be overridden from the environment (GUNICORN_CMD_ARGS or the variables below),
so the same file serves each app server behind nginx (deploy/nginx.conf) and bench/load.py.
"""

import multiprocessing
import os

# Where nginx reaches this server; each app server of a host gets its own port.
bind = os.environ.get("LIMS_BIND", "127.0.0.1:8001")

# Sync workers: each request holds one worker and one database connection, and the work is
# short (a few milliseconds of SQL and a template). Two per core plus one keeps the cores busy
# while some workers wait on PostgreSQL (gunicorn's own advice).
workers = int(os.environ.get("LIMS_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"

# A request that takes longer than this is a bug or a stuck lock; the worker is replaced.
# Exports stream (lims/storage): 2,000,000 rows take well under this.
timeout = int(os.environ.get("LIMS_WORKER_TIMEOUT_S", "120"))
graceful_timeout = 30
keepalive = 5

# Replace a worker after this many requests (with jitter, so they do not restart together),
# which bounds any slow growth of memory in a long-running process. A new worker imports the
# app and starts with cold caches (compiled statements, templates, prepared statements): at
# 10,000 a busy hour restarted each worker every minute or so, and the requests queued behind
# a restart were the slowest of bench/load.py's runs (2026-12-02).
max_requests = 100_000
max_requests_jitter = 10_000

# No preload: each worker creates its own engines and connection pools after the fork
# (SQLAlchemy pools must not be shared across processes).
preload_app = False

# nginx on the same host sets X-Forwarded-*; the app trusts them through werkzeug's ProxyFix
# when LIMS_PROXY_HOPS=1 (config.py), so gunicorn's own handling is limited to loopback.
forwarded_allow_ips = os.environ.get("LIMS_FORWARDED_ALLOW_IPS", "127.0.0.1")

accesslog = os.environ.get("LIMS_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("LIMS_LOG_LEVEL", "info")


def post_worker_init(worker: object) -> None:
    """Move what the app allocated at start (mappers, metadata, templates: about 165,000
    objects) out of the cycle collector's reach: a full collection walked them all, 100 ms with
    the worker unable to answer (measured 2026-12-02). Reference counting still frees them."""
    import gc

    gc.collect()  # what start-up left as garbage is freed, not kept for good
    gc.freeze()
