"""`rdapd client ...`: create, list and revoke OAuth clients of the built-in server."""

from __future__ import annotations

import json
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from rdap.app import runtime_of
from rdap.db import Database
from rdap.models.client import CLIENT_ROLES
from rdap.oauth import service
from rdap.principal import LAW_ENFORCEMENT, PURPOSES, REGISTRAR


def _db() -> Database:
    return runtime_of(current_app).db


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"rdapd: {message}", err=True)
    sys.exit(code)


@click.group(
    "client", help="Manage OAuth clients (registrars, requesters, law enforcement, staff)."
)
def client_group() -> None:
    """OAuth client management."""


@client_group.command("create")
@click.option("--role", required=True, type=click.Choice(CLIENT_ROLES))
@click.option("--name", required=True, help="Organisation or tool name.")
@click.option(
    "--registrar", "registrar", type=int, help="IANA ID of the registrar (role registrar)."
)
@click.option(
    "--purpose",
    "purposes",
    multiple=True,
    metavar="PURPOSE",
    help=f"RFC 9560 purpose the client may state (repeatable): {', '.join(sorted(PURPOSES))}.",
)
@click.option(
    "--urgent-allowed",
    is_flag=True,
    help="Kept for old scripts: law-enforcement clients may submit urgent requests, no others.",
)
@click.option(
    "--accreditation",
    "accreditation_id",
    metavar="ACCREDITATION_ID",
    help="The accreditation a requester or law-enforcement client acts for (required for them).",
)
@click.option("--org", "organisation", help="The organisation a staff client belongs to.")
@click.option(
    "--email",
    help="Where disclosure notifications go (requester: its requests; staff: for review).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def client_create(  # noqa: PLR0917 - click passes each option as an argument
    role: str,
    name: str,
    registrar: int | None,
    purposes: tuple[str, ...],
    urgent_allowed: bool,
    accreditation_id: str | None,
    organisation: str | None,
    email: str | None,
    as_json: bool,
) -> None:
    """Create a client and print its id and secret (the secret is shown only this once)."""
    if role != REGISTRAR:
        _disclosure_client(
            role,
            name,
            registrar,
            purposes,
            urgent_allowed,
            accreditation_id,
            organisation,
            email,
            as_json,
        )
        return
    if accreditation_id is not None or organisation is not None or email is not None:
        _fail("--accreditation, --org and --email do not apply to role registrar", 2)
        return
    try:
        with _db().session_scope() as session:
            client, secret = service.create_client(
                session,
                role=role,
                name=name,
                registrar_iana_id=registrar,
                purposes=purposes,
                urgent_allowed=urgent_allowed,
                now=service.utcnow(),
            )
            client_id = client.client_id
    except service.ClientError as exc:
        _fail(str(exc), 2)
        return
    if as_json:
        click.echo(json.dumps({"client_id": client_id, "client_secret": secret, "role": role}))
    else:
        click.echo(f"client_id:     {client_id}")
        click.echo(f"client_secret: {secret}")
        click.echo("Store the secret now: it is not kept and cannot be shown again.")


def _disclosure_client(  # noqa: PLR0917 - the options of client_create
    role: str,
    name: str,
    registrar: int | None,
    purposes: tuple[str, ...],
    urgent_allowed: bool,
    accreditation_id: str | None,
    organisation: str | None,
    email: str | None,
    as_json: bool,
) -> None:
    """Requester, law-enforcement and staff clients, bound to an accreditation or organisation
    (rdap.disclosure.service.create_client)."""
    from rdap import audit
    from rdap.disclosure import commands
    from rdap.disclosure import service as disclosure

    if registrar is not None:
        _fail("--registrar applies only to role registrar", 2)
        return
    if urgent_allowed and role != LAW_ENFORCEMENT:
        _fail("urgent requests are for law-enforcement clients only", 2)
        return
    rt = runtime_of(current_app)
    try:
        with audit.writing(rt.db) as session:
            ctx = disclosure.Context(session, rt.clock(), rt.sla, rt.policy)
            client, secret = disclosure.create_client(
                ctx,
                role=role,
                name=name,
                actor=commands.operator_actor(),
                accreditation_id=accreditation_id,
                organisation=organisation,
                purposes=purposes,
                email=email,
            )
            client_id, allowed = client.client_id, list(client.allowed_purposes)
    except disclosure.DisclosureError as exc:
        _fail(str(exc), 2)
        return
    if as_json:
        out = {
            "client_id": client_id,
            "client_secret": secret,
            "role": role,
            "accreditation_id": accreditation_id,
            "organisation": organisation,
            "email": email,
            "allowed_purposes": allowed,
        }
        click.echo(json.dumps(out))
    else:
        click.echo(f"client_id:     {client_id}")
        click.echo(f"client_secret: {secret}")
        click.echo("Store the secret now: it is not kept and cannot be shown again.")


@client_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def client_list(as_json: bool) -> None:
    """List clients (never their secrets)."""
    with _db().read_scope() as session:
        rows = [
            {
                "client_id": c.client_id,
                "name": c.name,
                "role": c.role,
                "registrar_id": c.registrar_id,
                "allowed_purposes": list(c.allowed_purposes),
                "urgent_allowed": c.urgent_allowed,
                "status": c.status,
                "created_at": c.created_at.isoformat(),
                "revoked_at": c.revoked_at.isoformat() if c.revoked_at else None,
            }
            for c in service.list_clients(session)
        ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        click.echo(f"{row['client_id']}  {row['status']:<8} {row['role']:<16} {row['name']}")


@client_group.command("revoke")
@click.argument("client_id")
@with_appcontext
def client_revoke(client_id: str) -> None:
    """Revoke a client: its tokens stop working on the next request."""
    try:
        with _db().session_scope() as session:
            service.revoke_client(session, client_id, service.utcnow())
    except service.ClientError as exc:
        _fail(str(exc), 1)
        return
    click.echo(f"revoked {client_id}")
