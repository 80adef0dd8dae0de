"""flask --app lims audit verify|checkpoint: check the trail, and keep its head elsewhere."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from lims.audit.services import Checkpoint, check_checkpoint, take_checkpoint, verify_chain
from lims.db import get_session
from lims.errors import plural

audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
@click.option(
    "--since-checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Also fail unless the trail still holds this checkpoint's head (from `audit checkpoint`)",
)
def audit_verify(checkpoint_file: Path | None) -> None:
    """Check the keyed hash chain and print its head; exit 1 naming the first problem."""
    session = get_session()
    report = verify_chain(session)
    if not report.is_intact:
        click.echo(
            f"audit chain BROKEN at event {report.first_broken_id}: {report.problem} "
            f"({plural(report.events_checked, 'event')} before it verified)",
            err=True,
        )
        sys.exit(1)
    click.echo(f"audit chain intact: {plural(report.events_checked, 'event')} verified")
    click.echo(f"head: event {report.head_id}, hash {report.head_hash}")
    if checkpoint_file is None:
        return
    try:
        checkpoint = Checkpoint.from_json(checkpoint_file.read_text())
    except ValueError as err:
        raise click.ClickException(f"{checkpoint_file}: {err}") from err
    if problem := check_checkpoint(session, checkpoint):
        click.echo(f"checkpoint {checkpoint_file} NOT matched: {problem}", err=True)
        sys.exit(1)
    click.echo(
        f"checkpoint {checkpoint_file} matched: event {checkpoint.head_id} of "
        f"{checkpoint.taken_at} is still in the trail, unchanged"
    )


@audit_cli.command("checkpoint")
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the checkpoint here (default: print it)",
)
def audit_checkpoint(out_file: Path | None) -> None:
    """Export the chain's head, signed with the audit key; keep it outside the database."""
    session = get_session()
    report = verify_chain(session)
    if not report.is_intact:  # signing a tampered head would vouch for it
        raise click.ClickException(
            f"audit chain BROKEN at event {report.first_broken_id}: {report.problem}; "
            "no checkpoint taken"
        )
    text = take_checkpoint(session, head=report.head).to_json()  # the head just verified
    if out_file is None:
        click.echo(text, nl=False)
        return
    out_file.write_text(text)
    click.echo(f"checkpoint of event {report.head_id} written to {out_file}", err=True)
