"""WHOIS on port 43 (RFC 3912): read one query line → lookup() → WHOIS text, then close.

An asyncio server. Reading, writing and their limits live on the event loop; the pipeline
(database, redaction, rendering) runs in a bounded thread pool, so a slow query never stalls
the loop. Every caller is the public: port 43 has no authentication, so answers and not-found
lines are kept in the runtime's answer cache for the public role (rdap.answer_cache), keyed by
the canonical text of the parsed query; a kept answer skips the pipeline, never the rate limit.
Bad clients get one error line or are closed: over-long, binary or empty lines, idle or slow
senders, more connections than the server or one client may hold, and clients that never read
their answer.

Nothing a caller sends is logged, and no answer is: the log says when the service starts and
stops and, for an unexpected failure, the kind of error only.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import logging
import signal
import traceback
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from rdap.answer_cache import AnswerKey
from rdap.counters import shared_counters
from rdap.document import Links
from rdap.errors import NotFound, QueryError, RateLimited, RdapError, ServiceUnavailable
from rdap.lookup import LookupContext, lookup
from rdap.principal import ANONYMOUS, PUBLIC
from rdap.query import DomainLookup, NameserverLookup, Query, RegistrarLookup, parse_whois
from rdap.ratelimit import LOOKUP, RateLimits, caller_key
from rdap.redaction import RedactedDocument
from rdap.render import Renderer
from rdap.render.contacts import ContactReader
from rdap.render.whois_text import WhoisText
from rdap.repository import RegistryFacts, Repository, read_registry_facts
from rdap.runtime import Runtime

log = logging.getLogger("rdap.whois")

# Links in port-43 answers (the contact form) need the public base URL of the service; without
# RDAP_BASE_URL, this is assumed (as for the OAuth issuer).
FALLBACK_BASE_URL = "http://localhost:8080"


@dataclasses.dataclass(frozen=True)
class WhoisLimits:
    """How much one connection, one client and the whole server may take."""

    max_line: int = 1024  # bytes of the query line, its CRLF included
    idle_timeout: float = 5.0  # seconds without a byte while the query line is incomplete
    read_timeout: float = 10.0  # seconds for the whole query line (a trickle is cut off too)
    write_timeout: float = 10.0  # seconds to hand the answer over (a client that never reads)
    answer_timeout: float = 30.0  # seconds for the lookup itself (a database that hangs)
    max_connections: int = 256  # open connections; more are told to retry later
    per_client_connections: int = 32  # open connections per client (IPv4 address, IPv6 /64)
    workers: int = 4  # threads running the pipeline
    shutdown_grace: float = 10.0  # seconds SIGTERM waits for answers under way


class QueryLine:
    """Collects the bytes of one query line; no I/O, so any byte sequence can be fed to it.

    The line ends at LF (RFC 3912 sends CR LF; a lone LF is accepted), or at the end of input.
    Bytes after the line are ignored: one query per connection."""

    def __init__(self, max_line: int) -> None:
        self.max_line = max_line
        self._buffer = bytearray()

    def feed(self, data: bytes) -> str | None:
        """The query once its line is complete, else None. QueryError for a line that is too
        long or not UTF-8."""
        seen = len(self._buffer)
        self._buffer += data[: self.max_line - seen]
        end = self._buffer.find(b"\n", seen)
        if end >= 0:
            return self._decode(bytes(self._buffer[:end]))
        if len(self._buffer) >= self.max_line:
            raise QueryError(f"the query line is longer than {self.max_line} bytes")
        return None

    def finish(self) -> str:
        """The query when the input ends without a line end."""
        return self._decode(bytes(self._buffer))

    @staticmethod
    def _decode(line: bytes) -> str:
        if line.endswith(b"\r"):
            line = line[:-1]
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError:
            raise QueryError("the query is not valid UTF-8") from None


# The "media type" of port-43 answers in the answer cache's keys: distinct from every HTTP one.
MEDIA_TYPE = "text/plain; whois"


def query_text(queries: tuple[Query, ...]) -> str:
    """The canonical text of parsed queries: spellings that ask the same (`EXAMPLE.post.`,
    `example.post`) share it, and so share a kept answer. A U-label query keeps its own text:
    its answer may read differently."""
    parts = []
    for query in queries:
        if isinstance(query, DomainLookup | NameserverLookup):
            kind = "domain" if isinstance(query, DomainLookup) else "nameserver"
            parts.append(f"{kind} {query.name.ldh} {'u' if query.as_unicode else 'a'}")
        elif isinstance(query, RegistrarLookup):
            parts.append(
                f"registrar id {query.iana_id}" if query.name is None else f"registrar {query.name}"
            )
        else:  # parse_whois makes none other; a new kind must say how it is spelled here
            raise TypeError(f"no canonical text for {type(query).__name__}")
    return "\t".join(parts)


# Whether a client may run one more query now: None if so, else the seconds to wait.
RateCheck = Callable[[str], int | None]


def no_limit(_client: str) -> int | None:
    return None


def rate_check(limits: RateLimits) -> RateCheck:
    """The public budget RDAP lookups draw on, keyed alike (IPv4 address, IPv6 /64)."""
    cost = limits.cost(LOOKUP)

    def check(client: str) -> int | None:
        verdict = limits.hit(client, role=PUBLIC, cost=cost)
        return None if verdict.allowed else verdict.retry_after

    return check


class WhoisService:
    """Answers one query line for one client: the pipeline, as every channel runs it."""

    def __init__(
        self, runtime: Runtime, *, base_url: str, rate_check: RateCheck = no_limit
    ) -> None:
        self.runtime = runtime
        self.base_url = base_url.rstrip("/")
        self.rate_check = rate_check
        self.renderer: Renderer = WhoisText(
            reader=ContactReader.for_policy(runtime.policy), profile=runtime.profile.whois
        )

    def answer(self, line: str, client: str) -> bytes:
        """The bytes to send back: an answer, or one error line. Never raises."""
        try:
            retry_after = self.rate_check(client)
            if retry_after is not None:
                raise RateLimited(
                    f"rate limit exceeded; retry after {retry_after} seconds",
                    retry_after=retry_after,
                )
            return self.answer_queries(parse_whois(line))
        except RdapError as error:
            return self.renderer.render_error(error)
        except (DBAPIError, PoolTimeout, DisconnectionError) as error:
            # Unreachable, missing or hung (its unit of work cut at RDAP_DATABASE_TIMEOUT, see
            # rdap.db): the service, not the query, is at fault; the cause may name hosts or
            # tables, so the log gets its kind only.
            # Prepared reads (rdap.prepared) wrap the driver's error: its kind is the cause's.
            cause = getattr(error, "orig", None) or error
            log.error("database error answering a port-43 query: %s", type(cause).__name__)
            return self.renderer.render_error(
                ServiceUnavailable("the registry database is not available; try again later")
            )
        except Exception as error:  # the caller gets one line; the log, the kind of error
            # Where it failed, without the message or source lines: either may hold data.
            where = " < ".join(
                f"{frame.name} ({frame.filename}:{frame.lineno})"
                for frame in reversed(traceback.extract_tb(error.__traceback__))
            )
            log.error(
                "internal error answering a port-43 query: %s in %s", type(error).__name__, where
            )
            return self.renderer.render_error(ServiceUnavailable("internal error; try again"))

    def answer_queries(self, queries: tuple[Query, ...]) -> bytes:
        """A kept answer if there is one (rdap.answer_cache, public role), else the pipeline,
        keeping its answer or its not-found line. Other errors raise and are never kept."""
        cache = self.runtime.answers
        if cache is None:
            return self.computed(queries)[0]
        key = AnswerKey(
            version=self.registry_facts().version,
            media_type=MEDIA_TYPE,
            base_url=self.base_url,
            request_url=query_text(queries),
            role=ANONYMOUS.role,
        )
        hit = cache.get(key, ANONYMOUS)
        if hit is not None:
            return hit.body
        body, status, document, version = self.computed(queries)
        cache.keep(dataclasses.replace(key, version=version), ANONYMOUS, status, body, document)
        return body

    def registry_facts(self) -> RegistryFacts:
        """Data version and database stamp, read at most once per data_version_ttl seconds."""
        rt = self.runtime

        def load() -> RegistryFacts:
            with rt.db.read_connection() as connection:
                return read_registry_facts(connection)

        return rt.facts.current(load)

    def computed(
        self, queries: tuple[Query, ...]
    ) -> tuple[bytes, int, RedactedDocument | None, int]:
        """Run the pipeline: (answer, status, the redacted document rendered (None for a
        not-found line), the data version of what was read).

        The version is read on the connection the data is read on, so an answer is never kept
        under a newer version than the data it shows (a replica behind another)."""
        rt = self.runtime
        ctx = LookupContext(
            now=dt.datetime.now(dt.UTC),
            links=Links(base_url=self.base_url, request_url=self.base_url),
            contact_uri_template=rt.profile.contact_uri,
        )
        with rt.db.read_connection() as connection:
            facts = read_registry_facts(connection)
            found = self._first_found(queries, Repository(connection, facts), ctx)
        if isinstance(found, NotFound):
            return self.renderer.render_error(found), found.status, None, facts.version
        return self.renderer.render(found), 200, found, facts.version

    def _first_found(
        self, queries: tuple[Query, ...], repo: Repository, ctx: LookupContext
    ) -> RedactedDocument | NotFound:
        """The first of `queries` that finds something (a bare name: domain, then name
        server), else the first query's NotFound."""
        first: NotFound | None = None
        for query in queries:
            try:
                return lookup(query, ANONYMOUS, repo=repo, policy=self.runtime.policy, ctx=ctx)
            except NotFound as missing:
                first = first or missing
        return first or NotFound()


class WhoisServer:
    """The port-43 listener: limits on the loop, the pipeline in a bounded thread pool."""

    def __init__(self, service: WhoisService, limits: WhoisLimits | None = None) -> None:
        self.service = service
        self.limits = limits or WhoisLimits()
        self.pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=self.limits.workers, thread_name_prefix="whois"
        )
        # Open connections, in all and per client: read and changed on the event loop only.
        self.active = 0
        self.per_client: collections.Counter[str] = collections.Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) actually bound (port 0 asks for any free port)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the WHOIS server is not listening")
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(
            self._connection, host, port, reuse_address=True, backlog=512
        )

    async def stop(self) -> None:
        """Stop listening, give answers under way `shutdown_grace` seconds, then cut them."""
        if self._server is not None:
            self._server.close()
        pending = {t for t in self._tasks if not t.done()}
        if pending:
            _, late = await asyncio.wait(pending, timeout=self.limits.shutdown_grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=1)
        if self._server is not None:
            await self._server.wait_closed()
        self.pool.shutdown(wait=False, cancel_futures=True)

    # --- one connection -------------------------------------------------------------------
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        peer = writer.get_extra_info("peername")
        # Every caller is the public: counted per IPv4 address or IPv6 /64, as RDAP counts them.
        client = caller_key(ANONYMOUS, peer[0] if isinstance(peer, tuple) and peer else None)
        limits = self.limits
        if self.active >= limits.max_connections or (
            self.per_client[client] >= limits.per_client_connections
        ):
            busy = ServiceUnavailable("too many connections; try again later")
            await self._send(writer, self.service.renderer.render_error(busy))
            return
        self.active += 1
        self.per_client[client] += 1
        try:
            try:
                line = await self._read_line(reader)
            except RdapError as error:
                answer = self.service.renderer.render_error(error)
            else:
                if line is None:  # closed without sending a byte (a health check): no query
                    await self._send(writer, b"")
                    return
                answer = await self._answer(line, client)
            await self._send(writer, answer)
        except asyncio.CancelledError:
            writer.transport.abort()
            raise
        except (ConnectionError, OSError):
            writer.transport.abort()
        finally:
            self.active -= 1
            self.per_client[client] -= 1
            if self.per_client[client] <= 0:
                del self.per_client[client]

    async def _answer(self, line: str, client: str) -> bytes:
        """The service's answer from the thread pool; one error line if it takes too long (the
        thread finishes on its own; the pool's size bounds how many can)."""
        loop = asyncio.get_running_loop()
        pending = loop.run_in_executor(self.pool, self.service.answer, line, client)
        try:
            async with asyncio.timeout(self.limits.answer_timeout):
                return await pending
        except TimeoutError:
            log.warning("a port-43 answer took over %g s", self.limits.answer_timeout)
            late = ServiceUnavailable("the answer is taking too long; try again later")
            return self.service.renderer.render_error(late)

    async def _read_line(self, reader: asyncio.StreamReader) -> str | None:
        """The query line; None if the client closed without sending anything."""
        limits = self.limits
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limits.read_timeout
        line = QueryLine(limits.max_line)
        received = False
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise QueryError(f"no complete query line within {limits.read_timeout:g} seconds")
            try:
                async with asyncio.timeout(min(limits.idle_timeout, remaining)):
                    data = await reader.read(limits.max_line)
            except TimeoutError:
                if loop.time() >= deadline:
                    raise QueryError(
                        f"no complete query line within {limits.read_timeout:g} seconds"
                    ) from None
                raise QueryError(
                    f"nothing received for {limits.idle_timeout:g} seconds; send one query line"
                ) from None
            if not data:
                return line.finish() if received else None
            received = True
            found = line.feed(data)
            if found is not None:
                return found

    async def _send(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        """Hand the answer over and close; a client that does not take it within the write
        timeout is cut off (its unread answer is dropped)."""
        try:
            writer.write(data)
            async with asyncio.timeout(self.limits.write_timeout):
                await writer.drain()
                writer.close()
                await writer.wait_closed()
        except (TimeoutError, ConnectionError, OSError):
            writer.transport.abort()


def parse_bind(bind: str) -> tuple[str, int]:
    """HOST:PORT ("[::1]:43" for IPv6) → (host, port); ValueError if it is neither."""
    host, sep, port = bind.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--bind takes HOST:PORT, not {bind!r}")
    return host.removeprefix("[").removesuffix("]") or "0.0.0.0", int(port)  # noqa: S104


def run(
    service: WhoisService,
    bind: str,
    limits: WhoisLimits | None = None,
    *,
    on_ready: Callable[[tuple[str, int]], None] | None = None,
) -> None:
    """Serve until SIGTERM or SIGINT, then shut down gracefully."""
    host, port = parse_bind(bind)

    async def main() -> None:
        server = WhoisServer(service, limits)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await server.start(host, port)
        if on_ready is not None:
            on_ready(server.address)
        log.info("serving WHOIS on %s:%d", *server.address)
        await stop.wait()
        log.info("stopping: no new connections; waiting for answers under way")
        await server.stop()
        log.info("stopped")

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


def serve_from_runtime(runtime: Runtime, bind: str) -> None:
    """`rdapd whois`: the service with the runtime's settings, limits and rate limits."""
    settings = runtime.settings
    parse_bind(bind)  # a bad --bind is an error before anything starts
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    base_url = settings.base_url
    if not base_url:
        log.warning("RDAP_BASE_URL is not set: links in answers start with %s", FALLBACK_BASE_URL)
        base_url = FALLBACK_BASE_URL
    # One budget per client with `rdapd serve`: the configured storage, else the private Redis
    # of this instance (rdap/counters.py), started here if no server of the instance runs one.
    with shared_counters(settings, processes=1) as counted:
        checker = rate_check(RateLimits.from_settings(counted))
        service = WhoisService(runtime, base_url=base_url, rate_check=checker)
        run(service, bind)
