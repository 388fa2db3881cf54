"""`rdapd accreditation …`, `rdapd audit …` and `rdapd disclosure sweep`: the operator's side of
disclosure. Each change is one transaction with its audit entries; bad input is one line on
stderr and exit status 2, a broken audit chain exit status 1."""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from rdap import audit
from rdap.app import runtime_of
from rdap.disclosure import notify, renewal, report, service
from rdap.document import rdap_time
from rdap.models import Accreditation, Organisation
from rdap.runtime import Runtime
from rdap.settings import SettingsError


def _runtime() -> Runtime:
    return runtime_of(current_app)


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"rdapd: {message}", err=True)
    sys.exit(code)


def operator_actor() -> service.Actor:
    """The registry operator running this command, as the audit log names them."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "unknown"
    return service.operator(login)


@contextlib.contextmanager
def _change() -> Iterator[service.Context]:
    rt = _runtime()
    with audit.writing(rt.db) as session:
        yield service.Context(session, rt.clock(), rt.sla, rt.policy)


@contextlib.contextmanager
def _primary() -> Iterator[Session]:
    """A read-only session on the primary database (not a replica): what verify must check."""
    # No deadline: verifying or exporting a long chain is maintenance work, like an import.
    with _runtime().db.sessions() as session:
        try:
            yield session
        finally:
            session.rollback()


def _day_end(day: dt.datetime) -> dt.datetime:
    """A date given as --valid-until is valid through that whole day (UTC)."""
    return day.replace(tzinfo=dt.UTC) + dt.timedelta(days=1)


DATE = click.DateTime(formats=["%Y-%m-%d"])


def accreditation_json(accreditation: Accreditation, organisation: str, now: dt.datetime) -> Any:
    return {
        "accreditation_id": accreditation.id,
        "organisation": organisation,
        "type": accreditation.org_type,
        "jurisdiction": accreditation.jurisdiction,
        "purposes": list(accreditation.purposes),
        "status": service.effective_status(accreditation, now),
        "status_reason": accreditation.status_reason,
        "valid_from": rdap_time(accreditation.valid_from),
        "valid_until": rdap_time(accreditation.valid_until),
        "verification": {
            "method": accreditation.verification_method,
            "reference": accreditation.verification_ref,
            "verified_by": accreditation.verified_by,
            "verified_at": rdap_time(accreditation.verified_at),
        },
    }


# --- rdapd accreditation ------------------------------------------------------------------------


@click.group("accreditation", help="Accredit requester organisations (law enforcement, ...).")
def accreditation_group() -> None:
    """Accreditation management."""


@accreditation_group.command("create")
@click.option("--org", required=True, help="The organisation's legal name.")
@click.option("--type", "org_type", required=True, type=click.Choice(service.ORG_TYPES))
@click.option("--jurisdiction", required=True, metavar="CC", help="ISO 3166-1 alpha-2 (or EU).")
@click.option("--purposes", required=True, metavar="P[,P...]", help="RFC 9560 query purposes.")
@click.option("--valid-until", type=DATE, help="Last day of validity (default: a year).")
@click.option(
    "--verification-method",
    type=click.Choice(service.VERIFICATION_METHODS),
    default="manual-review",
    show_default=True,
    help="How the organisation's identity was verified.",
)
@click.option("--verified-by", help="Who verified it (default: your login).")
@click.option("--verified-at", type=DATE, help="When it was verified (default: now).")
@click.option("--evidence", help="A reference to the evidence (hash, case number), not the file.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def accreditation_create(  # noqa: PLR0917 - click passes each option as an argument
    org: str,
    org_type: str,
    jurisdiction: str,
    purposes: str,
    valid_until: dt.datetime | None,
    verification_method: str,
    verified_by: str | None,
    verified_at: dt.datetime | None,
    evidence: str | None,
    as_json: bool,
) -> None:
    """Accredit an organisation and print its accreditation id."""
    try:
        with _change() as ctx:
            accreditation = service.create_accreditation(
                ctx,
                org=org,
                org_type=org_type,
                jurisdiction=jurisdiction,
                purposes=purposes.split(","),
                actor=operator_actor(),
                valid_until=_day_end(valid_until) if valid_until else None,
                verification_method=verification_method,
                verification_ref=evidence,
                verified_by=verified_by,
                verified_at=verified_at.replace(tzinfo=dt.UTC) if verified_at else None,
            )
            out = accreditation_json(accreditation, " ".join(org.split()), ctx.now)
    except service.DisclosureError as exc:
        _fail(str(exc))
        return
    if as_json:
        click.echo(json.dumps(out))
    else:
        click.echo(
            f"accreditation_id: {out['accreditation_id']} (valid until {out['valid_until']})"
        )


@accreditation_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def accreditation_list(as_json: bool) -> None:
    """List accreditations with their status as of now."""
    now = _runtime().clock()
    with _primary() as session:
        rows = [accreditation_json(a, o.name, now) for a, o in service.list_accreditations(session)]
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        click.echo(
            f"{row['accreditation_id']}  {row['status']:<9} {row['type']:<19} "
            f"{row['jurisdiction']}  {row['valid_until']}  {row['organisation']}"
        )


@accreditation_group.command("show")
@click.argument("accreditation_id")
@with_appcontext
def accreditation_show(accreditation_id: str) -> None:
    """Print one accreditation as JSON."""
    now = _runtime().clock()
    with _primary() as session:
        try:
            accreditation = service.get_accreditation(session, accreditation_id)
        except service.DisclosureError as exc:
            _fail(str(exc), 1)
            return
        organisation = session.get(Organisation, accreditation.organisation_id)
        name = organisation.name if organisation else ""
        click.echo(json.dumps(accreditation_json(accreditation, name, now)))


@accreditation_group.command("suspend")
@click.argument("accreditation_id")
@click.option("--reason", required=True, help="Why (recorded in the audit log).")
@with_appcontext
def accreditation_suspend(accreditation_id: str, reason: str) -> None:
    """No new requests and no disclosures until reactivated."""
    try:
        with _change() as ctx:
            service.suspend_accreditation(ctx, accreditation_id, reason, operator_actor())
    except service.DisclosureError as exc:
        _fail(str(exc))
        return
    click.echo(f"suspended {accreditation_id}")


@accreditation_group.command("reactivate")
@click.argument("accreditation_id")
@with_appcontext
def accreditation_reactivate(accreditation_id: str) -> None:
    """Lift a suspension (same accreditation id)."""
    try:
        with _change() as ctx:
            service.reactivate_accreditation(ctx, accreditation_id, operator_actor())
    except service.DisclosureError as exc:
        _fail(str(exc))
        return
    click.echo(f"reactivated {accreditation_id}")


@accreditation_group.command("renew")
@click.argument("accreditation_id")
@click.option("--valid-until", type=DATE, required=True, help="New last day of validity.")
@with_appcontext
def accreditation_renew(accreditation_id: str, valid_until: dt.datetime) -> None:
    """Extend an active or suspended accreditation."""
    try:
        with _change() as ctx:
            service.renew_accreditation(
                ctx, accreditation_id, _day_end(valid_until), operator_actor()
            )
    except service.DisclosureError as exc:
        _fail(str(exc))
        return
    click.echo(f"renewed {accreditation_id}")


@accreditation_group.command("revoke")
@click.argument("accreditation_id")
@click.option("--reason", default="", help="Why (recorded in the audit log).")
@with_appcontext
def accreditation_revoke(accreditation_id: str, reason: str) -> None:
    """Revoke: clients stop working at their next request, open requests are cancelled and
    grants end, in one transaction."""
    try:
        with _change() as ctx:
            changed = service.revoke_accreditation(ctx, accreditation_id, reason, operator_actor())
    except service.DisclosureError as exc:
        _fail(str(exc))
        return
    click.echo(f"revoked {accreditation_id}; {changed} request(s) cancelled or revoked")


# --- rdapd audit --------------------------------------------------------------------------------


@click.group("audit", help="Verify, checkpoint and export the hash-chained audit log.")
def audit_group() -> None:
    """Audit log."""


@audit_group.command("verify")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Checkpoints taken earlier (JSON lines); each must still match.",
)
@with_appcontext
def audit_verify(checkpoint_file: Path | None) -> None:
    """Recompute the chain; exit 0 if intact, else 1 naming the first bad entry."""
    checkpoints: list[audit.Checkpoint] = []
    if checkpoint_file is not None:
        try:
            checkpoints = audit.read_checkpoints(checkpoint_file)
        except (OSError, ValueError) as exc:
            _fail(f"cannot read checkpoints: {exc}")
            return
    with _primary() as session:
        verdict = audit.verify(
            session, checkpoints=checkpoints, references=service.audit_references(session)
        )
    if not verdict.ok:
        _fail(f"audit chain broken: {verdict.problem}", 1)
        return
    extra = f"; {len(checkpoints)} checkpoint(s) match" if checkpoints else ""
    click.echo(
        f"audit chain intact: {verdict.entries} entries, head {verdict.head.seq} "
        f"{verdict.head.entry_hash}{extra}"
    )


@audit_group.command("checkpoint")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append the checkpoint to this file (keep it outside the database's reach).",
)
@with_appcontext
def audit_checkpoint(output: Path | None) -> None:
    """Print the chain head (seq and hash) as one JSON line; with --output, append it too."""
    with _primary() as session:
        line = audit.head(session, now=_runtime().clock()).line()
    if output is not None:
        try:
            with output.open("a", encoding="utf-8") as file:
                file.write(line + "\n")
        except OSError as exc:
            _fail(f"cannot write {output}: {exc}", 1)
            return
    click.echo(line)


@audit_group.command("export")
@click.option("--since", type=DATE, help="Only entries from this day (UTC) on.")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@with_appcontext
def audit_export(since: dt.datetime | None, fmt: str) -> None:
    """Write entries to stdout for auditors (CSV cells never start like a formula). The export
    itself is recorded first: reading the log is logged."""
    start = since.replace(tzinfo=dt.UTC) if since else None
    actor = operator_actor()
    with _change() as ctx:
        audit.append(
            ctx.session,
            audit.Event(
                event="audit.exported",
                actor=actor.id,
                actor_role=actor.role,
                detail={"format": fmt, "since": rdap_time(start) if start else None},
            ),
            now=ctx.now,
        )
    with _primary() as session:
        rows = audit.entries(session, since=start)
        lines = audit.csv_lines(rows) if fmt == "csv" else audit.jsonl(rows)
        for line in lines:
            click.echo(line, nl=False)


@audit_group.command("privileges")
@click.option("--role", required=True, help="The PostgreSQL role the application logs in as.")
def audit_privileges(role: str) -> None:
    """Print the SQL that lets ROLE only read and append audit entries (PostgreSQL)."""
    try:
        statements = audit.privilege_statements(role)
    except ValueError as exc:
        _fail(str(exc))
        return
    for statement in statements:
        click.echo(statement + ";")


# --- rdapd disclosure ---------------------------------------------------------------------------


@click.group("disclosure", help="Disclosure-request housekeeping.")
def disclosure_group() -> None:
    """Disclosure requests."""


@disclosure_group.command("sweep")
@with_appcontext
def disclosure_sweep() -> None:
    """Apply due time-based transitions (expired grants and accreditations, overdue requests,
    unanswered requests for information). Run it from cron, e.g. every minute."""
    with _change() as ctx:
        result = service.sweep(ctx)
    click.echo(
        f"grants expired: {result.grants_expired}; accreditations expired: "
        f"{result.accreditations_expired}; newly overdue: {result.overdue}; "
        f"closed without an answer: {result.information_timeouts}"
    )


# --- rdapd report ------------------------------------------------------------------------------


@click.group("report", help="Statistics for staff and for publication.")
def report_group() -> None:
    """Reports."""


@report_group.command("disclosure")
@click.option("--month", required=True, metavar="YYYY-MM", help="The calendar month (UTC).")
@click.option(
    "--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True
)
@click.option(
    "--public",
    is_flag=True,
    help=f"The form to publish: cells from fewer than {report.SMALL_CELL} requests suppressed.",
)
@with_appcontext
def report_disclosure(month: str, fmt: str, public: bool) -> None:
    """RDRS-style monthly statistics of disclosure requests: by status, priority, requester
    type and purpose; decisions and their reasons; response times; share within the SLA."""
    try:
        report.parse_month(month)
    except ValueError as exc:
        _fail(str(exc))
        return
    with _primary() as session:
        found = report.monthly_report(session, month, sla=_runtime().sla)
    if public:
        found = report.public_report(found)
    if fmt == "csv":
        for line in report.csv_lines(found):
            click.echo(line, nl=False)
    else:
        click.echo(json.dumps(report.as_json(found), indent=2))


# --- rdapd notify ------------------------------------------------------------------------------


@click.command("notify")
@click.option(
    "--watch",
    type=click.FloatRange(min=0.1),
    metavar="SECONDS",
    help="Keep going: a pass every SECONDS until stopped (else one pass, e.g. from cron).",
)
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@with_appcontext
def notify_command(watch: float | None, limit: int) -> None:
    """Deliver due notifications to requesters and reviewers (RDAP_NOTIFY_SENDER: log or smtp).
    Each pass first applies due time-based transitions (as `disclosure sweep`) and queues due
    accreditation renewal reminders (RDAP_DISCLOSURE_RENEWAL_REMINDER_DAYS); a message that
    cannot be sent now is retried later, never dropped."""
    rt = _runtime()
    try:
        sender = notify.sender_from_settings(rt.settings)
    except SettingsError as exc:
        _fail(str(exc))
        return
    ceiling = dt.timedelta(minutes=max(rt.settings.notify_max_backoff_minutes, 1))
    while True:
        with _change() as ctx:
            service.sweep(ctx)
            renewal.remind(ctx.session, ctx.now, rt.settings.disclosure_renewal_reminder_days)
        result = notify.deliver(rt.db, sender, clock=rt.clock, limit=limit, max_backoff=ceiling)
        click.echo(
            f"sent: {result.sent}; deferred: {result.deferred}; failed: {result.failed}; "
            f"waiting: {result.waiting}"
        )
        if watch is None:
            return
        time.sleep(watch)


COMMANDS: list[click.Command] = [
    accreditation_group,
    audit_group,
    disclosure_group,
    report_group,
    notify_command,
]
