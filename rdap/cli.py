"""The `rdapd` command line: rdapd's own commands, each run in an application context
(`flask --app wsgi ...` offers the same commands among Flask's)."""

from __future__ import annotations

import sys
from typing import Any

import click
from flask import Flask, current_app

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

from rdap.people_commands import user_group  # noqa: E402 - appended command groups

COMMANDS.append(user_group)

from rdap.disclosure.commands import COMMANDS as DISCLOSURE_COMMANDS  # noqa: E402

COMMANDS += DISCLOSURE_COMMANDS


def register_commands(app: Flask) -> None:
    for command in COMMANDS:
        if command.name not in app.cli.commands:
            app.cli.add_command(command)


class _Commands(click.Group):
    """Exactly the commands in COMMANDS: not Flask's options (--app, --env-file, --debug), and
    not the commands other packages plug into `flask` (flask-limiter's `limiter` needs an extra
    dependency, and with the default memory:// storage it could not see the server's counters).
    Listing them (`rdapd --help`) does not build the application."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(command.name for command in COMMANDS if command.name)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return next((command for command in COMMANDS if command.name == cmd_name), None)


@click.group(cls=_Commands)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """rdapd: a registry's RDAP and WHOIS directory."""
    # Settings come from RDAP_* variables only; every command runs in the app's context.
    ctx.with_resource(_create_app().app_context())


def main(argv: list[str] | None = None) -> Any:
    return cli.main(args=argv, prog_name="rdapd")


@click.command("serve")
@click.option("--bind", default="127.0.0.1:8080", show_default=True, help="HOST:PORT to listen on")
@click.option(
    "--workers",
    type=int,
    default=0,
    help="worker processes (default: one per CPU on SQLite, 2 × CPUs + 1 on PostgreSQL)",
)
def serve_command(bind: str, workers: int) -> None:
    """Serve RDAP over HTTP under gunicorn (port 43 is `rdapd whois`)."""
    import dataclasses

    from rdap.serve import serve

    settings = _settings()
    if workers:
        settings = dataclasses.replace(settings, workers=workers)
    serve(settings, bind)


COMMANDS.append(serve_command)


@click.command("whois")
@click.option(
    "--bind", default="127.0.0.1:4343", show_default=True, help="HOST:PORT (43 in production)"
)
def whois_command(bind: str) -> None:
    """Serve WHOIS on port 43 (RFC 3912): the public view, as RDAP gives it."""
    from rdap.app import runtime_of
    from rdap.whois import serve_from_runtime

    try:
        serve_from_runtime(runtime_of(current_app), bind)
    except (ValueError, OSError) as exc:
        click.echo(f"rdapd: whois: {exc}", err=True)
        sys.exit(1)


COMMANDS.append(whois_command)


@click.command("demo")
@click.option("--size", default=2000, show_default=True, help="domains in the demo registry")
@click.option("--tld", default="post", show_default=True, help="the demo TLD")
@click.option("--seed", default=1, show_default=True, help="seed of the generated registry")
@click.option("--bind", default="127.0.0.1:8080", show_default=True, help="RDAP HOST:PORT")
@click.option("--whois-bind", default="127.0.0.1:4343", show_default=True, help="WHOIS HOST:PORT")
@click.option("--no-serve", is_flag=True, help="load the demo registry and exit")
def demo_command(
    *, size: int, tld: str, seed: int, bind: str, whois_bind: str, no_serve: bool
) -> None:
    """Load a generated registry into the embedded database; serve RDAP and WHOIS on it."""
    from rdap import demo
    from rdap.app import runtime_of
    from rdap.errors import DepositError

    runtime = runtime_of(current_app)
    try:
        result = demo.prepare(runtime, tld=tld, size=size, seed=seed)
    except (DepositError, ValueError) as exc:
        click.echo(f"rdapd: demo: {exc}", err=True)
        sys.exit(1)
    click.echo(f"demo registry loaded into {runtime.settings.effective_database_url}")
    click.echo("  " + ", ".join(f"{n} {kind}" for kind, n in result.counts.items()))
    base = runtime.settings.base_url.rstrip("/") or f"http://{bind}"
    click.echo("try:")
    for url in demo.examples(runtime, base):
        click.echo(f"  curl -s '{url}'")
    for command in demo.whois_examples(runtime, whois_bind):
        click.echo(f"  {command}")
    click.echo(f"or open {base}/ in a browser: the same answers as web pages")
    if no_serve:
        return
    from rdap.counters import shared_counters
    from rdap.serve import serve

    # Both servers count in one storage, chosen here before either starts (no race for it).
    with (
        shared_counters(runtime.settings, processes=1) as counted,
        demo.whois_beside(whois_bind, base, counted.ratelimit_storage_uri),
    ):
        click.echo(f"serving RDAP on http://{bind} and WHOIS on {whois_bind} (Ctrl-C stops)")
        serve(counted, bind)


COMMANDS.append(demo_command)
