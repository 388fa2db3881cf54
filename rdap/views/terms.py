"""The terms of service every answer links, from the service profile: HTML, or plain text for
clients that prefer it."""

from __future__ import annotations

from html import escape

from flask import Blueprint, Response, request

from rdap.errors import NotFound
from rdap.views.current import runtime

blueprint = Blueprint("terms", __name__)

HTML = "text/html"
TEXT = "text/plain"


def _html(title: str, paragraphs: tuple[str, ...]) -> str:
    body = "".join(f"<p>{escape(p)}</p>\n" for p in paragraphs)
    return (
        '<!doctype html>\n<html lang="en">\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<h1>{escape(title)}</h1>\n{body}</html>\n"
    )


def _text(title: str, paragraphs: tuple[str, ...]) -> str:
    return "\n\n".join([title, *paragraphs]) + "\n"


@blueprint.get("/terms")
def terms() -> Response:
    rt = runtime()
    profile = rt.profile
    if not profile.terms:
        raise NotFound("this service publishes no terms of service here")
    kind = request.accept_mimetypes.best_match([HTML, TEXT], default=HTML)
    render = _text if kind == TEXT else _html
    response = Response(render(profile.terms_title, profile.terms), mimetype=kind)
    response.vary.add("Accept")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response
