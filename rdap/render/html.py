"""HTML renderer: the web channel's pages from Jinja2 templates (rdap/templates/web), always
autoescaped; pages see only what their channel passes in (redacted documents, service facts)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

MEDIA_TYPE = "text/html; charset=utf-8"


@dataclasses.dataclass(frozen=True)
class Site:
    """What every page shows of the service itself."""

    operator_name: str
    lang: str = "en"


@dataclasses.dataclass(frozen=True)
class NavItem:
    href: str  # below the base URL
    label: str


def environment() -> Environment:
    """Autoescaping on for every template, whatever its name; undefined names fail loudly."""
    env = Environment(
        loader=PackageLoader("rdap", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    return env


class Pages:
    """Renders the web pages of one application (templates are compiled once and cached)."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.env = environment()

    def render(
        self,
        template: str,
        *,
        base_url: str,
        title: str,
        nav: Sequence[NavItem] = (),
        context: Mapping[str, Any] | None = None,
    ) -> bytes:
        page = self.env.get_template(template)
        html = page.render(
            site=self.site,
            lang=self.site.lang,
            base_url=base_url,
            title=title,
            nav=tuple(nav),
            **(context or {}),
        )
        return html.encode("utf-8")
