"""Operator commands: `flask --app wsgi documents gc [--older-than-days N]`."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.documents.collector import OperationCollector, cutoff_ms
from app.services import services
from app.storage import StorageError

documents_cli = AppGroup("documents", help="Collaborative documents.")


@documents_cli.command("gc")
@click.option("--older-than-days", type=click.FloatRange(min=0), default=None,
              help="Retention in days (default: OPERATION_TTL_DAYS, 30).")
def collect_operations(older_than_days: float | None) -> None:
    """Delete operations older than the retention behind each document's snapshot."""
    days = services().settings.operation_ttl_days if older_than_days is None else older_than_days
    try:
        collected = OperationCollector(services().db).collect(cutoff_ms(days))
    except StorageError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"collected {collected.operations} operations from {collected.documents} documents "
               f"(older than {days:g} days)")
