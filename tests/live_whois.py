"""A WHOIS server on 127.0.0.1 for tests: the real WhoisServer on its own event loop thread,
and a plain socket client. Every server is stopped by the fixture that starts it."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rdap.runtime import Runtime
from rdap.settings import Settings
from rdap.whois import RateCheck, WhoisLimits, WhoisServer, WhoisService, no_limit

BASE_URL = "https://rdap.example"


class LiveWhois:
    """A running server: `port`, the `server` itself, and its loop (for a look at its state)."""

    def __init__(self, service: WhoisService, limits: WhoisLimits) -> None:
        self.service = service
        self.server = WhoisServer(service, limits)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="whois-loop")
        self.port = 0

    def start(self) -> None:
        self.thread.start()
        started = asyncio.run_coroutine_threadsafe(self.server.start("127.0.0.1", 0), self.loop)
        started.result(timeout=10)
        self.port = self.server.address[1]

    def stop(self) -> None:
        stopped = asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop)
        try:
            stopped.result(timeout=self.server.limits.shutdown_grace + 10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
            self.loop.close()

    def open_connections(self) -> int:
        """Connections the server holds now (read on its loop)."""

        async def count() -> int:
            return self.server.active

        return asyncio.run_coroutine_threadsafe(count(), self.loop).result(timeout=5)


@contextmanager
def live_whois(
    settings: Settings,
    limits: WhoisLimits | None = None,
    *,
    rate_check: RateCheck = no_limit,
    runtime: Runtime | None = None,
) -> Iterator[LiveWhois]:
    runtime = runtime or Runtime.build(settings)
    service = WhoisService(runtime, base_url=BASE_URL, rate_check=rate_check)
    live = LiveWhois(service, limits or WhoisLimits())
    live.start()
    try:
        yield live
    finally:
        live.stop()
        runtime.db.dispose()


def ask(port: int, payload: bytes, *, timeout: float = 30.0) -> bytes:
    """Send `payload` (a query line, CRLF included), then read the answer until the server
    closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(payload)
        return read_all(sock, timeout=timeout)


def read_all(sock: socket.socket, *, timeout: float = 30.0) -> bytes:
    deadline = time.monotonic() + timeout
    chunks = []
    while True:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def query(port: int, line: str) -> str:
    return ask(port, line.encode("utf-8") + b"\r\n").decode("utf-8")
