"""Browser tests' tools: Debian's Chromium driven by Playwright (no browser download), axe-core
(bundled by axe-playwright-python) run in the same browser, screenshots as test artefacts."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

# Debian's package (`apt-get install chromium`; .ci/run installs it).
CHROMIUM = os.environ.get("TEST_CHROMIUM", "/usr/bin/chromium")
PHONE = {"width": 375, "height": 740}
# axe impact levels that fail a page.
BLOCKING = ("serious", "critical")


def chromium_path() -> str:
    path = shutil.which(CHROMIUM) or (CHROMIUM if Path(CHROMIUM).is_file() else None)
    if path is None:
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (as .ci/run does)")
    return path


def axe_blocking(page: Any) -> list[str]:
    """Serious and critical WCAG violations axe-core finds on the page, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") in BLOCKING:
            targets = [str(node.get("target")) for node in violation.get("nodes", [])][:3]
            found.append(f"{violation['id']} ({violation['impact']}): {targets}")
    return found


def fits_the_screen(page: Any) -> bool:
    """No horizontal scrolling: the page is readable on a phone without panning."""
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return width <= page.viewport_size["width"]


class Shots:
    """Screenshots of each page visited, saved under one directory the session prints."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def take(self, page: Any, name: str) -> Path:
        path = self.directory / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path
