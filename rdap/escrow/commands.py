"""Escrow commands: `rdapd import-rde`, `rdapd generate-deposit`; `load_demo` for `rdapd demo`."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click
from alembic.migration import MigrationContext
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from rdap import metrics, migrate, progress
from rdap.app import runtime_of
from rdap.db import Database
from rdap.errors import DepositError
from rdap.escrow.generator import generate_deposit
from rdap.escrow.loader import ImportResult, StaleDeposit, import_deposit
from rdap.escrow.parallel import WorkerFailed


def load_demo(db: Database, *, tld: str = "post", size: int = 2000, seed: int = 1) -> ImportResult:
    """Generate the demo registry into a temporary file and import it (schema must exist)."""
    with tempfile.TemporaryDirectory(prefix="rdapd-demo-") as work:
        path = Path(work) / f"{tld}-demo.xml"
        generate_deposit(path, tld=tld, size=size, seed=seed)
        return import_deposit(db, path)


def _database() -> Database:
    return runtime_of(current_app).db


def _schema_is_current(db: Database) -> bool:
    with db.engine.connect() as conn:
        applied = MigrationContext.configure(conn).get_current_heads()
    return set(applied) == set(migrate.current_heads())


def _failure(db: Database, exc: SQLAlchemyError) -> str:
    """What went wrong, for one line: a schema hint only when the schema is not current."""
    orig = getattr(exc, "orig", None)
    reason = str(orig if orig is not None else exc).splitlines()[0]
    try:
        current = _schema_is_current(db)
    except SQLAlchemyError:
        return f"database error ({reason})"
    if not current:
        return f"the database schema is not current (rdapd db upgrade): {reason}"
    if isinstance(exc, IntegrityError):
        return f"the deposit conflicts with data in the database ({reason})"
    return f"database error ({reason})"


@click.command("import-rde")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--force",
    is_flag=True,
    help="Load the deposit even if its watermark is older than the one loaded for its TLD.",
)
def import_rde(file: Path, force: bool) -> None:
    """Load FILE, an RFC 8909/9022 FULL deposit, replacing the data of its TLD (other TLDs'
    data stays)."""
    db = _database()
    metrics_dir = runtime_of(current_app).settings.metrics_dir
    if metrics_dir:  # a server on this host reports the import's progress and duration
        metrics.use_directory(Path(metrics_dir), wipe=False)
    try:
        current = _schema_is_current(db)
    except SQLAlchemyError as exc:
        click.echo(f"rdapd: import failed, nothing changed: {_failure(db, exc)}", err=True)
        sys.exit(1)
    if not current:
        click.echo(
            "rdapd: import refused, nothing changed: the database schema is not current "
            "(rdapd db upgrade)",
            err=True,
        )
        sys.exit(1)
    started = time.monotonic()
    shown = progress.bar(f"reading {file.name}")

    def report(phase: str, objects: int) -> None:
        if phase == "copy":
            shown.set_description("copying into the registry tables", refresh=False)
        shown.update(objects - shown.n)
        metrics.import_progress(objects)

    try:
        result = import_deposit(db, file, force=force, progress=report)
    except StaleDeposit as exc:
        _failed(shown, started)
        click.echo(f"rdapd: deposit refused: {exc} (--force loads it anyway)", err=True)
        sys.exit(1)
    except DepositError as exc:
        _failed(shown, started)
        click.echo(f"rdapd: deposit refused: {exc}", err=True)
        sys.exit(1)
    except WorkerFailed as exc:
        _failed(shown, started)
        click.echo(f"rdapd: import failed, nothing changed: {exc}", err=True)
        sys.exit(1)
    except SQLAlchemyError as exc:
        _failed(shown, started)
        click.echo(f"rdapd: import failed, nothing changed: {_failure(db, exc)}", err=True)
        sys.exit(1)
    shown.close()
    metrics.import_finished("success", result.elapsed, time.time())
    click.echo(result.summary())
    click.echo("  " + ", ".join(f"{name} {s:.1f}s" for name, s in result.phases.items()))


def _failed(shown: Any, started: float) -> None:
    progress.abandon(shown)
    metrics.import_finished("failure", time.monotonic() - started, time.time())


@click.command("generate-deposit")
@click.option("--tld", default="post", show_default=True, help="TLD of the registry.")
@click.option(
    "--size", default=2000, show_default=True, type=click.IntRange(min=1), help="Number of domains."
)
@click.option("--seed", default=1, show_default=True, type=int, help="Seed; same seed, same file.")
@click.option(
    "--markers",
    is_flag=True,
    help="Put a unique PII-<kind>-<n> marker in every natural person's personal value.",
)
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def generate(tld: str, size: int, seed: int, markers: bool, out: Path) -> None:
    """Write a demo/benchmark FULL deposit to OUT."""
    bars: dict[str, Any] = {}

    def report(kind: str, done: int, total: int) -> None:
        if kind not in bars:
            for earlier in bars.values():
                earlier.close()
            bars[kind] = progress.bar(f"writing {kind}", total=total, unit=kind[:-1])
        bars[kind].update(done - bars[kind].n)

    try:
        result = generate_deposit(
            out, tld=tld, size=size, seed=seed, markers=markers, progress=report
        )
    except (ValueError, OSError) as exc:
        click.echo(f"rdapd: cannot generate deposit: {exc}", err=True)
        sys.exit(1)
    finally:
        for shown in bars.values():
            shown.close()
    counts = ", ".join(f"{n} {uri.rsplit(':', 1)[-1]}" for uri, n in result.counts.items())
    click.echo(f"wrote {out} ({result.deposit_id}): {counts}")
    if markers:
        click.echo(f"{len(result.markers)} PII markers (PII-<kind>-<n>; phones +<cc>.8801/8802<n>)")


COMMANDS: list[click.Command] = [import_rde, generate]
