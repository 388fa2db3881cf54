"""Fixtures of the browser tests: one served registry and one Chromium for the whole module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rdap.db import Database
from rdap.escrow.generator import generate_deposit
from rdap.escrow.loader import import_deposit
from tests.conftest import clear_tables
from tests.served import served, server_env
from tests.web.browser import Shots, chromium_path


@pytest.fixture(scope="module")
def site(migrated_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A demo registry served by `rdapd serve` on 127.0.0.1 (one server per module)."""
    database = Database(migrated_url)
    clear_tables(database)
    work = tmp_path_factory.mktemp("site")
    # Natural persons' values carry unique markers (PII-...), so a page can be searched for them.
    deposit = generate_deposit(work / "deposit.xml", size=40, seed=7, markers=True)
    import_deposit(database, work / "deposit.xml")
    env = server_env(migrated_url, work / "instance")
    try:
        with served(env, work / "server.log") as port:
            yield {
                "url": f"http://localhost:{port}",
                "db": database,
                "log": work / "server.log",
                "deposit": deposit,
                "env": env,
            }
    finally:
        clear_tables(database)
        database.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path())
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Shots:
    directory: Path = tmp_path_factory.mktemp("screenshots")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"browser screenshots: {directory}")
    return Shots(directory)
