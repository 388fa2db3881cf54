"""The `rdapd` command line: only rdapd's own options and commands, and every listed one works."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from rdap.cli import cli

RDAPD = Path(sys.executable).with_name("rdapd")  # the console script pip installed


def listed_commands(help_text: str) -> list[str]:
    section = help_text.split("\nCommands:\n", 1)[1]
    return [m.group(1) for m in re.finditer(r"^  (\S+)", section, re.MULTILINE)]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Settings for a throwaway instance (the CLI reads RDAP_* from the environment)."""
    values = {
        "RDAP_INSTANCE_PATH": str(tmp_path / "instance"),
        "RDAP_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def test_console_script_help_shows_only_rdapd_options(env: dict[str, str]) -> None:
    done = subprocess.run(
        [str(RDAPD), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    options = done.stdout.split("\nOptions:\n", 1)[1].split("\nCommands:\n", 1)[0]
    assert options.split() == ["--help", "Show", "this", "message", "and", "exit."]
    for flask_option in ("--env-file", "--app", "--debug", "-e,", "-A,"):
        assert flask_option not in done.stdout
    assert "limiter" not in listed_commands(done.stdout)
    assert done.stderr == ""


def test_every_listed_command_and_subcommand_runs(env: dict[str, str]) -> None:
    runner = CliRunner()
    top = runner.invoke(cli, ["--help"], prog_name="rdapd")
    names = listed_commands(top.output)
    assert {"db", "import-rde", "serve", "demo", "client"} <= set(names)
    for name in names:
        result = runner.invoke(cli, [name, "--help"], prog_name="rdapd")
        assert result.exit_code == 0, (name, result.output)
        command = cli.get_command(click.Context(cli), name)
        if isinstance(command, click.Group):
            for sub in listed_commands(result.output):
                sub_result = runner.invoke(cli, [name, sub, "--help"], prog_name="rdapd")
                assert sub_result.exit_code == 0, (name, sub, sub_result.output)


def test_commands_run_against_the_configured_database(env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).output == "database at head\n"
    deposit = tmp_path / "d.xml"
    result = runner.invoke(cli, ["generate-deposit", "--size", "20", str(deposit)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["import-rde", str(deposit)])
    assert result.exit_code == 0, result.output
    assert "imported FULL deposit" in result.output
    result = runner.invoke(cli, ["client", "list"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "args",
    [["limiter", "limits"], ["limiter", "clear"], ["--app", "wsgi", "db", "upgrade"]],
)
def test_flask_and_plugin_commands_are_not_rdapd_commands(
    env: dict[str, str], args: list[str]
) -> None:
    result = CliRunner().invoke(cli, args, prog_name="rdapd")
    assert result.exit_code == 2
    assert re.search(r"No such (command|option)", result.output)


def test_a_configuration_error_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RDAP_NO_SUCH_SETTING", "1")
    result = CliRunner().invoke(cli, ["db", "upgrade"], prog_name="rdapd")
    assert result.exit_code == 2
    assert result.output.startswith("rdapd: configuration error: unknown setting RDAP_NO_SUCH")
