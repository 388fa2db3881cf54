"""Clock: where the service reads the current time, so tests can freeze and advance it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

# A function returning the current time, timezone-aware in UTC.
Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
