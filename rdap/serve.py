"""Serving: run the WSGI app under gunicorn with defaults fitted to the machine."""

from __future__ import annotations

import gc
from typing import Any

from gunicorn.app.base import BaseApplication
from sqlalchemy.engine import make_url

from rdap.escrow.parallel import available_cpus
from rdap.settings import Settings


def default_workers(settings: Settings) -> int:
    """Sync workers: one per usable CPU when lookups read the embedded SQLite database (they are
    CPU-bound, from a memory map shared by the workers: five workers on two CPUs answered 25-35 %
    fewer lookups a second than two), 2 x CPUs + 1 on a networked database, whose round trips
    leave a CPU idle while a worker waits."""
    cpus = available_cpus()
    if make_url(settings.effective_read_url).get_backend_name() == "sqlite":
        return cpus
    return 2 * cpus + 1


# Young-generation threshold and the two older ones. A search page allocates some 100,000
# containers that refcounting frees; at the default 700 the collector ran ten times a request
# and a full pass every dozen, 1.6 ms a page. Measured: pages 4 % cheaper at these settings.
GC_THRESHOLDS = (50_000, 20, 100)


def settle_heap() -> None:
    """Call once a worker has built its app: move everything alive into the permanent generation,
    so the cyclic collector's full passes no longer walk the app's long-lived objects (measured:
    a search page's p99 fell from about 3x its median to about 1.5x), and collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def gunicorn_options(settings: Settings, bind: str, **extra: Any) -> dict[str, Any]:
    """The options `rdapd serve` uses; benchmarks reuse them so comparisons are like for like."""
    options: dict[str, Any] = {
        "bind": bind,
        "workers": settings.workers or default_workers(settings),
        "worker_class": "sync",
        "timeout": 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        "limit_request_line": 4094,
        "limit_request_fields": 50,
        "limit_request_field_size": 8190,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": settings.log_level.lower(),
        "proc_name": "rdapd",
        "forwarded_allow_ips": "127.0.0.1,::1" if settings.proxy_count else "",
    }
    options.update(extra)
    return options


class Server(BaseApplication):  # type: ignore[misc]
    """Gunicorn running a WSGI app built by `factory` in each worker (after fork)."""

    def __init__(self, factory: Any, options: dict[str, Any]) -> None:
        self.factory = factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key.lower(), value)

    def load(self) -> Any:
        app = self.factory()
        settle_heap()
        return app


def serve(settings: Settings, bind: str, **extra: Any) -> None:
    from rdap import create_app
    from rdap.counters import shared_counters

    options = gunicorn_options(settings, bind, **extra)
    # Every worker counts rate limits in one place (rdap/counters.py).
    with shared_counters(settings, processes=options["workers"]) as served:
        Server(lambda: create_app(served), options).run()
