"""`rdapd user ...`: create and disable the accounts people sign in to the web pages with."""

from __future__ import annotations

import getpass
import json
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from rdap import audit, people
from rdap.app import runtime_of
from rdap.disclosure import service as disclosure
from rdap.oauth.keys import KeySealer
from rdap.principal import PURPOSES


def _fail(message: str) -> None:
    click.echo(f"rdapd: {message}", err=True)
    sys.exit(1)


@click.group("user", help="Manage the accounts of people (requesters, staff) for the web pages.")
def user_group() -> None:
    """Web accounts."""


@user_group.command("create")
@click.option("--username", required=True, help="Login name: the person's email address.")
@click.option("--name", "display_name", required=True, help="The person's name.")
@click.option("--role", required=True, type=click.Choice(people.PERSON_ROLES))
@click.option(
    "--purpose",
    "purposes",
    multiple=True,
    metavar="PURPOSE",
    help=f"RFC 9560 purpose the person may state (repeatable): {', '.join(sorted(PURPOSES))}.",
)
@click.option(
    "--accreditation",
    "accreditation_id",
    help="The accreditation a requester or law-enforcement user acts for (required for them).",
)
@click.option(
    "--org", "organisation", help="The organisation of a staff user (conflicts of interest)."
)
@click.option("--email", help="Where the user's disclosure notifications go.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input (else one is made).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def user_create(  # noqa: PLR0917 - click passes each option as an argument
    username: str,
    display_name: str,
    role: str,
    purposes: tuple[str, ...],
    accreditation_id: str | None,
    organisation: str | None,
    email: str | None,
    password_stdin: bool,
    as_json: bool,
) -> None:
    """Create an account; prints its password and, for staff, the TOTP URI (shown once)."""
    runtime = runtime_of(current_app)
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    now = runtime.clock()
    try:
        with audit.writing(runtime.db) as session:
            people.check_new(session, username=username, display_name=display_name, role=role)
            # The person's own client, made as every disclosure client is: bound to the
            # accreditation (requesters) or organisation (staff), on the audit chain.
            client, _secret = disclosure.create_client(
                disclosure.Context(session, now, runtime.sla, runtime.policy),
                role=role,
                name=f"{display_name.strip()} (web)",
                actor=disclosure.operator(getpass.getuser()),
                accreditation_id=accreditation_id,
                organisation=organisation,
                purposes=purposes,
                email=email,
            )
            created = people.create_person(
                session,
                username=username,
                display_name=display_name,
                client=client,
                password=password,
                sealer=KeySealer.from_settings(runtime.settings),
                now=now,
            )
            out = {
                "username": created.person.username,
                "role": role,
                "client_id": created.person.client_id,
                "password": created.password,
                "totp_uri": created.totp_uri,
            }
    except (people.PersonError, disclosure.DisclosureError) as exc:
        _fail(str(exc))
        return
    if as_json:
        click.echo(json.dumps(out))
        return
    for key, value in out.items():
        if value is not None:
            click.echo(f"{key}: {value}")


@user_group.command("disable")
@click.argument("username")
@with_appcontext
def user_disable(username: str) -> None:
    """Disable an account: its sessions and tokens stop working at once."""
    runtime = runtime_of(current_app)
    try:
        with runtime.db.session_scope() as session:
            person = people.disable_person(session, username, runtime.clock())
            name = person.username
    except people.PersonError as exc:
        _fail(str(exc))
        return
    click.echo(f"disabled {name}")
