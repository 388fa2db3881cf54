"""The escrow commands: import-rde, generate-deposit, and load_demo."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from rdap import migrate
from rdap.db import Database
from rdap.escrow import commands
from rdap.escrow.commands import load_demo
from rdap.models import Complaint, Domain, Registrar
from rdap.settings import Settings
from tests.escrow.conftest import DATA, dump


def test_import_rde_prints_what_was_loaded(app: Flask, db: Database) -> None:
    result = app.test_cli_runner().invoke(args=["import-rde", str(DATA / "rfc9022-example.xml")])
    assert result.exit_code == 0, result.output
    assert "imported FULL deposit 20191017001 for .example" in result.output
    assert "3 domain, 2 host, 2 contact, 1 registrar" in result.output


def test_import_rde_refusal_is_one_line_without_traceback(app: Flask, db: Database) -> None:
    runner = app.test_cli_runner()
    runner.invoke(args=["import-rde", str(DATA / "small-valid.xml")])
    before = dump(db)
    result = runner.invoke(args=["import-rde", str(DATA / "unknown-registrar.xml")])
    assert result.exit_code == 1
    assert result.stderr == (
        "rdapd: deposit refused: line 62: <rdeDomain:domain> example.post: "
        "registrar 'reg-x' is not in the deposit\n"
    )
    assert "Traceback" not in result.output
    assert dump(db) == before


def test_import_rde_missing_file(app: Flask, db: Database) -> None:
    result = app.test_cli_runner().invoke(args=["import-rde", "/nonexistent/deposit.xml"])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_generate_then_import(app: Flask, db: Database, tmp_path: Path) -> None:
    out = tmp_path / "gen.xml"
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "generate-deposit",
            "--tld",
            "post",
            "--size",
            "40",
            "--seed",
            "9",
            "--markers",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "40 rdeDomain-1.0" in result.output
    assert "PII markers" in result.output
    result = runner.invoke(args=["import-rde", str(out)])
    assert result.exit_code == 0, result.output
    with db.read_scope() as session:
        assert session.scalar(select(func.count()).select_from(Domain)) == 40


def test_load_demo(db: Database) -> None:
    result = load_demo(db, size=80, seed=4)
    assert (result.tld, result.counts["domain"]) == ("post", 80)
    with db.read_scope() as session:
        assert session.scalar(select(func.count()).select_from(Domain)) == 80


def _small(tmp_path: Path, name: str, *replacements: tuple[str, str]) -> Path:
    text = (DATA / "small-valid.xml").read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / f"{name}.xml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_older_deposit_needs_force(app: Flask, db: Database, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["import-rde", str(DATA / "small-valid.xml")]).exit_code == 0
    older = _small(tmp_path, "older", ("2026-01-01T00:00:00Z", "2019-01-01T00:00:00Z"))
    before = dump(db)
    result = runner.invoke(args=["import-rde", str(older)])
    assert result.exit_code == 1
    assert result.stderr == (
        "rdapd: deposit refused: line 10: <rde:deposit>: watermark 2019-01-01T00:00:00+00:00 "
        "is older than 2026-01-01T00:00:00+00:00, the watermark of deposit SMALL01 loaded for "
        ".post (--force loads it anyway)\n"
    )
    assert dump(db) == before
    result = runner.invoke(args=["import-rde", "--force", str(older)])
    assert result.exit_code == 0, result.output
    assert "imported FULL deposit SMALL01 for .post" in result.output


def test_a_complaint_never_blocks_an_import(  # type: ignore[no-untyped-def]
    app: Flask, client, db: Database, tmp_path: Path
) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["import-rde", str(DATA / "small-valid.xml")]).exit_code == 0
    filed = client.post(
        "/complaints",
        json={
            "domain": "example.post",
            "fields": ["registrant.email"],
            "description": "The registrant's address bounces.",
        },
    )
    assert filed.status_code == 201
    complaint_id = filed.get_json()["id"]
    # The next deposit has neither that domain nor its registrar.
    without = _small(
        tmp_path,
        "without",
        (">reg-a<", ">reg-b<"),
        (">9995<", ">9996<"),
        ("example.post", "other.post"),
        ("D1-POST", "D2-POST"),
        ('id="SMALL01"', 'id="SMALL02"'),
    )
    result = runner.invoke(args=["import-rde", str(without)])
    assert result.exit_code == 0, result.output
    with db.read_scope() as session:
        complaint = session.get(Complaint, complaint_id)
        assert complaint is not None
        assert (
            complaint.domain,
            complaint.domain_roid,
            complaint.registrar_client_id,
            complaint.registrar_iana_id,
        ) == ("example.post", "D1-POST", "reg-a", 9995)
        assert session.scalars(select(Registrar.client_id)).all() == ["reg-b"]
    status = client.get(f"/complaints/{complaint_id}")
    assert status.status_code == 200
    assert status.get_json()["status"] == "open"


def test_a_database_error_suggests_the_schema_only_when_it_is_behind(
    app: Flask, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = app.test_cli_runner()
    deposit = str(DATA / "small-valid.xml")

    def conflict(*args: object, **kwargs: object) -> object:
        raise IntegrityError("INSERT …", {}, Exception("UNIQUE constraint failed: domains.roid"))

    monkeypatch.setattr(commands, "import_deposit", conflict)
    result = runner.invoke(args=["import-rde", deposit])
    assert result.exit_code == 1
    assert result.stderr == (
        "rdapd: import failed, nothing changed: the deposit conflicts with data in the "
        "database (UNIQUE constraint failed: domains.roid)\n"
    )
    monkeypatch.undo()
    migrate.downgrade(settings.database_url, "0003")
    try:
        result = runner.invoke(args=["import-rde", deposit])
    finally:
        migrate.upgrade(settings.database_url)
    assert result.exit_code == 1
    assert result.stderr == (
        "rdapd: import refused, nothing changed: the database schema is not current "
        "(rdapd db upgrade)\n"
    )
