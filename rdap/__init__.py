"""rdapd: a registry's RDAP and WHOIS directory with privacy built in."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from rdap.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the WSGI application; the one place where collaborators are wired together."""
    from rdap.app import build_app

    return build_app(settings)
