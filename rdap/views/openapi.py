"""The OpenAPI 3.1 description of this service's HTTP API, served at /openapi.json."""

from __future__ import annotations

from importlib import resources

from flask import Blueprint, Response

blueprint = Blueprint("openapi", __name__)


@blueprint.get("/openapi.json")
def openapi() -> Response:
    document = resources.files("rdap").joinpath("openapi.json").read_bytes()
    return Response(document, mimetype="application/json")
