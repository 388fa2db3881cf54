"""Application assembly: settings → runtime → Flask app with blueprints and error handlers."""

from __future__ import annotations

from flask import Flask

from rdap.runtime import Runtime
from rdap.settings import Settings
from rdap.views.oauth import init_oauth
from rdap.views.ratelimit import init_ratelimit


def build_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask("rdap", instance_path=str(settings.instance_path.resolve()))
    app.json.sort_keys = False  # type: ignore[attr-defined]
    runtime = Runtime.build(settings)
    app.extensions["rdapd"] = runtime
    init_oauth(app, settings, runtime.db)
    init_ratelimit(app, settings)

    from rdap import views
    from rdap.cli import register_commands

    views.register(app)
    from rdap.views.web import init_web

    init_web(app, runtime)
    from rdap.views.telemetry import init_telemetry

    init_telemetry(app, access_log_enabled=settings.access_log)
    register_commands(app)
    return app


def runtime_of(app: Flask) -> Runtime:
    runtime: Runtime = app.extensions["rdapd"]
    return runtime
