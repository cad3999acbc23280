"""Operator commands: `flask --app wsgi users create NAME --password P --role R`."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.errors import ApiError
from app.models import ROLES
from app.services import services

users_cli = AppGroup("users", help="Manage accounts.")


@users_cli.command("create")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", type=click.Choice(ROLES), default="user", show_default=True)
@click.option("--email", default=None)
def create_user(username: str, password: str, role: str, email: str | None) -> None:
    """Create an account with the given role."""
    try:
        user = services().auth.create_user(username, password, role, email)
    except ApiError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"created user {user.username} (id {user.id}, role {user.role})")


def register_cli(app: Flask) -> None:
    """Attach the operator command groups to the app."""
    app.cli.add_command(users_cli)
