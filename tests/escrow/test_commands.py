"""The escrow commands: import-rde, generate-deposit, and load_demo."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from rdap.db import Database
from rdap.escrow.commands import load_demo
from rdap.models import Domain
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
