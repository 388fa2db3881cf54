"""scripts/test: both database passes run whatever the first gives, and both are reported."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from rdap.settings import PROJECT_ROOT

# Runs scripts/test itself (its own throwaway PostgreSQL and Redis), so once, not per backend.
pytestmark = pytest.mark.sqlite_only

PROBES = {
    "fails-on-sqlite": (
        "import os\n\n\ndef test_backend():\n"
        '    assert os.environ["TEST_DATABASE"] == "postgresql"\n'
    ),
    "sqlite-only": ("import pytest\n\n\n@pytest.mark.sqlite_only\ndef test_here():\n    pass\n"),
    "nothing": "def test_other():\n    pass\n",
}


def run_script(tmp_path: Path, probe: str, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "test_probe.py"
    path.write_text(PROBES[probe])
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEST_")}
    venv_20c = os.environ["TEST_20C_PYTHON"].rsplit("/bin/", 1)[0]
    env["RDAPD_VENV_20C"] = venv_20c  # already built by the outer run: nothing to install
    # The probes need no pytest plugin; importing the installed ones (schemathesis, hypothesis)
    # would be most of each probe pass's time.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return subprocess.run(
        [
            str(PROJECT_ROOT / "scripts" / "test"),
            "-p",
            "no:cacheprovider",
            "-o",
            "markers=sqlite_only: probe",
            str(path),
            *args,
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(autouse=True)
def _inside_scripts_test() -> None:
    if not os.environ.get("TEST_POSTGRES_URL") or not os.environ.get("TEST_20C_PYTHON"):
        pytest.skip("runs scripts/test, which needs its servers (scripts/test sets TEST_*)")


def summary(out: str) -> list[str]:
    return out.split("== summary\n", 1)[1].splitlines()


def test_a_sqlite_failure_still_runs_postgresql_and_fails_the_script(tmp_path: Path) -> None:
    done = run_script(tmp_path, "fails-on-sqlite")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "== pytest on SQLite" in done.stdout
    assert "== pytest on PostgreSQL" in done.stdout
    sqlite, pg = summary(done.stdout)
    assert sqlite.startswith("SQLite:     FAILED, pytest exit 1 (1 failed in ")
    assert pg.startswith("PostgreSQL: passed (1 passed in ")


def test_no_tests_on_postgresql_is_fine_when_all_are_sqlite_only(tmp_path: Path) -> None:
    done = run_script(tmp_path, "sqlite-only", "-q")  # -q: pytest's count line has no "=="
    assert done.returncode == 0, done.stdout + done.stderr
    assert summary(done.stdout) == [
        summary(done.stdout)[0],
        "PostgreSQL: no tests ran (every selected test is sqlite_only)",
    ]
    assert summary(done.stdout)[0].startswith("SQLite:     passed (1 passed in ")


def test_no_tests_anywhere_fails(tmp_path: Path) -> None:
    done = run_script(tmp_path, "nothing", "-k", "no_such_test")
    assert done.returncode == 1, done.stdout + done.stderr
    assert summary(done.stdout) == ["SQLite:     no tests ran", "PostgreSQL: no tests ran"]
