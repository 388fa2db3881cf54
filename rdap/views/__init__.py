"""Channels over HTTP: blueprints, the per-request principal, and the error mapping."""

from __future__ import annotations

from flask import Flask

from rdap.views import (
    disclosure,
    errors,
    framing,
    headers,
    health,
    openapi,
    portal,
    rdap,
    registrar,
    signin,
    terms,
    urls,
    web,
)


def register(app: Flask) -> None:
    # Every request, before any blueprint's hooks: framing limits, the Host, CORS preflight.
    app.before_request(framing.refuse_oversized)
    app.before_request(urls.check_host)
    app.before_request(headers.preflight)
    app.after_request(headers.cors)
    app.after_request(headers.caching)
    app.wsgi_app = framing.ReadableBody(app.wsgi_app)  # type: ignore[method-assign]
    app.register_blueprint(rdap.blueprint)
    app.register_blueprint(registrar.blueprint)
    app.register_blueprint(disclosure.blueprint)
    app.register_blueprint(openapi.blueprint)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(terms.blueprint)
    app.register_blueprint(web.blueprint)
    if app.extensions["rdapd"].settings.oauth_enabled:
        app.register_blueprint(signin.blueprint)
        app.register_blueprint(portal.blueprint)
    errors.register(app)
