"""What views take from the application handling the current request: its runtime (settings,
database, policy, profile, caches: rdap.runtime.Runtime) and, for the disclosure API and
portal, one audited transaction of the disclosure workflow."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from flask import current_app

from rdap import audit
from rdap.disclosure import service
from rdap.runtime import Runtime


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["rdapd"]
    return rt


@contextlib.contextmanager
def disclosure_operation() -> Iterator[service.Context]:
    """One transaction on the audit chain, at the runtime clock's time."""
    rt = runtime()
    with audit.writing(rt.db) as session:
        yield service.Context(session, rt.clock(), rt.sla, rt.policy)
