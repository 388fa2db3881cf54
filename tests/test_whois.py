"""Port 43: the line reader (fuzzed), the service, and the server against bad clients.

Servers run on 127.0.0.1 with short timeouts; every test is bounded in connections and time
and stops its server."""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import itertools
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st
from sqlalchemy.exc import DBAPIError

from rdap import create_app
from rdap.answer_cache import Answer, AnswerCache, AnswerKey
from rdap.cli import cli
from rdap.counters import shared_counters
from rdap.db import Database
from rdap.errors import QueryError
from rdap.escrow.generator import generate_deposit
from rdap.escrow.loader import import_deposit
from rdap.principal import ANONYMOUS, Principal
from rdap.ratelimit import RateLimits, caller_key
from rdap.render.whois_text import WhoisText
from rdap.repository import FactsCache
from rdap.runtime import Runtime
from rdap.settings import Settings
from rdap.whois import QueryLine, WhoisLimits, WhoisService, parse_bind, rate_check
from tests import factories
from tests.live_whois import BASE_URL, LiveWhois, ask, live_whois, query, read_all

FAST = WhoisLimits(
    idle_timeout=0.5,
    read_timeout=1.5,
    write_timeout=1.0,
    max_connections=8,
    per_client_connections=8,
    workers=2,
    shutdown_grace=2.0,
)


# --- the line reader --------------------------------------------------------------------------
def _feed_all(chunks: list[bytes], max_line: int) -> str | Exception:
    line = QueryLine(max_line)
    try:
        for chunk in chunks:
            found = line.feed(chunk)
            if found is not None:
                return found
        return line.finish()
    except QueryError as error:
        return error


@examples(max_examples=400, deadline=None)
@given(data=st.binary(max_size=300), cuts=st.lists(st.integers(0, 300), max_size=8))
def test_any_bytes_in_any_chunks_give_one_line_or_a_query_error(
    data: bytes, cuts: list[int]
) -> None:
    """Whatever arrives, and however TCP splits it: the same outcome as all at once, which is
    a line without its line end or a QueryError; never another exception."""
    bounds = sorted({0, len(data), *(c for c in cuts if c <= len(data))})
    chunks = [data[a:b] for a, b in itertools.pairwise(bounds)]
    whole = _feed_all([data], 64)
    split = _feed_all(chunks, 64)
    if isinstance(whole, Exception):
        assert isinstance(split, QueryError)
        assert str(split) == str(whole)
        return
    assert split == whole
    assert "\n" not in whole
    assert not whole.endswith("\r")
    assert len(whole.encode()) < 64
    first = data.split(b"\n", 1)[0].removesuffix(b"\r")
    assert whole == first.decode("utf-8")


@examples(max_examples=200, deadline=None)
@given(
    text=st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\n"), max_size=40),
    tail=st.binary(),
)
def test_a_text_line_comes_back_whole_and_the_rest_is_ignored(text: str, tail: bytes) -> None:
    data = text.encode("utf-8") + b"\r\n" + tail
    if len(text.encode()) + 2 > 1024:
        return
    assert _feed_all([data], 1024) == text  # only the CR of the CRLF goes


@examples(max_examples=100, deadline=None)
@given(size=st.integers(64, 5000), chunk=st.integers(1, 700))
def test_lines_too_long_are_refused_early(size: int, chunk: int) -> None:
    line = QueryLine(64)
    data = b"a" * size
    fed = []

    def feed_until_refused() -> None:
        while line.feed(data[len(fed) * chunk : (len(fed) + 1) * chunk]) is None:
            fed.append(chunk)

    with pytest.raises(QueryError, match="longer than 64 bytes"):
        feed_until_refused()
    assert len(fed) * chunk < 64  # refused as soon as the limit was reached
    assert len(line._buffer) <= 65  # memory stays bounded by the limit


def test_line_ends_and_encodings() -> None:
    assert _feed_all([b"example.post\r\n"], 64) == "example.post"
    assert _feed_all([b"example.post\n"], 64) == "example.post"
    assert _feed_all([b"example.post\r", b"\n"], 64) == "example.post"
    assert _feed_all([b"example.post"], 64) == "example.post"  # input ended without CRLF
    assert _feed_all(["envíos.post\r\n".encode()], 64) == "envíos.post"
    refused = _feed_all([b"\xff\xfe\r\n"], 64)
    assert isinstance(refused, QueryError)
    assert "UTF-8" in str(refused)


def test_bind_addresses() -> None:
    assert parse_bind("127.0.0.1:4343") == ("127.0.0.1", 4343)
    assert parse_bind("[::1]:43") == ("::1", 43)
    assert parse_bind(":43") == ("0.0.0.0", 43)
    for bad in ("4343", "host:", "host:http", "host:70000"):
        with pytest.raises(ValueError, match="HOST:PORT"):
            parse_bind(bad)


# --- the service --------------------------------------------------------------------------------
@pytest.fixture
def registry(db: Database) -> Database:
    with db.session_scope() as session:
        factories.bind(session)
        registrar = factories.RegistrarFactory(name="Good Registrar AG", iana_id=9999)
        factories.full_domain(session, name="example.post", registrar=registrar)
        factories.full_domain(
            session,
            name="xn--correos-espaa-tkb.post",
            unicode_name="correos-españa.post",
            registrant_kind="natural",
            registrar=registrar,
            marker="Idn",
        )
    return db


@pytest.fixture
def service(settings: Settings, registry: Database) -> Iterator[WhoisService]:
    runtime = Runtime.build(settings)
    yield WhoisService(runtime, base_url=BASE_URL)
    runtime.db.dispose()


def test_domains_nameservers_and_registrars(service: WhoisService) -> None:
    domain = service.answer("EXAMPLE.POST.", "ip:192.0.2.1").decode()
    assert domain.startswith("Domain Name: example.post\r\nRegistry Domain ID: ")
    assert "Registrant Organization: Example Postal Services Ltd\r\n" in domain
    idn = service.answer("Correos-España.post", "ip:192.0.2.1").decode()
    assert idn.startswith(
        "Domain Name: xn--correos-espaa-tkb.post\r\n"
        "Internationalized Domain Name: correos-españa.post\r\n"
    )
    assert "Registrant Name: REDACTED FOR PRIVACY\r\n" in idn
    assert "Registrant Email: https://rdap.example/contact?domain=" in idn
    assert service.answer("xn--correos-espaa-tkb.post", "ip:192.0.2.1") == idn.encode()
    nameserver = service.answer("ns1.example.post", "ip:192.0.2.1").decode()
    assert nameserver.startswith("Server Name: ns1.example.post\r\nIP Address: 192.0.2.1\r\n")
    by_id = service.answer("9999", "ip:192.0.2.1")
    assert by_id.startswith(b"Registrar: Good Registrar AG\r\n")
    assert service.answer("good registrar ag", "ip:192.0.2.1") == by_id
    assert service.answer("registrar Good Registrar AG", "ip:192.0.2.1") == by_id


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        ("unknown.post", b"Not Found: no domain unknown.post in this registry\r\n"),
        ("nameserver ns9.example.post", b"Not Found: no nameserver ns9.example.post in this "
         b"registry\r\n"),
        ("Nobody Registrar", b"Not Found: no such registrar in this registry\r\n"),
        ("bad_name.post", b"Bad Request: a label is not a valid LDH label (letters, digits, "
         b"inner hyphens)\r\n"),
        ("", b"Bad Request: empty query; send a domain name, a name server or a registrar\r\n"),
    ],
)  # fmt: skip
def test_misses_and_bad_queries_are_one_line(
    service: WhoisService, line: str, answer: bytes
) -> None:
    assert service.answer(line, "ip:192.0.2.1") == answer


def test_an_internal_error_is_one_line_and_logs_no_data(
    service: WhoisService, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Broken:
        """A renderer that fails with a message full of data, as a bug might."""

        def __init__(self, real: WhoisText) -> None:
            self.render_error = real.render_error

        def render(self, _document: object) -> bytes:
            raise RuntimeError("Registrant Person secret@mail.example")

    monkeypatch.setattr(service, "renderer", Broken(service.renderer))
    with caplog.at_level(logging.DEBUG, logger="rdap.whois"):
        answer = service.answer("example.post", "ip:192.0.2.1")
    assert answer == b"Service Unavailable: internal error; try again\r\n"
    assert "RuntimeError" in caplog.text
    assert "secret" not in caplog.text
    assert "example.post" not in caplog.text


def test_a_database_that_is_not_there_is_one_line_and_logs_no_detail(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    empty = dataclasses.replace(settings, database_url=f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    runtime = Runtime.build(empty)
    try:
        service = WhoisService(runtime, base_url=BASE_URL)
        with caplog.at_level(logging.DEBUG, logger="rdap.whois"):
            answer = service.answer("example.post", "ip:192.0.2.1")
    finally:
        runtime.db.dispose()
    assert answer == (
        b"Service Unavailable: the registry database is not available; try again later\r\n"
    )
    assert "OperationalError" in caplog.text
    assert "domains" not in caplog.text  # the missing table is the cause: log only its kind


def test_an_answer_that_takes_too_long_is_one_line(settings: Settings, registry: Database) -> None:
    def slow_check(_client: str) -> int | None:
        time.sleep(5)  # stands in for a database that hangs (it runs in the pool's thread)
        return 1  # (then no database work is left for the abandoned thread)

    limits = dataclasses.replace(FAST, answer_timeout=0.5)
    with live_whois(settings, limits, rate_check=slow_check) as server:
        started = time.monotonic()
        assert ask(server.port, b"example.post\r\n") == (
            b"Service Unavailable: the answer is taking too long; try again later\r\n"
        )
        assert time.monotonic() - started < 4


def test_a_limited_client_gets_one_line(settings: Settings, registry: Database) -> None:
    runtime = Runtime.build(settings)
    try:
        seen: list[str] = []

        def limited(client: str) -> int | None:
            seen.append(client)
            return 17

        service = WhoisService(runtime, base_url=BASE_URL, rate_check=limited)
        assert service.answer("example.post", "ip6:2001:db8::/64") == (
            b"Too Many Requests: rate limit exceeded; retry after 17 seconds\r\n"
        )
        assert seen == ["ip6:2001:db8::/64"]
    finally:
        runtime.db.dispose()


# --- kept answers (rdap.answer_cache) ----------------------------------------------------------
def _computed_calls(service: WhoisService, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Runs of the pipeline behind `service` (a kept answer skips it)."""
    calls: list[object] = []
    real = service.computed

    def counted(queries: tuple[object, ...]) -> tuple[bytes, int, object, int]:
        calls.append(queries)
        return real(queries)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "computed", counted)
    return calls


def test_a_kept_answer_is_the_computed_answer_for_every_spelling(
    service: WhoisService, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = AnswerCache(1 << 20)
    service.runtime.answers = cache
    calls = _computed_calls(service, monkeypatch)
    miss = service.answer("example.post", "ip:192.0.2.1")
    assert miss.startswith(b"Domain Name: example.post\r\n")
    kept = cache.bytes_used
    assert kept > 0
    for spelling in ("example.post", "EXAMPLE.post.", "  Example.Post  ", "eXample.POST."):
        assert service.answer(spelling, "ip:192.0.2.1") == miss
    assert len(calls) == 1  # one run of the pipeline; every other spelling was a hit
    assert cache.bytes_used == kept  # and they share its one entry
    # Asked as a domain only, the query differs (no name server fallback): its own entry.
    assert service.answer("domain example.post", "ip:192.0.2.1") == miss
    assert len(calls) == 2
    # A not-found line is kept too, and is the same line on a hit.
    missing = service.answer("unknown.post", "ip:192.0.2.1")
    assert missing == b"Not Found: no domain unknown.post in this registry\r\n"
    assert service.answer("UNKNOWN.POST.", "ip:192.0.2.1") == missing
    assert len(calls) == 3
    # U-labels and A-labels of one IDN are different queries (the answer may differ).
    idn = service.answer("correos-españa.post", "ip:192.0.2.1")
    assert service.answer("xn--correos-espaa-tkb.post", "ip:192.0.2.1") == idn
    assert len(calls) == 5


def test_answers_are_the_same_with_and_without_kept_answers(service: WhoisService) -> None:
    lines = ["example.post", "Correos-España.post", "ns1.example.post", "9999",
             "good registrar ag", "unknown.post", "Nobody Registrar"]  # fmt: skip
    service.runtime.answers = None
    computed = [service.answer(line, "ip:192.0.2.1") for line in lines]
    service.runtime.answers = AnswerCache(1 << 20)
    assert [service.answer(line, "ip:192.0.2.1") for line in lines] == computed  # misses
    assert [service.answer(line, "ip:192.0.2.1") for line in lines] == computed  # hits


def test_a_new_import_is_answered_within_the_data_version_ttl(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    """With data_version_ttl = 5, an answer kept under the old version may be served for up to
    5 s after an import's commit, never after."""
    runtime = Runtime.build(settings)
    try:
        clock = [1000.0]
        runtime.facts = FactsCache(ttl=5, clock=lambda: clock[0])
        runtime.answers = AnswerCache(1 << 20)
        service = WhoisService(runtime, base_url=BASE_URL)
        one, two = tmp_path / "one.xml", tmp_path / "two.xml"
        generate_deposit(one, size=30, seed=1)
        generate_deposit(two, size=30, seed=2)
        import_deposit(db, one)
        before = set(re.findall(r"<rdeDomain:name>([^<]+)<", one.read_text(encoding="utf-8")))
        after = set(re.findall(r"<rdeDomain:name>([^<]+)<", two.read_text(encoding="utf-8")))
        gone = min(before - after)
        coming = min(after - before)
        kept = service.answer(gone, "ip:192.0.2.1")
        assert kept.startswith(b"Domain Name: ")
        assert service.answer(coming, "ip:192.0.2.1").startswith(b"Not Found: ")
        import_deposit(db, two)
        clock[0] += 4.9
        assert service.answer(gone, "ip:192.0.2.1") == kept  # within the bound
        assert service.answer(coming, "ip:192.0.2.1").startswith(b"Not Found: ")
        clock[0] += 0.2
        assert service.answer(gone, "ip:192.0.2.1").startswith(b"Not Found: ")
        assert service.answer(coming, "ip:192.0.2.1").startswith(b"Domain Name: ")
    finally:
        runtime.db.dispose()


class _WatchedCache(AnswerCache):
    """An answer cache that records every use."""

    def __init__(self) -> None:
        super().__init__(1 << 20)
        self.uses: list[str] = []

    def get(self, key: AnswerKey, principal: Principal) -> Answer | None:
        self.uses.append("get")
        return super().get(key, principal)

    def keep(self, key: AnswerKey, principal: Principal, *args: Any) -> bool:
        self.uses.append("keep")
        return super().keep(key, principal, *args)


def test_errors_never_reach_the_cache_and_every_query_spends_the_budget(
    settings: Settings, registry: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = Runtime.build(settings)
    try:
        cache = runtime.answers = _WatchedCache()
        checks: list[str] = []
        refuse = [False]

        def check(client: str) -> int | None:
            checks.append(client)
            return 9 if refuse[0] else None

        service = WhoisService(runtime, base_url=BASE_URL, rate_check=check)
        answer = service.answer("example.post", "ip:192.0.2.1")
        assert service.answer("example.post", "ip:192.0.2.1") == answer  # a hit
        assert cache.uses == ["get", "keep", "get"]
        assert len(checks) == 2  # the budget is spent on hits too
        refuse[0] = True
        limited = service.answer("example.post", "ip:192.0.2.1")
        assert limited == b"Too Many Requests: rate limit exceeded; retry after 9 seconds\r\n"
        assert cache.uses == ["get", "keep", "get"]  # refused before the cache
        refuse[0] = False
        assert service.answer("bad_name.post", "ip:192.0.2.1").startswith(b"Bad Request: ")
        assert cache.uses == ["get", "keep", "get"]  # bad queries are not asked for

        def broken(_queries: object) -> object:
            raise DBAPIError("SELECT", {}, OSError("database host down"))

        monkeypatch.setattr(service, "computed", broken)
        assert service.answer("other.post", "ip:192.0.2.1") == (
            b"Service Unavailable: the registry database is not available; try again later\r\n"
        )
        assert cache.uses == ["get", "keep", "get", "get"]  # asked, nothing kept
        monkeypatch.undo()
        assert service.answer("other.post", "ip:192.0.2.1").startswith(b"Not Found: ")
        assert len(checks) == 6
    finally:
        runtime.db.dispose()


# --- the server ----------------------------------------------------------------------------------
@pytest.fixture
def live(settings: Settings, registry: Database) -> Iterator[LiveWhois]:
    with live_whois(settings, FAST) as server:
        yield server


def test_an_answer_over_tcp_is_the_service_answer(live: LiveWhois) -> None:
    answer = ask(live.port, b"example.post\r\n")
    assert answer == live.service.answer("example.post", "ip:127.0.0.1")
    assert (
        ask(live.port, "correos-españa.post\r\n".encode())
        .decode()
        .startswith("Domain Name: xn--correos-espaa-tkb.post\r\n")
    )


@pytest.mark.parametrize(
    ("payload", "answer"),
    [
        (b"a" * 5000, b"Bad Request: the query line is longer than 1024 bytes\r\n"),
        (b"\x00\xff\xfe\x80binary\r\n", b"Bad Request: the query is not valid UTF-8\r\n"),
        (b"exam\x00ple.post\r\n", b"Bad Request: the name contains a control, format or "
         b"unassigned character\r\n"),
        (b"\r\n", b"Bad Request: empty query; send a domain name, a name server or a "
         b"registrar\r\n"),
        (b"example.post\r\nsecond.post\r\n", None),
    ],
)  # fmt: skip
def test_bad_lines_get_one_error_line(live: LiveWhois, payload: bytes, answer: bytes) -> None:
    got = ask(live.port, payload)
    if answer is None:  # one query per connection: the second line is ignored
        assert got.startswith(b"Domain Name: example.post\r\n")
        assert b"second" not in got
    else:
        assert got == answer
    assert query(live.port, "example.post").startswith("Domain Name: example.post")


def _wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_idle_and_trickling_clients_are_cut_off(settings: Settings, registry: Database) -> None:
    limits = dataclasses.replace(FAST, idle_timeout=1.0, read_timeout=2.5)
    with live_whois(settings, limits) as server:
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as idle:
            assert read_all(idle, timeout=10) == (
                b"Bad Request: nothing received for 1 seconds; send one query line\r\n"
            )
        assert 0.9 < time.monotonic() - started < 5
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as slow:
            for byte in b"www." * 10 + b"example.post":  # a byte every 0.1 s: never done
                try:
                    slow.sendall(bytes([byte]))
                except OSError:
                    break
                time.sleep(0.1)
            assert read_all(slow, timeout=10) == (
                b"Bad Request: no complete query line within 2.5 seconds\r\n"
            )
        assert 2.4 < time.monotonic() - started < 8
        _wait_until(lambda: server.open_connections() == 0)


def test_a_client_that_never_reads_is_dropped_and_others_are_served(
    settings: Settings, registry: Database, tmp_path: Path
) -> None:
    """An answer far larger than the socket buffers; its client reads nothing. The server gives
    up after the write timeout and keeps answering everyone else meanwhile."""
    service_file = tmp_path / "service.toml"
    text = settings.service_file.read_text(encoding="utf-8")
    huge = '"' + "x" * 1000 + '",'
    service_file.write_text(
        text.replace("terms_of_use = [", "terms_of_use = [" + huge * 8000), encoding="utf-8"
    )
    custom = dataclasses.replace(settings, service_file=service_file)
    with live_whois(custom, dataclasses.replace(FAST, write_timeout=3.0)) as server:
        stuck = socket.socket()
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.connect(("127.0.0.1", server.port))
        stuck.sendall(b"example.post\r\n")
        _wait_until(lambda: server.open_connections() == 1)
        assert ask(server.port, b"nobody.post\r\n") == (
            b"Not Found: no domain nobody.post in this registry\r\n"
        )
        assert server.open_connections() == 1  # answered while the stuck one still waits
        _wait_until(lambda: server.open_connections() == 0, timeout=20)  # then cut off
        stuck.close()


def test_connections_beyond_the_limits_are_turned_away(
    settings: Settings, registry: Database
) -> None:
    limits = dataclasses.replace(FAST, max_connections=4, per_client_connections=3)
    with live_whois(settings, limits) as server:
        held = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(3)]
        try:
            _wait_until(lambda: server.open_connections() == 3)
            busy = ask(server.port, b"example.post\r\n")  # a fourth from the same client
            assert busy == b"Service Unavailable: too many connections; try again later\r\n"
        finally:
            for sock in held:
                sock.close()
        _wait_until(lambda: server.open_connections() == 0)
        assert query(server.port, "example.post").startswith("Domain Name: example.post")


def test_200_connections_of_which_20_are_slow(settings: Settings, registry: Database) -> None:
    """180 clients ask and read at once while 20 trickle their line: every fast client gets its
    full answer, every slow one its timeout line, and the server serves on."""
    limits = WhoisLimits(
        idle_timeout=2.0,
        read_timeout=3.0,
        write_timeout=5.0,
        max_connections=256,
        per_client_connections=256,  # all 200 come from 127.0.0.1
        workers=4,
    )
    with live_whois(settings, limits) as server:
        expected = server.service.answer("example.post", "ip:127.0.0.1")

        def slow(_: int) -> bytes:
            """A byte every 0.2 s: never idle for long, never done within the 3 s."""
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
                for byte in b"www." * 10 + b"example.post":
                    try:
                        sock.sendall(bytes([byte]))
                    except OSError:
                        break
                    time.sleep(0.2)
                return read_all(sock, timeout=10)

        def fast(_: int) -> bytes:
            return ask(server.port, b"example.post\r\n", timeout=30)

        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=200) as pool:
            slow_results = [pool.submit(slow, i) for i in range(20)]
            time.sleep(0.2)  # the slow ones are in before the rush
            fast_results = list(pool.map(fast, range(180)))
            fast_done = time.monotonic() - started
            slow_answers = [f.result(timeout=30) for f in slow_results]
        assert fast_results == [expected] * 180
        assert fast_done < 20
        # Each slow client gets one timeout line (the idle one only if this busy host stalled
        # a sender for 2 s) and is closed.
        cut_off = {
            b"Bad Request: no complete query line within 3 seconds\r\n",
            b"Bad Request: nothing received for 2 seconds; send one query line\r\n",
        }
        assert all(answer in cut_off for answer in slow_answers), slow_answers
        assert server.open_connections() == 0
        assert ask(server.port, b"example.post\r\n") == expected


# --- rdapd whois ---------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def rdapd_whois(settings: Settings, **env: str) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """`rdapd whois` on a free port of 127.0.0.1 with these settings (rate limits off unless
    `env` says otherwise), its output in `<instance>/whois.log`; killed if still running at the
    end of the block."""
    port = _free_port()
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    variables = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RDAP_")},
        "RDAP_DATABASE_URL": settings.database_url,
        "RDAP_INSTANCE_PATH": str(settings.instance_path),
        "RDAP_SECRET_KEY": settings.secret_key,
        "RDAP_RATELIMIT_ENABLED": "false",
        "RDAP_BASE_URL": BASE_URL,
        **env,
    }
    command = [sys.executable, "-m", "rdap", "whois", "--bind", f"127.0.0.1:{port}"]
    log_file = settings.instance_path / "whois.log"
    with log_file.open("wb") as log_out:
        process = subprocess.Popen(
            command, env=variables, stdout=log_out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, log_file.read_text()
                assert time.monotonic() < deadline, "rdapd whois did not start"
                time.sleep(0.2)
        yield port, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def test_rdapd_whois_shuts_down_gracefully_on_sigterm(
    settings: Settings, registry: Database, tmp_path: Path
) -> None:
    """SIGTERM: no new connections, the answer under way is finished, exit status 0; the log
    says so and holds nothing a caller sent or was sent."""
    instance = dataclasses.replace(settings, instance_path=tmp_path / "instance")
    with rdapd_whois(instance) as (port, process):
        under_way = socket.create_connection(("127.0.0.1", port), timeout=10)
        under_way.sendall(b"example")
        time.sleep(0.3)
        process.send_signal(signal.SIGTERM)

        def refused() -> bool:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
            except ConnectionRefusedError:
                return True
            return False

        _wait_until(refused)
        under_way.sendall(b".post\r\n")
        assert read_all(under_way, timeout=10).startswith(b"Domain Name: example.post\r\n")
        under_way.close()
        assert process.wait(timeout=20) == 0
    log = (instance.instance_path / "whois.log").read_text()
    assert "serving WHOIS on 127.0.0.1:" in log
    assert "stopping" in log
    assert "stopped" in log
    assert "example" not in log


# --- rate limits: RDAP's public budget, outside Flask --------------------------------------------
def _limits(settings: Settings, **changes: object) -> RateLimits:
    values: dict[str, object] = {"ratelimit_enabled": True, "ratelimit_public": "3/minute"}
    values.update(changes)
    return RateLimits.from_settings(dataclasses.replace(settings, **values))  # type: ignore[arg-type]


def test_the_public_budget_is_spent_per_query(settings: Settings) -> None:
    limits = _limits(settings, ratelimit_staff="1000/minute")
    check = rate_check(limits)
    neighbours = [caller_key(ANONYMOUS, f"2001:db8:0:1::{n}") for n in (1, 2, 3)]
    assert [check(key) for key in neighbours] == [None] * 3  # one /64: one budget
    retry_after = check(caller_key(ANONYMOUS, "2001:db8:0:1:ffff::9"))
    assert retry_after is not None
    assert 1 <= retry_after <= 60
    assert check(caller_key(ANONYMOUS, "2001:db8:0:2::1")) is None  # the next /64
    assert rate_check(_limits(settings, ratelimit_enabled=False))("ip:192.0.2.9") is None


def test_a_limited_client_is_refused_over_tcp_and_others_are_not(
    settings: Settings, registry: Database
) -> None:
    checker = rate_check(_limits(settings))
    with live_whois(settings, FAST, rate_check=checker) as server:
        for _ in range(5):  # connected and closed, nothing sent (a health check): no query
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as probe:
                probe.shutdown(socket.SHUT_WR)
                assert read_all(probe, timeout=10) == b""
        answers = [ask(server.port, b"example.post\r\n") for _ in range(4)]
    assert all(a.startswith(b"Domain Name: example.post\r\n") for a in answers[:3])
    assert answers[3].startswith(b"Too Many Requests: rate limit exceeded; retry after ")
    assert answers[3].endswith(b" seconds\r\n")
    assert answers[3].count(b"\r\n") == 1


@pytest.fixture
def short_instance() -> Iterator[Path]:
    """An instance folder with a short path: a unix socket's path has at most 107 bytes."""
    with tempfile.TemporaryDirectory(prefix="rdapd-", dir="/tmp") as tmp:
        yield Path(tmp) / "instance"


def test_rdapd_whois_spends_the_budget_rdapd_serve_spends(
    settings: Settings, registry: Database, short_instance: Path
) -> None:
    """With the default memory:// storage, `rdapd whois` counts in the private Redis the RDAP
    server of its instance runs: one client, one budget over both channels."""
    if not shutil.which("redis-server"):
        pytest.fail("redis-server not installed (scripts/test requires it)")
    limited = dataclasses.replace(
        settings,
        instance_path=short_instance,
        ratelimit_enabled=True,
        ratelimit_public="3/minute",
        ratelimit_storage_uri="memory://",
    )
    with shared_counters(limited, processes=2) as served:  # as `rdapd serve` does
        assert served.ratelimit_storage_uri.startswith("redis+unix://")
        http = create_app(served).test_client()  # callers from 127.0.0.1, as below
        assert [http.get("/domain/example.post").status_code for _ in range(2)] == [200, 200]
        with rdapd_whois(
            limited, RDAP_RATELIMIT_ENABLED="true", RDAP_RATELIMIT_PUBLIC="3/minute"
        ) as (port, _process):
            assert query(port, "example.post").startswith("Domain Name: example.post\r\n")
            assert query(port, "example.post").startswith("Too Many Requests: ")
        assert http.get("/domain/example.post").status_code == 429


def test_rdapd_whois_refuses_a_bad_bind_address(settings: Settings, tmp_path: Path) -> None:
    env = {
        "RDAP_DATABASE_URL": settings.database_url,
        "RDAP_INSTANCE_PATH": str(tmp_path / "instance"),
        "RDAP_SECRET_KEY": settings.secret_key,
    }
    result = CliRunner().invoke(cli, ["whois", "--bind", "localhost"], env=env)
    assert result.exit_code == 1
    assert "rdapd: whois: --bind takes HOST:PORT, not 'localhost'" in result.output
