"""Operator commands: `flask --app wsgi notifications expire [--older-than-days N]`."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.services import services
from app.storage import StorageError

notifications_cli = AppGroup("notifications", help="Stored notifications.")


@notifications_cli.command("expire")
@click.option("--older-than-days", type=click.FloatRange(min=0), default=None,
              help="Delete those read more than this many days ago (default: NOTIFICATION_READ_TTL_DAYS, 30).")
def expire_notifications(older_than_days: float | None) -> None:
    """Delete read notifications older than the retention; unread ones are always kept."""
    days = services().settings.notification_read_ttl_days if older_than_days is None else older_than_days
    try:
        removed = services().extra["notifications"].expire(days)
    except StorageError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"expired {removed} read notifications (read more than {days:g} days ago)")
