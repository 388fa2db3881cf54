"""Dependencies point one way: pipeline stages import no web framework, socket or view code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from rdap.settings import PACKAGE_ROOT

STAGES = [
    "principal.py",
    "query.py",
    "repository.py",
    "records.py",
    "document.py",
    "cards.py",
    "lookup.py",
    "search.py",
    "visibility.py",
    "search_columns.py",
    "auth.py",
    "ratelimit.py",
    "counters.py",
    "accuracy.py",
    "paging.py",
    "redaction/__init__.py",
    "redaction/engine.py",
    "redaction/policy.py",
    "redaction/jsonpath.py",
    "redaction/formats.py",
    "render/__init__.py",
    "render/rdap_json.py",
    "render/contacts.py",
    "render/contact_format.py",
    "render/whois_text.py",
    "escrow/parser.py",
    "escrow/loader.py",
    "escrow/generator.py",
    # Disclosure: business rules the API, the command line and the web pages share.
    "audit.py",
    "clock.py",
    "disclosure/access.py",
    "disclosure/schemas.py",
    "disclosure/service.py",
    "disclosure/sla.py",
    "disclosure/workflow.py",
]
FORBIDDEN = ("flask", "werkzeug", "socket", "socketserver", "gunicorn", "rdap.views")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", STAGES)
def test_stage_imports_no_channel_code(module: str) -> None:
    imported = _imports(PACKAGE_ROOT / module)
    bad = sorted(n for n in imported for f in FORBIDDEN if n == f or n.startswith(f + "."))
    assert bad == []


def test_renderers_refuse_unredacted_documents() -> None:
    from rdap.document import FullDocument, Subject
    from rdap.profile import load_profile
    from rdap.redaction import load_policy
    from rdap.render import rdap_json
    from rdap.render.contacts import ContactReader
    from rdap.render.whois_text import WhoisText
    from rdap.search import SearchPage
    from rdap.settings import Settings

    full = FullDocument(
        body={"objectClassName": "domain", "ldhName": "x.post"},
        subject=Subject(object_class="domain", key="x.post", registrar_id=1),
    )
    profile = load_profile(Settings().service_file)
    with pytest.raises(TypeError):
        rdap_json.render(full, profile=profile, base_url="", request_url="")  # type: ignore[arg-type]
    page = SearchPage("domainSearchResults", (full,), 1, 1, None, None, None, {}, "full")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        rdap_json.render_search(page, profile=profile, base_url="", request_url="")
    whois = WhoisText(
        ContactReader.for_policy(load_policy(Settings().policies_path)), profile.whois
    )
    with pytest.raises(TypeError):
        whois.render(full)  # type: ignore[arg-type]


def test_renderers_do_not_reach_into_stages() -> None:
    """Renderers see redacted documents and what their channel hands them, not the query,
    search or repository stages (nor the database behind them)."""
    for module in (
        "render/__init__.py",
        "render/rdap_json.py",
        "render/contacts.py",
        "render/contact_format.py",
        "render/whois_text.py",
    ):
        imported = _imports(PACKAGE_ROOT / module)
        reached = {
            n
            for n in imported
            if n
            in (
                "rdap.query",
                "rdap.search",
                "rdap.repository",
                "rdap.lookup",
                "rdap.db",
                "sqlalchemy",
            )
        }
        assert reached == set(), module
