"""Channels over HTTP: blueprints, the per-request principal, and the error mapping."""

from __future__ import annotations

from flask import Flask

from rdap.views import disclosure, errors, openapi, rdap, registrar


def register(app: Flask) -> None:
    app.register_blueprint(rdap.blueprint)
    app.register_blueprint(registrar.blueprint)
    app.register_blueprint(disclosure.blueprint)
    app.register_blueprint(openapi.blueprint)
    errors.register(app)
