"""Database plumbing: declarative Base, naming convention, engines, the request session."""

from __future__ import annotations

import enum
import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar, cast

import psycopg
from flask import current_app, g, has_request_context, request
from flask import session as cookie
from sqlalchemy import (
    Constraint,
    DateTime,
    Enum,
    MetaData,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Dialect, Engine, ExceptionContext
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from lims.errors import Busy, Conflict, NotFound

log = logging.getLogger(__name__)

# One name for every constraint on both databases, so migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the LIMS stores UTC-aware datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


E = TypeVar("E", bound=enum.Enum)


def str_enum(enum_cls: type[enum.Enum], length: int = 24, name: str | None = None) -> Enum:
    """Store a StrEnum by value in a VARCHAR with a CHECK, so both databases refuse a bad value."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda cls: [member.value for member in cls],
        validate_strings=True,
        name=name or enum_cls.__name__.lower(),  # names the CHECK constraint
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), str: String(255)}


def utcnow() -> datetime:
    return datetime.now(UTC)


# How long a writer waits for another bench's write transaction on SQLite before giving up.
SQLITE_BUSY_TIMEOUT_MS = 15_000
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine that behaves the same on SQLite as on PostgreSQL where it matters."""
    if not url.startswith("sqlite"):
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
    else:
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )
        _sqlite_like_a_server(engine, in_memory=":memory:" in url)
    event.listen(engine, "handle_error", _translate_error)
    return engine


def _sqlite_like_a_server(engine: Engine, *, in_memory: bool) -> None:
    """SQLAlchemy's pysqlite recipe, plus writers that wait their turn.

    SQLAlchemy emits BEGIN itself so SAVEPOINTs work; foreign keys and WAL are on for every
    connection. A transaction that may write begins with BEGIN IMMEDIATE, so it takes SQLite's
    write lock before its first read: two benches then queue on the busy timeout instead of both
    reading, both deciding, and one failing with "database is locked" when it upgrades its lock
    (SQLite returns SQLITE_BUSY at once there, whatever the timeout: https://sqlite.org/lang_transaction.html).
    Reads (sessions made with read_only=True) begin DEFERRED and never block a writer under WAL.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


def _translate_error(context: ExceptionContext) -> None:
    """Database refusals that a user can cause become LimsErrors, in this one place.

    A unique, foreign-key or check constraint that catches a race between two requests (each
    checked first and saw no clash) is a 409 naming the field, not a 500; a lock that could not be
    had in time, or a deadlock PostgreSQL broke, is a 503 asking to try again.
    """
    translate_refusal(context.sqlalchemy_exception)


def translate_refusal(err: BaseException | None) -> None:
    """Raise the LimsError a database refusal means (see _translate_error); return if none.

    For what goes to the driver directly (COPY, lims/bulk_copy.py), which the engine's error
    handler never sees."""
    if isinstance(err, IntegrityError) and _is_constraint(err):
        raise constraint_conflict(err) from err
    if isinstance(err, OperationalError | DBAPIError) and _is_busy(err):
        raise Busy(
            "The database is busy with another bench's change; nothing was saved, try again"
        ) from err


# SQLSTATEs: 40001 serialization_failure, 40P01 deadlock_detected, 55P03 lock_not_available.
_PG_BUSY = frozenset({"40001", "40P01", "55P03"})


# Unique, foreign-key and check violations (SQLSTATE class 23); others, such as a NOT NULL
# violation or the audit trail's append-only trigger, are bugs or tampering and stay errors.
_PG_CONSTRAINT = frozenset({"23505", "23503", "23514"})
_SQLITE_CONSTRAINT = (
    "UNIQUE constraint failed",
    "FOREIGN KEY constraint failed",
    "CHECK constraint",
)


def _is_constraint(err: IntegrityError) -> bool:
    sqlstate = getattr(err.orig, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in _PG_CONSTRAINT
    return str(err.orig).startswith(_SQLITE_CONSTRAINT)


def _is_busy(err: DBAPIError) -> bool:
    if getattr(err.orig, "sqlstate", None) in _PG_BUSY:
        return True
    text = str(err.orig)
    return "database is locked" in text or "database table is locked" in text


def constraint_conflict(err: IntegrityError) -> Conflict:
    """A 409 that names the record and the field a violated constraint guards."""
    name, table, columns = _violated(err)
    constraint = _constraint(name, table, columns)
    field = (constraint.info.get("field") if constraint is not None else None) or _field(columns)
    what = _model_name(constraint.table.name if constraint is not None else table)
    detail = getattr(getattr(err.orig, "diag", None), "message_detail", None)
    kind = _kind(err, constraint)
    if kind == "unique":
        message = f"Another {what} already has this {field}"
        message += f" ({detail.removeprefix('Key ')})" if detail else ""
        message += "; it was probably saved a moment ago by another request. Nothing was saved"
    elif kind == "foreign key":
        message = f"The {what} refers to a record that does not exist (any more); nothing was saved"
    else:
        message = f"The {what} would break the rule {name or 'of the database'}; nothing was saved"
    return Conflict(message, field=field)


def _violated(err: IntegrityError) -> tuple[str | None, str | None, list[str]]:
    """(constraint name, table, columns) as far as the driver tells them."""
    diag = getattr(err.orig, "diag", None)
    if diag is not None:  # psycopg: 'Key (box_id, "row", col)=(3, 1, 1) already exists.'
        key = re.match(r"Key \((.+?)\)=", diag.message_detail or "")
        cols = [c.strip().strip('"') for c in key.group(1).split(",")] if key else []
        return diag.constraint_name, diag.table_name, cols
    text = str(err.orig)  # SQLite: "UNIQUE constraint failed: placements.box_id, placements.row"
    if text.startswith("UNIQUE constraint failed: "):
        cols = [c.strip() for c in text.removeprefix("UNIQUE constraint failed: ").split(",")]
        table = cols[0].split(".")[0] if cols else None
        return None, table, [c.split(".", 1)[-1] for c in cols]
    if text.startswith("CHECK constraint failed: "):
        return text.removeprefix("CHECK constraint failed: ").strip(), None, []
    return None, None, []


def _constraint(name: str | None, table: str | None, columns: list[str]) -> Constraint | None:
    """The model's constraint: by its columns where the driver names them (a convention-named
    constraint has no name on the Python side until DDL is compiled), else by name."""
    for tbl in Base.metadata.tables.values():
        for constraint in tbl.constraints:
            cols = [c.name for c in getattr(constraint, "columns", [])]
            if columns and tbl.name == table and cols == columns:
                return constraint
            if not columns and name and str(constraint.name) in (name, f"ck_{tbl.name}_{name}"):
                return constraint
    return None


def _kind(err: IntegrityError, constraint: Constraint | None) -> str:
    sqlstate = getattr(err.orig, "sqlstate", None)
    if sqlstate == "23505" or isinstance(constraint, UniqueConstraint | PrimaryKeyConstraint):
        return "unique"
    if sqlstate == "23503" or "FOREIGN KEY" in str(err.orig):
        return "foreign key"
    return "check"


def _field(columns: list[str]) -> str | None:
    return columns[-1] if columns else None


def _model_name(table: str | None) -> str:
    for mapper in Base.registry.mappers:
        if getattr(mapper.local_table, "name", None) == table:
            return mapper.class_.__name__.lower()
    return "record"


def init_app(app: Any) -> None:
    """Create the engines once per app; a test may supply its own session factory."""
    if "SESSION_FACTORY" in app.config:
        app.extensions["lims_session_factory"] = app.config["SESSION_FACTORY"]
        app.extensions["lims_read_session_factory"] = app.config["SESSION_FACTORY"]
        return
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["lims_engine"] = engine
    app.extensions["lims_session_factory"] = sessionmaker(bind=engine, expire_on_commit=False)
    reader = engine.execution_options(sqlite_begin="DEFERRED")
    app.extensions["lims_read_session_factory"] = sessionmaker(bind=reader, expire_on_commit=False)
    if replica_url := app.config.get("DATABASE_REPLICA_URL"):
        _init_replica(app, engine, replica_url)

    @app.teardown_appcontext
    def _close_session(exc: BaseException | None) -> None:
        for key in ("lims_session", "lims_primary_session"):
            session = g.pop(key, None)
            if session is not None:
                close_keeping_statements(session, failed=exc is not None)


# True when this transaction has written nothing: PostgreSQL assigns a transaction id at the
# first row written or locked (https://www.postgresql.org/docs/15/functions-info.html).
_WROTE_NOTHING = "SELECT txid_current_if_assigned() IS NULL"


def close_keeping_statements(session: Session, *, failed: bool = False) -> None:
    """Close a request's session; on PostgreSQL a transaction that wrote nothing ends in COMMIT.

    For such a transaction COMMIT and ROLLBACK are the same, but psycopg forgets every prepared
    statement on a ROLLBACK (and sends DEALLOCATE ALL). Every read request used to end in one, so
    no statement was ever prepared across requests and PostgreSQL planned each one again: the
    aliquot lookup's one-statement read spent 2.2 ms planning and 0.1 ms running
    (pg_stat_statements, 2026-12-02). A transaction that wrote or locked a row, or a request
    that failed, still rolls back.
    """
    try:
        pending = session.new or session.dirty or session.deleted  # changes not yet flushed
        if not failed and not pending and _wrote_nothing(session):
            session.commit()
    finally:
        session.close()


def _wrote_nothing(session: Session) -> bool:
    """Whether the session's PostgreSQL transaction is open and wrote nothing. Asked on the
    driver's connection: the question is the session's ending, not the request's work, so the
    statement counts of tests/storage/test_query_counts.py leave it out, as they do the pool's
    ping."""
    if not session.in_transaction() or session.get_bind().dialect.name != "postgresql":
        return False
    try:
        raw = session.connection().connection.driver_connection
        row = raw.execute(_WROTE_NOTHING).fetchone() if raw is not None else None
    except (SQLAlchemyError, psycopg.Error):
        # A transaction the database aborted (an error a view caught without rolling back), a
        # session waiting for its rollback, a connection gone: roll back, as before.
        return False
    return bool(row and row[0])


# Read scaling on PostgreSQL streaming replication (docs/operations.md, "A read replica").
# Every decision about where a request reads is taken here, once per request.
#
# A request that only reads (GET, HEAD, OPTIONS) reads from the hot standby, unless the user
# wrote something the standby has not replayed yet: after a request that committed, the
# primary's WAL position (at or after that commit) goes into the signed session cookie, and a
# later read goes to the standby only once pg_last_wal_replay_lsn() there has reached it. So a
# technician who just stored a tube sees it, on any app server.
# Signing in, bearer tokens and sign-out read the primary always (get_session(primary=True)):
# a session ended on one server must end on every server at once, whatever the standby's lag.
WAL_MARK = "wal_lsn"
# The insert position, not pg_current_wal_lsn() (the write position): under
# synchronous_commit=off a commit record may still sit in the WAL buffers, before the write
# position; the insert position is past it in every mode.
_WAL_INSERT_POSITION = text("SELECT pg_current_wal_insert_lsn()::text")
# A standby that does not answer within this long is taken as down: reads go to the primary.
REPLICA_CONNECT_TIMEOUT_S = 2
# After the standby failed, this process reads from the primary for this long before trying
# it again, so a standby that is down costs one failed connection, not one per request.
REPLICA_RETRY_S = 5.0


def _init_replica(app: Any, engine: Engine, replica_url: str) -> None:
    if engine.dialect.name != "postgresql" or not replica_url.startswith("postgresql"):
        raise ValueError("DATABASE_REPLICA_URL needs PostgreSQL for both the primary and replica")
    replica = make_engine(replica_url, connect_args={"connect_timeout": REPLICA_CONNECT_TIMEOUT_S})
    app.extensions["lims_replica_engine"] = replica
    app.extensions["lims_replica_factory"] = sessionmaker(bind=replica, expire_on_commit=False)
    app.extensions["lims_replica_down_until"] = 0.0
    for key in ("lims_session_factory", "lims_read_session_factory"):
        event.listen(app.extensions[key], "after_commit", _note_commit)

    @app.after_request
    def _remember_wal_position(response: Any) -> Any:
        if g.pop("lims_committed", False):
            with engine.connect() as connection:
                cookie[WAL_MARK] = connection.scalar(_WAL_INSERT_POSITION)
                connection.commit()  # it read: a rollback would drop the prepared statements
        return response


def _note_commit(_session: Session) -> None:
    if has_request_context():
        g.lims_committed = True


def _replica_factory(*, any_method: bool = False) -> Callable[[], Session] | None:
    """The standby's session factory if this request may read from it, else None (decided once
    per request: the standby only moves forward, so a later session there sees at least as much).
    any_method=True lets a request that writes read from it too (replica_session below).
    """
    key = "lims_replica_any" if any_method else "lims_replica"
    if key not in g:
        setattr(g, key, _choose_replica(any_method=any_method))
    factory: Callable[[], Session] | None = getattr(g, key)
    return factory


def _choose_replica(*, any_method: bool) -> Callable[[], Session] | None:
    extensions = current_app.extensions
    factory = extensions.get("lims_replica_factory")
    if factory is None or not has_request_context():
        return None
    if request.method not in READ_METHODS and not any_method:
        return None
    if time.monotonic() < extensions["lims_replica_down_until"]:
        return None
    mark = cookie.get(WAL_MARK) or "0/0"
    probe = factory()
    try:  # NULL on a server that is not a standby: use the primary
        caught_up = probe.scalar(
            text("SELECT pg_last_wal_replay_lsn() >= CAST(:mark AS pg_lsn)"), {"mark": mark}
        )
        close_keeping_statements(probe)
    except (SQLAlchemyError, Busy) as err:
        probe.close()
        log.warning("read replica unavailable, reading from the primary: %s", err)
        extensions["lims_replica_down_until"] = time.monotonic() + REPLICA_RETRY_S
        return None
    if not caught_up:
        return None
    if WAL_MARK in cookie:  # the standby has it now, and replay only goes forward
        cookie.pop(WAL_MARK)
    return cast(Callable[[], Session], factory)


def replica_session() -> Session | None:
    """A session on the hot standby for the read-only part of a request that also writes, or
    None when no standby is configured, it is down, or it has not replayed this user's writes.

    Feasibility is a POST (it logs the question and may lock an investigator out, on the
    primary), but its counting query is the heaviest read the LIMS runs: that query is what a
    replica is for. The caller closes the session.
    """
    factory = _replica_factory(any_method=True)
    return factory() if factory is not None else None


def new_session(*, read_only: bool = False) -> Session:
    """A session of the app's own, for work that outlives the request (a streamed export).

    The caller closes it. A read-only session does not take SQLite's write lock, and reads from
    the replica when one is configured and has caught up with this user's writes.
    """
    return session_factory(read_only=read_only)()


def session_factory(*, read_only: bool = False) -> Callable[[], Session]:
    """The app's session factory, taken while the request is on: a streamed response calls it
    later, outside the app context, for a session of its own that it closes itself."""
    if read_only and (replica := _replica_factory()) is not None:
        return replica
    key = "lims_read_session_factory" if read_only else "lims_session_factory"
    factory: Callable[[], Session] = current_app.extensions[key]
    return factory


def get_session(*, primary: bool = False) -> Session:
    """The session of this request (or CLI command), created on first use.

    A GET reads: its session does not take SQLite's write lock, and reads from the replica when
    one is configured and has caught up. Every other method may write, on the primary.
    primary=True is the primary whatever the method: for checks that must not lag (sign-in).
    """
    reading = has_request_context() and request.method in READ_METHODS
    if primary and reading and _replica_factory() is not None:
        if "lims_primary_session" not in g:
            g.lims_primary_session = current_app.extensions["lims_read_session_factory"]()
        primary_session: Session = g.lims_primary_session
        return primary_session
    if "lims_session" not in g:
        g.lims_session = new_session(read_only=reading)
    session: Session = g.lims_session
    return session


def rollback_request_session() -> None:
    """The error boundary: forget whatever a failed service left in the request's sessions."""
    for key in ("lims_session", "lims_primary_session"):
        session = g.get(key)
        if session is not None:
            session.rollback()


M = TypeVar("M", bound=Base)


def get_one(session: Session, model: type[M], ident: Any, *, label: str | None = None) -> M:
    """Load a row by primary key or raise NotFound naming what was missing."""
    obj = session.get(model, ident)
    if obj is None:
        raise NotFound(f"{label or model.__name__} {ident} does not exist")
    return obj
