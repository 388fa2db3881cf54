"""The `rdapd` command line: a Flask CLI group (`flask --app wsgi ...` offers the same commands)."""

from __future__ import annotations

import sys
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup

from rdap import migrate
from rdap.escrow.commands import COMMANDS as ESCROW_COMMANDS
from rdap.settings import Settings, SettingsError


def _create_app() -> Flask:
    from rdap import create_app

    try:
        return create_app(Settings.from_env())
    except SettingsError as exc:
        click.echo(f"rdapd: configuration error: {exc}", err=True)
        sys.exit(2)


def _settings() -> Settings:
    from rdap.app import runtime_of

    return runtime_of(current_app).settings


@click.group("db", help="Create, upgrade or downgrade the database schema.")
def db_group() -> None:
    """Schema management."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Upgrade the schema to REVISION (default: head)."""
    url = _settings().effective_database_url
    migrate.upgrade(url, revision)
    click.echo(f"database at {revision}")


@db_group.command("downgrade")
@click.argument("revision", default="base")
def db_downgrade(revision: str) -> None:
    """Downgrade the schema to REVISION (default: base, an empty database)."""
    migrate.downgrade(_settings().effective_database_url, revision)
    click.echo(f"database at {revision}")


COMMANDS: list[click.Command] = [db_group]
COMMANDS += ESCROW_COMMANDS

from rdap.oauth.commands import client_group  # noqa: E402 - appended command groups

COMMANDS.append(client_group)


def register_commands(app: Flask) -> None:
    for command in COMMANDS:
        if command.name not in app.cli.commands:
            app.cli.add_command(command)


@click.group(
    cls=FlaskGroup,
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    set_debug_flag=False,
    load_dotenv=False,
)
def cli() -> None:
    """rdapd: a registry's RDAP and WHOIS directory."""


def main(argv: list[str] | None = None) -> Any:
    return cli.main(args=argv, prog_name="rdapd")


@click.command("serve")
@click.option("--bind", default="127.0.0.1:8080", show_default=True, help="HOST:PORT to listen on")
@click.option("--workers", type=int, default=0, help="worker processes (default: 2 × cores + 1)")
def serve_command(bind: str, workers: int) -> None:
    """Serve RDAP (and the web pages) under gunicorn."""
    import dataclasses

    from rdap.serve import serve

    settings = _settings()
    if workers:
        settings = dataclasses.replace(settings, workers=workers)
    serve(settings, bind)


COMMANDS.append(serve_command)
