"""Metrics: the Prometheus series this service exports, shared across gunicorn workers.

prometheus_client decides at import whether values live in this process or in files under
PROMETHEUS_MULTIPROC_DIR (one per worker, summed at scrape time). So nothing here imports it
until a metric is first used: `rdapd serve` points that variable at a fresh directory before
its workers start, and `rdapd import-rde` at RDAP_METRICS_DIR, so a server on the same host
reports the import too. Without it (tests, one process) the values live in this process.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def use_directory(directory: Path, *, wipe: bool) -> None:
    """Keep metric values in `directory` (multiprocess mode); call before any metric is used.

    The library reads this choice from the environment, which is why it is set here."""
    import sys

    if "prometheus_client" in sys.modules and os.environ.get(MULTIPROC_ENV) != str(directory):
        raise RuntimeError("metrics were used before their directory was chosen")
    if wipe and directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(directory)


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


class _Series:
    """The metric objects, created on first use (see the module docstring)."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge, Histogram

        self.requests = Counter(
            "rdapd_http_requests",
            "HTTP requests answered, by route template, status and caller role",
            ["route", "status", "role"],
        )
        self.latency = Histogram(
            "rdapd_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template",
            ["route"],
            buckets=LATENCY_BUCKETS,
        )
        self.disclosures = Counter(
            "rdapd_disclosures_served",
            "Answers that showed elements only a disclosure grant allows, by role",
            ["role"],
        )
        self.refusals = Counter(
            "rdapd_ratelimit_refusals",
            "Requests refused with 429 by the rate limiter, by role",
            ["role"],
        )
        self.limiter_fallback = Gauge(
            "rdapd_ratelimit_storage_fallback",
            "1 while a worker counts rate limits in process because the shared store is down",
            multiprocess_mode="livemax",
        )
        self.db_in_use = Gauge(
            "rdapd_db_connections_in_use",
            "Database connections checked out of the pools, by database",
            ["database"],
            multiprocess_mode="livesum",
        )
        self.db_timeouts = Counter(
            "rdapd_db_timeouts",
            "Units of database work cut at their deadline, by database",
            ["database"],
        )
        self.import_objects = Gauge(
            "rdapd_import_objects",
            "Objects read so far by the running (or last) escrow import",
            multiprocess_mode="mostrecent",
        )
        self.import_duration = Gauge(
            "rdapd_import_duration_seconds",
            "Duration of the last escrow import",
            ["outcome"],
            multiprocess_mode="mostrecent",
        )
        self.import_finished = Gauge(
            "rdapd_import_last_finished_timestamp_seconds",
            "When the last escrow import ended (Unix time), by outcome",
            ["outcome"],
            multiprocess_mode="mostrecent",
        )


_series: _Series | None = None
_creating = threading.Lock()


def series() -> _Series:
    """The metric objects of this process. One set per process (metrics are registered once
    in prometheus_client's global registry), which is why it is module state; created under a
    lock because a worker's threads may ask for it at once."""
    global _series  # noqa: PLW0603 - created once, on first use
    if _series is None:
        with _creating:
            if _series is None:
                _series = _Series()
    return _series


def exposition() -> tuple[bytes, str]:
    """The text exposition of every metric (all workers' in multiprocess mode), content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    series()
    if multiprocess():
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def worker_exited(pid: int) -> None:
    """Gunicorn's child_exit hook: drop a dead worker's live gauges."""
    if multiprocess():
        from prometheus_client import multiprocess as mp

        mp.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def count_disclosure(role: str) -> None:
    """An answer showed elements because of a disclosure grant."""
    series().disclosures.labels(role=role).inc()


def observe_request(route: str, status: int, role: str, seconds: float) -> None:
    s = series()
    s.requests.labels(route=route, status=str(status), role=role).inc()
    s.latency.labels(route=route).observe(seconds)
    if status == 429:
        s.refusals.labels(role=role).inc()


def connections_in_use(database: str, count: int) -> None:
    series().db_in_use.labels(database=database).set(count)


def database_timeout(database: str) -> None:
    series().db_timeouts.labels(database=database).inc()


def limiter_fallback(active: bool) -> None:
    series().limiter_fallback.set(1 if active else 0)


def import_progress(objects: int) -> None:
    series().import_objects.set(objects)


def import_finished(outcome: str, seconds: float, now: float) -> None:
    s = series()
    s.import_duration.labels(outcome=outcome).set(seconds)
    s.import_finished.labels(outcome=outcome).set(now)
