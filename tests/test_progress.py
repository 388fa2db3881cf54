"""Progress of long commands: whole lines (no carriage returns) when not on a terminal, then the
summary; nothing but the error after a failure."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask

from rdap import progress
from rdap.db import Database


def test_lines_not_carriage_returns_off_a_terminal() -> None:
    out = io.StringIO()
    shown = progress.bar("reading", total=None, stream=out)
    shown.delay = 0
    shown.mininterval = 0
    for _ in range(3):
        shown.update(1000)
    shown.close()
    lines = out.getvalue().splitlines()
    assert len(lines) >= 2
    assert "\r" not in out.getvalue()
    assert lines[-1].startswith("reading: ")
    assert "3.00kobjects" in lines[-1]


def test_generate_and_import_report_progress_then_a_summary(
    app: Flask, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "LINE_PERIOD", 0.0)
    runner = app.test_cli_runner()
    deposit = tmp_path / "d.xml"
    generated = runner.invoke(args=["generate-deposit", "--size", "3000", str(deposit)])
    assert generated.exit_code == 0, generated.output
    assert "writing registrants:" in generated.stderr
    assert "writing domains: 100%" in generated.stderr
    assert "\r" not in generated.stderr
    assert generated.stdout.startswith("wrote ")
    imported = runner.invoke(args=["import-rde", str(deposit)])
    assert imported.exit_code == 0, imported.output
    assert "copying into the registry tables" in imported.stderr
    assert "imported FULL deposit" in imported.stdout
    assert "parse and stage" in imported.stdout
