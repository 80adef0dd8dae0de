"""Each site has an IANA time zone: chosen from the country where it has only one, checked
against the tz database, changed by an administrator with an audit event, and migrated."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.models import Action, AuditEvent
from lims.auth import timezones
from lims.auth.models import Site
from lims.auth.services import create_site, set_site_time_zone
from lims.cli import alembic_config
from lims.db import make_engine
from lims.errors import Forbidden, InvalidInput
from tests.conftest import DatabaseMaker, csrf_token, sign_in
from tests.factories import SYSTEM, make_site


@pytest.mark.parametrize(
    ("country", "zone"), [("DE", "Europe/Berlin"), ("GB", "Europe/London"), ("US", "UTC")]
)
def test_a_new_site_takes_its_countrys_only_zone_else_utc(
    session: Session, country: str, zone: str
) -> None:
    site = create_site(session, SYSTEM, code="X1", name="X", country=country)
    assert site.time_zone == zone


def test_a_zone_that_is_not_in_the_tz_database_is_refused(session: Session) -> None:
    with pytest.raises(InvalidInput, match="not an IANA time zone") as refused:
        create_site(session, SYSTEM, code="X1", name="X", country="US", time_zone="Pacific Time")
    assert refused.value.field_errors.keys() == {"time_zone"}
    assert session.scalar(select(Site).where(Site.code == "X1")) is None


def test_setting_a_sites_zone_is_audited_with_the_zone_before(session: Session) -> None:
    make_site(session, "NA1")
    site = set_site_time_zone(session, SYSTEM, code="na1", time_zone="America/Chicago")
    assert site.time_zone == "America/Chicago"
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == Action.SITE_TIME_ZONE_SET)
    ).one()
    assert event.before == {"time_zone": "UTC"} and event.after == {"time_zone": "America/Chicago"}


def test_only_an_administrator_sets_a_sites_zone(session: Session, tech: Actor) -> None:
    with pytest.raises(Forbidden):
        set_site_time_zone(session, tech, code="NA1", time_zone="America/Chicago")


def test_the_sites_command_sets_a_zone_and_names_a_wrong_one(app: Flask, session: Session) -> None:
    make_site(session, "NA1")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["sites", "set-time-zone", "NA1", "America/Los_Angeles"])
    assert result.exit_code == 0, result.output
    assert "NA1 times are now read in America/Los_Angeles" in result.output
    wrong = runner.invoke(args=["sites", "set-time-zone", "NA1", "PST"])
    assert wrong.exit_code == 1 and "not an IANA time zone" in wrong.output


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_existing_sites_get_their_countrys_only_zone_else_utc(
    databases: DatabaseMaker, dialect: str
) -> None:
    url = databases.url(dialect, "lims_tz_upgrade")
    cfg = alembic_config(url)
    before = ScriptDirectory.from_config(cfg).get_revision("0004_tz").down_revision
    assert isinstance(before, str)
    command.upgrade(cfg, before)
    engine = make_engine(url)
    with engine.begin() as conn:
        for code, country in (("EU1", "DE"), ("NA1", "US"), ("NA2", "CA")):
            conn.execute(
                text("INSERT INTO sites (code, name, country) VALUES (:c, :c, :k)"),
                {"c": code, "k": country},
            )
    command.upgrade(cfg, "0004_tz")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT code, time_zone FROM sites"))
        zones = {code: zone for code, zone in rows}
    engine.dispose()
    assert zones == {"EU1": "Europe/Berlin", "NA1": "UTC", "NA2": "UTC"}


def test_a_time_beyond_the_calendar_on_either_clock_is_refused_not_a_crash() -> None:
    with pytest.raises(timezones.WallClockError, match="beyond the years 1 to 9999"):
        timezones.to_utc(datetime(9999, 12, 31, 23, 0, tzinfo=UTC), "Europe/Berlin")
    with pytest.raises(timezones.WallClockError, match="beyond the years 1 to 9999"):
        timezones.to_utc(datetime(9999, 12, 31, 23, 0), "America/Los_Angeles")


# ---- the sites page ------------------------------------------------------------------------


def _zone_events(session: Session) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.action == Action.SITE_TIME_ZONE_SET)
    return list(session.scalars(stmt))


def test_an_administrator_sets_a_sites_zone_on_the_sites_page(
    client: FlaskClient, session: Session, admin: Actor
) -> None:
    site = make_site(session)
    sign_in(client, "admin")
    page = client.get("/admin/sites").get_data(as_text=True)
    assert (
        "NA1" in page and 'list="iana-zones"' in page and '<option value="Europe/Berlin">' in page
    )
    data = {"time_zone": "America/Chicago", "csrf_token": csrf_token(client, "/admin/sites")}
    response = client.post("/admin/sites/na1/time-zone", data=data)
    assert response.status_code == 302
    assert site.time_zone == "America/Chicago"
    (event,) = _zone_events(session)
    assert (event.actor_username, event.before, event.after) == (
        "admin",
        {"time_zone": "UTC"},
        {"time_zone": "America/Chicago"},
    )
    assert "America/Chicago" in client.get("/admin/sites").get_data(as_text=True)


def test_the_sites_page_refuses_a_zone_that_is_not_iana_and_writes_nothing(
    client: FlaskClient, session: Session, admin: Actor
) -> None:
    site = make_site(session)
    sign_in(client, "admin")
    data = {"time_zone": "Pacific Time", "csrf_token": csrf_token(client, "/admin/sites")}
    response = client.post("/admin/sites/NA1/time-zone", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "is not an IANA time zone" in html and 'value="Pacific Time"' in html
    assert site.time_zone == "UTC" and _zone_events(session) == []


def test_only_an_administrator_sees_the_sites_page(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    site = make_site(session)
    sign_in(client, "tech")
    assert client.get("/admin/sites").status_code == 403
    data = {"time_zone": "Europe/Paris", "csrf_token": csrf_token(client, "/subjects")}
    assert client.post("/admin/sites/NA1/time-zone", data=data).status_code == 403
    assert site.time_zone == "UTC" and _zone_events(session) == []
