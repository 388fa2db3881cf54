"""Serving: run the WSGI app under gunicorn with defaults fitted to the machine."""

from __future__ import annotations

import dataclasses
import gc
import logging
import socket
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.workers.base import Worker
from gunicorn.workers.gthread import ThreadWorker as GunicornThreadWorker
from gunicorn.workers.sync import SyncWorker as GunicornSyncWorker
from sqlalchemy.engine import make_url

from rdap import metrics
from rdap.errors import RdapError
from rdap.escrow.parallel import available_cpus
from rdap.render import rdap_json
from rdap.settings import LOCAL_HOSTS, Settings
from rdap.views.errors import HTTP_MESSAGES

log = logging.getLogger("rdap.serve")


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


def bound_client_reads(seconds: float) -> Callable[[Any], None]:
    """A gunicorn when_ready hook: every socket read or write on a client connection fails
    after `seconds` without progress (SO_RCVTIMEO/SO_SNDTIMEO, which accepted sockets inherit
    from the listening one on Linux), so a client that stops sending its headers or stops
    reading its answer frees its thread instead of holding it."""
    whole = int(seconds)
    timeval = struct.pack("ll", whole, int((seconds - whole) * 1_000_000))

    def when_ready(server: Any) -> None:
        for listener in server.LISTENERS:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)

    return when_ready


# gunicorn refuses requests beyond these limits itself (8190 is the longest request line it
# reads). Below them the app refuses with its own, lower limits (rdap.views.framing), so those
# requests get RDAP error bodies from the app; the rest get them from the workers below.
LIMIT_REQUEST_LINE = 8190
LIMIT_REQUEST_FIELDS = 128
LIMIT_REQUEST_FIELD_SIZE = 16380


def gunicorn_options(settings: Settings, bind: str, **extra: Any) -> dict[str, Any]:
    """The options `rdapd serve` uses; benchmarks reuse them so comparisons are like for like.

    Threaded workers: a connection waits for its first bytes on the worker's poller, not in a
    thread, and a request whose client stalls is cut after settings.client_timeout, so slow
    or idle clients cannot take every worker (sync workers each hold one connection while it
    dawdles). On SIGTERM gunicorn stops accepting and lets requests in flight finish for up
    to graceful_timeout seconds."""
    options: dict[str, Any] = {
        "bind": bind,
        "workers": settings.workers or default_workers(settings),
        "worker_class": WORKERS["gthread"],
        "threads": settings.threads,
        "when_ready": bound_client_reads(settings.client_timeout),
        "timeout": 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        "limit_request_line": LIMIT_REQUEST_LINE,
        "limit_request_fields": LIMIT_REQUEST_FIELDS,
        "limit_request_field_size": LIMIT_REQUEST_FIELD_SIZE,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": settings.log_level.lower(),
        "proc_name": "rdapd",
        "forwarded_allow_ips": "127.0.0.1,::1" if settings.proxy_count else "",
        # gunicorn >= 25.1 opens a control socket at one path per user ($HOME/.gunicorn); two
        # servers on a host would share it, and nothing here uses it.
        "control_socket_disable": True,
    }
    options.update(extra)
    return options


# --- errors gunicorn answers itself -----------------------------------------------------------

# Descriptions for the statuses gunicorn answers with (never its message: it quotes the request).
SERVER_MESSAGES = {
    400: "the request is not well-formed HTTP",
    403: "the request is forbidden",
    414: HTTP_MESSAGES[414],
    417: "the server cannot meet the request's expectation",
    431: HTTP_MESSAGES[431],
    500: "an internal error occurred",
    501: "the request uses a transfer coding this server does not support",
}


def error_answer(app: Any, status: int, reason: str) -> bytes:
    """A complete HTTP/1.1 answer with an RDAP error body, for an error found before the app ran.
    Its rdapConformance is the app's service profile's when `app` is an rdapd app."""
    runtime = getattr(app, "extensions", {}).get("rdapd")
    error = RdapError(SERVER_MESSAGES.get(status, "the request could not be processed"))
    error.title = reason
    error.status = status
    body = rdap_json.render_error(error, getattr(runtime, "profile", None))
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        f"Content-Type: {rdap_json.MEDIA_TYPE}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Cache-Control: no-store\r\n"
        "Access-Control-Allow-Origin: *\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


class _Captured:
    """Stands in for the client socket while gunicorn writes its own error page, to learn the
    status and reason it chose (and let it log as it always does)."""

    def __init__(self) -> None:
        self.data = b""

    def gettimeout(self) -> float:
        return 0.0

    def setblocking(self, flag: bool) -> None:
        return None

    def sendall(self, data: bytes) -> None:
        self.data += data

    def send(self, data: bytes) -> int:
        self.data += data
        return len(data)

    def status(self) -> tuple[int, str]:
        parts = self.data.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
        if len(parts) == 3 and parts[1].isdigit():
            return int(parts[1]), parts[2]
        return 500, "Internal Server Error"


def _send(client: socket.socket, data: bytes) -> None:
    """Write without blocking, as gunicorn writes its error pages: a client that does not read
    loses the answer rather than holding the worker."""
    timeout = client.gettimeout()
    client.setblocking(False)
    try:
        client.sendall(data)
    except OSError:
        log.debug("could not send an error answer")
    finally:
        client.settimeout(timeout)


class _RdapErrorPages(Worker):  # type: ignore[misc]
    """Worker mixin: what gunicorn refuses before the app runs (a malformed request line, a
    header over its limits) is answered with gunicorn's status and an RDAP error body instead of
    its HTML page. Overrides `handle_error`, through which every worker type answers these."""

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: BaseException) -> None:
        captured = _Captured()
        super().handle_error(req, captured, addr, exc)
        status, reason = captured.status()
        _send(client, error_answer(self.wsgi, status, reason))


# Not named "...SyncWorker": gunicorn swaps a worker class so named for its own gthread worker
# when threads > 1, which would drop the RDAP error bodies.
class RdapSync(_RdapErrorPages, GunicornSyncWorker):  # type: ignore[misc]
    """gunicorn's sync worker with RDAP error bodies."""


class RdapThreaded(_RdapErrorPages, GunicornThreadWorker):  # type: ignore[misc]
    """gunicorn's gthread worker with RDAP error bodies."""


# gunicorn worker types by name → the class `rdapd serve` runs (worker_class takes the path).
WORKERS = {"sync": f"{__name__}.RdapSync", "gthread": f"{__name__}.RdapThreaded"}


# --- where the server is reached ----------------------------------------------------------------


def _bind_host_port(bind: str) -> tuple[str, str] | None:
    """(host, port) of a TCP bind address; None for a Unix socket or a file descriptor."""
    if bind.startswith(("unix:", "fd://")) or "/" in bind:
        return None
    if bind.startswith("["):
        host, _, rest = bind[1:].partition("]")
        return host, rest.lstrip(":") or "8000"
    host, _, port = bind.partition(":")
    return host, port or "8000"


def settings_for_bind(settings: Settings, bind: str) -> Settings:
    """The settings of the processes `rdapd serve` starts on `bind`. Without RDAP_BASE_URL, the
    OAuth issuer (metadata, /help, tokens' iss and aud) names the bound address, and that
    address is an allowed Host; a wildcard bind (0.0.0.0, ::) names localhost and needs
    RDAP_BASE_URL or RDAP_ALLOWED_HOSTS to be reached under any other name."""
    found = _bind_host_port(bind)
    if settings.base_url or found is None:
        return settings
    host, port = found
    wildcard = host in ("", "0.0.0.0", "::")  # noqa: S104 - recognising, not binding
    changes: dict[str, Any] = {}
    if not settings.oauth_issuer:
        name = "localhost" if wildcard else host
        changes["oauth_issuer"] = f"http://{f'[{name}]' if ':' in name else name}:{port}"
    if wildcard:
        log.warning(
            "RDAP_BASE_URL is not set: answering only the Host names %s; set RDAP_BASE_URL to "
            "the public URL (links and the OAuth issuer follow it) or RDAP_ALLOWED_HOSTS",
            ", ".join(settings.allowed_hosts or LOCAL_HOSTS),
        )
    elif not settings.allowed_hosts:
        changes["allowed_hosts"] = (*LOCAL_HOSTS, host)
    return dataclasses.replace(settings, **changes)


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


def _worker_exited(_server: Any, worker: Any) -> None:
    metrics.worker_exited(worker.pid)


def serve(settings: Settings, bind: str, **extra: Any) -> None:
    from rdap import create_app
    from rdap.counters import shared_counters

    settings = settings_for_bind(settings, bind)
    # Workers keep metric values in files that /metrics of any worker sums (multiprocess mode).
    if settings.metrics_dir:
        metrics.use_directory(Path(settings.metrics_dir), wipe=True)
    else:
        metrics.use_directory(Path(tempfile.mkdtemp(prefix="rdapd-metrics-")), wipe=False)
    options = {"child_exit": _worker_exited, **gunicorn_options(settings, bind, **extra)}
    # Every worker counts rate limits in one place (rdap/counters.py).
    with shared_counters(settings, processes=options["workers"]) as served:
        Server(lambda: create_app(served), options).run()
