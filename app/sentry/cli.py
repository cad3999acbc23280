"""Operator commands: `flask --app wsgi projects create|list|keys|add-key|revoke`."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable, TypeVar
from urllib.parse import urlsplit

import click
from flask.cli import AppGroup

from app.errors import ApiError
from app.sentry.projects import KeyInfo, ProjectRegistry
from app.services import services

T = TypeVar("T")
projects_cli = AppGroup("projects", help="Manage Sentry projects and their DSN keys.")

_BASE_URL_HELP = ("The URL SDKs reach this server at (default: PUBLIC_BASE_URL, else http://HOST:PORT). "
                  "A path is kept: a proxy at https://host/errors gives https://key@host/errors/<id>.")
_WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def resolve_base_url(explicit: str | None) -> str:
    """Where the DSN points: the option, else PUBLIC_BASE_URL, else the server's HOST and PORT."""
    configured = explicit or services().sentry.options.public_base_url
    if not configured:
        settings = services().settings
        host = _WILDCARD_HOSTS.get(settings.host, settings.host)
        if host != settings.host:
            click.echo(f"note: HOST {settings.host!r} listens everywhere; the DSN says {host}. "
                       "Pass --base-url (or set PUBLIC_BASE_URL) with the address SDKs reach.", err=True)
        configured = f"http://{f'[{host}]' if ':' in host else host}:{settings.port}"
    parts = urlsplit(configured if "://" in configured else f"http://{configured}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(f"{configured!r} is not an http(s) URL.", param_hint="--base-url")
    host = parts.netloc.rsplit("@", 1)[-1]  # credentials in the base URL never reach a DSN
    return f"{parts.scheme}://{host}{parts.path.rstrip('/')}"


def dsn(base: str, key: KeyInfo) -> str:
    """`<scheme>://<public_key>@<host[:port]>[/path]/<project_id>`, the DSN every SDK takes."""
    scheme, rest = base.split("://", 1)
    return f"{scheme}://{key.public_key}@{rest}/{key.project_id}"


def _registry() -> ProjectRegistry:
    return services().sentry.projects


def _when(ms: int | None) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if ms else "-"


def _run(action: Callable[[], T]) -> T:
    """Run a registry call; its ApiError becomes a one-line CLI error (exit status 1)."""
    try:
        return action()
    except ApiError as exc:
        raise click.ClickException(exc.message) from exc


@projects_cli.command("create")
@click.argument("name")
@click.option("--base-url", default=None, help=_BASE_URL_HELP)
def create_project(name: str, base_url: str | None) -> None:
    """Create a project and print its DSN (stdout holds the DSN alone)."""
    base = resolve_base_url(base_url)
    key = _run(lambda: _registry().create(name))
    click.echo(f"created project {key.project_name} (id {key.project_id})", err=True)
    click.echo(dsn(base, key))


@projects_cli.command("add-key")
@click.argument("name")
@click.option("--base-url", default=None, help=_BASE_URL_HELP)
def add_key(name: str, base_url: str | None) -> None:
    """Add a key to a project and print its DSN (rotate: add, deploy, then revoke the old key)."""
    base = resolve_base_url(base_url)
    key = _run(lambda: _registry().add_key(name))
    click.echo(dsn(base, key))


@projects_cli.command("list")
def list_projects() -> None:
    """One line per project: id, name, active keys, created."""
    for project, active in _run(lambda: _registry().projects()):
        click.echo(f"{project.id}\t{project.name}\t{active} active key(s)\tcreated {_when(project.created_at_ms)}")


@projects_cli.command("keys")
@click.argument("name")
@click.option("--base-url", default=None, help=_BASE_URL_HELP)
def list_keys(name: str, base_url: str | None) -> None:
    """One line per key of a project: key, status, DSN."""
    base = resolve_base_url(base_url)
    for key in _run(lambda: _registry().keys(name)):
        status = f"revoked {_when(key.revoked_at_ms)}" if key.revoked_at_ms else "active"
        click.echo(f"{key.public_key}\t{status}\t{dsn(base, key)}")


@projects_cli.command("revoke")
@click.argument("public_key")
def revoke_key(public_key: str) -> None:
    """Revoke a key: its DSN gets 403 from now on."""
    key = _run(lambda: _registry().revoke(public_key))
    click.echo(f"revoked key {key.public_key} of project {key.project_name} at {_when(key.revoked_at_ms)}")
