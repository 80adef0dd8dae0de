"""flask --app lims users ...: user accounts from the command line (the first admin, say)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from lims.actors import Actor, Role
from lims.auth.services import (
    create_user,
    deactivate_user,
    set_password,
    set_site_time_zone,
    unlock_user,
)
from lims.db import get_session
from lims.errors import LimsError

users_cli = AppGroup("users", help="User accounts.")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--site", "site_code", default=None, help="Site code, e.g. NA1")
@click.password_option(help="At least 10 characters (prompted when omitted)")
def users_create(username: str, role: str, site_code: str | None, password: str) -> None:
    """Add a user account."""
    try:
        user = create_user(
            get_session(),
            Actor.system("cli"),
            username=username,
            password=password,
            role=Role(role),
            site_code=site_code,
        )
    except LimsError as err:
        raise click.ClickException(err.detail) from err
    click.echo(f"created {user.username} ({user.role.value})")


@users_cli.command("set-password")
@click.argument("username")
@click.password_option(help="At least 10 characters (prompted when omitted)")
def users_set_password(username: str, password: str) -> None:
    """Give USERNAME a new password; their open sessions end."""
    try:
        user = set_password(
            get_session(), Actor.system("cli"), username=username, password=password
        )
    except LimsError as err:
        raise click.ClickException(err.detail) from err
    click.echo(f"new password set for {user.username}; their sessions have ended")


@users_cli.command("unlock")
@click.argument("username")
def users_unlock(username: str) -> None:
    """Forget USERNAME's failed sign-ins (for an administrator locked out of the web page)."""
    try:
        user = unlock_user(get_session(), Actor.system("cli"), username=username)
    except LimsError as err:
        raise click.ClickException(err.detail) from err
    click.echo(f"unlocked {user.username}")


@users_cli.command("deactivate")
@click.argument("username")
def users_deactivate(username: str) -> None:
    """Deactivate USERNAME: their sessions end and their API tokens are revoked."""
    try:
        user = deactivate_user(get_session(), Actor.system("cli"), username=username)
    except LimsError as err:
        raise click.ClickException(err.detail) from err
    click.echo(f"deactivated {user.username}")


sites_cli = AppGroup("sites", help="Collecting sites and their time zones.")


@sites_cli.command("set-time-zone")
@click.argument("code")
@click.argument("zone")
def sites_set_time_zone(code: str, zone: str) -> None:
    """Read site CODE's times on ZONE's wall clock (an IANA name, e.g. America/New_York)."""
    try:
        site = set_site_time_zone(get_session(), Actor.system("cli"), code=code, time_zone=zone)
    except LimsError as err:
        raise click.ClickException(err.detail) from err
    click.echo(f"{site.code} times are now read in {site.time_zone}")
