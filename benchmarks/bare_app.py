"""Baseline for benchmarks: a bare Flask app returning a prebuilt RDAP-sized body, nothing else."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response

from rdap.serve import settle_heap

BODY = Path(os.environ["BARE_BODY_FILE"]).read_bytes() if "BARE_BODY_FILE" in os.environ else b"{}"

app = Flask("bare")


@app.get("/domain/<path:name>")
def domain(name: str) -> Response:
    return Response(BODY, mimetype="application/rdap+json")


settle_heap()  # as wsgi.py does, so both apps run with the same collector settings
