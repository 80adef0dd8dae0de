"""Database plumbing: declarative Base, naming convention, engines, the request session."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from flask import current_app, g
from sqlalchemy import DateTime, Enum, MetaData, String, create_engine, event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from lims.errors import NotFound

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


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine that behaves the same on SQLite as on PostgreSQL where it matters."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, **kwargs)
    engine = create_engine(url, connect_args={"timeout": 15}, **kwargs)

    # SQLAlchemy's pysqlite recipe: let SQLAlchemy emit BEGIN itself so SAVEPOINTs work,
    # and turn on foreign keys and WAL on every connection.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if ":memory:" not in url:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


def init_app(app: Any) -> None:
    """Create the engine once per app; a test may supply its own session factory."""
    if "SESSION_FACTORY" in app.config:
        app.extensions["lims_session_factory"] = app.config["SESSION_FACTORY"]
        return
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["lims_engine"] = engine
    app.extensions["lims_session_factory"] = sessionmaker(bind=engine, expire_on_commit=False)

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("lims_session", None)
        if session is not None:
            session.close()


def session_factory() -> Callable[[], Session]:
    """The app's session factory, for work that outlives the request and so needs a session of
    its own, which it must close (a streamed response)."""
    factory: Callable[[], Session] = current_app.extensions["lims_session_factory"]
    return factory


def get_session() -> Session:
    """The session of this request (or CLI command), created on first use."""
    if "lims_session" not in g:
        factory: Callable[[], Session] = current_app.extensions["lims_session_factory"]
        g.lims_session = factory()
    session: Session = g.lims_session
    return session


M = TypeVar("M", bound=Base)


def get_one(session: Session, model: type[M], ident: Any, *, label: str | None = None) -> M:
    """Load a row by primary key or raise NotFound naming what was missing."""
    obj = session.get(model, ident)
    if obj is None:
        raise NotFound(f"{label or model.__name__} {ident} does not exist")
    return obj
