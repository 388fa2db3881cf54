"""Rate-limit counters every process of an instance shares: a private Redis under instance/.

A limit holds per client for the whole server only if every worker process counts in the same
place. A shared storage that is configured (RDAP_RATELIMIT_STORAGE_URI=redis://...) is used as
it is. With memory:// (the default) each process would count on its own, so a server of n
workers would let a client through n times its limit. `rdapd serve` therefore:

1. uses the private Redis of this instance if one already answers on its socket
   (instance/ratelimit/redis.sock: another `rdapd serve` or `rdapd whois` of this instance);
2. else starts one when `redis-server` is installed: unix socket only (mode 0700, no TCP port),
   nothing written to disk, bounded memory, stopped when the server stops (and, on Linux, when
   the process that started it dies);
3. else, with more than one worker, gives each worker an equal share of every limit (60/minute
   over 2 workers: 30/minute each). A client can never pass the limit, but may be refused
   before reaching it when its requests land unevenly; a warning says how to get exact limits.

    with shared_counters(settings, processes=workers) as settings:
        ...  # build the app in each worker from these settings
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import redis

from rdap.ratelimit import describe, is_per_process, limit_settings, parse_limits
from rdap.settings import Settings

log = logging.getLogger("rdap.counters")

DIRECTORY = "ratelimit"  # under instance_path
SOCKET = "redis.sock"
# The kernel's limit on a unix socket path (sun_path), less its terminating NUL.
MAX_SOCKET_PATH = 107
START_TIMEOUT = 10.0
# Memory the private Redis may use; past it, counters nearest their expiry are dropped first
# (a dropped counter forgets a client's recent requests; refusing every request would be worse).
MAX_MEMORY = "64mb"


def socket_path(settings: Settings) -> Path:
    return settings.instance_path.resolve() / DIRECTORY / SOCKET


def storage_uri(path: Path) -> str:
    return f"redis+unix://{path}"


@contextlib.contextmanager
def shared_counters(settings: Settings, processes: int) -> Iterator[Settings]:
    """Settings whose rate limits hold across `processes` processes while the block runs."""
    if not settings.ratelimit_enabled or not is_per_process(settings.ratelimit_storage_uri):
        yield settings
        return
    path = socket_path(settings)
    if _answers(path):
        log.info("rate limits: counting in this instance's Redis at %s", path)
        yield dataclasses.replace(settings, ratelimit_storage_uri=storage_uri(path))
        return
    with _private_redis(path) as started:
        if started:
            log.info("rate limits: counting in a private Redis at %s", path)
            yield dataclasses.replace(settings, ratelimit_storage_uri=storage_uri(path))
        elif processes > 1:
            log.warning(
                "rate limits: no shared counter storage, so each of the %d workers enforces an"
                " equal share of every limit (install redis-server, or set"
                " RDAP_RATELIMIT_STORAGE_URI=redis://..., for exact limits)",
                processes,
            )
            yield split_limits(settings, processes)
        else:
            yield settings


def split_limits(settings: Settings, processes: int) -> Settings:
    """Each limit divided between `processes` processes that count apart: together they never
    let a client pass the whole limit (a share is at least 1)."""
    changes: dict[str, str] = {}
    for name, text in limit_settings(settings).items():
        shares = []
        for item in parse_limits(name, text):
            share = type(item)(max(1, item.amount // processes), item.multiples)
            shares.append(describe(share))
        changes[name] = ";".join(shares)
    return dataclasses.replace(settings, **changes)  # type: ignore[arg-type]


def _answers(path: Path) -> bool:
    """Is a Redis answering on this socket?"""
    if not path.exists():
        return False
    client = redis.Redis(unix_socket_path=str(path), socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


@contextlib.contextmanager
def _private_redis(path: Path) -> Iterator[bool]:
    """Run redis-server on `path` for the duration of the block; yields whether it runs."""
    server = shutil.which("redis-server")
    if server is None:
        yield False
        return
    if len(str(path)) > MAX_SOCKET_PATH:
        log.warning("rate limits: %s is too long for a unix socket; no private Redis", path)
        yield False
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # a socket nobody answers on (see _answers): left by a crash
    options = [
        "--port", "0",
        "--unixsocket", str(path),
        "--unixsocketperm", "700",
        "--save", "",
        "--appendonly", "no",
        "--dir", str(path.parent),
        "--maxmemory", MAX_MEMORY,
        "--maxmemory-policy", "volatile-ttl",
        "--loglevel", "warning",
        "--logfile", str(path.parent / "redis.log"),
    ]  # fmt: skip
    process = subprocess.Popen(  # noqa: S603 - a fixed program and arguments
        [server, *options],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=(  # noqa: PLW1509 - nothing else runs threads while the server starts
            functools.partial(_die_with, os.getpid()) if sys.platform == "linux" else None
        ),
    )
    try:
        started = _wait_until_answering(path, process)
        if not started:
            log.warning(
                "rate limits: redis-server did not start (see %s)", path.parent / "redis.log"
            )
        yield started
    finally:
        _stop(process)


def _wait_until_answering(path: Path, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if _answers(path):
            return True
        time.sleep(0.05)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _die_with(parent: int) -> None:
    """In the child before exec (Linux): have it sent SIGTERM when `parent`, the process that
    started it, dies, so a killed server leaves no Redis behind (prctl PR_SET_PDEATHSIG)."""
    import ctypes

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
