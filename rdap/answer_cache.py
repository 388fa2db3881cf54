"""Answer cache: rendered answers kept per data version and redaction outcome, so a repeated
query skips the pipeline; an answer is only ever handed to a caller with the same outcome.

What decides an answer's bytes, and so its key:

- the request: response format (media type), base URL and request URL (links carry both);
- the data version (rdap.data_version), which every write that changes an answer bumps;
- the redaction outcome: the caller's role and whether the caller sponsors the object
  (`Principal.sponsors`). Sponsorship is known only once the object is read, so each answer
  carries the sponsoring registrar it was built against and whether its caller was that
  registrar, and is handed only to callers for whom `sponsors()` gives the same result: one
  registrar's own answer never reaches another registrar, a requester or the public;
- the clock, for answers that read differently later with no write (a contact's verification
  turns stale at its due date): such an answer expires then (`document.next_change`).

Disclosure grants are never part of a key: a caller who holds or may hold a grant bypasses the
cache altogether, reading nothing kept and keeping nothing (`may_hold_grants`, the one rule;
the disclosure workflow may narrow or widen it through `AnswerCache(may_disclose=...)`). Grants
are looked up only once the queried domain is read, after the cache was asked, so the rule is
decided by who the caller is: any caller whose grants could cover the queried domain. Also
never kept: answers that disclose (`RedactedDocument.disclosed`, a second line of defence), and
errors other than 404 (a 404 for a name is the same for every caller until a write adds it).

Each worker keeps answers in memory up to a byte budget, least recently used first out; an
optional Redis store shares them between workers and servers, keyed also by a fingerprint
of the configuration that shapes answers (policies, service profile), so servers with
different policies never share bytes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from cachetools import LRUCache

from rdap.document import next_change
from rdap.principal import LAW_ENFORCEMENT, REQUESTER, Principal
from rdap.redaction import RedactedDocument

log = logging.getLogger(__name__)

KEPT_STATUSES = frozenset({200, 404})
_ENTRY_OVERHEAD = 400  # bytes per kept answer beyond its body: key, objects, LRU links


@dataclasses.dataclass(frozen=True)
class AnswerKey:
    """What decides an answer before the object is read (sponsorship is decided after)."""

    version: int
    media_type: str
    base_url: str
    request_url: str
    role: str

    def text(self) -> str:
        return "\n".join(
            (str(self.version), self.media_type, self.base_url, self.request_url, self.role)
        )


@dataclasses.dataclass(frozen=True, slots=True)
class Answer:
    """A rendered answer and the redaction outcome it was built for."""

    status: int
    body: bytes
    sponsor_id: int | None  # registrar sponsoring the object answered (None: no object)
    sponsored: bool  # built for that registrar
    expires: float | None = None  # epoch seconds when it would read differently; None: never

    def fits(self, principal: Principal, now: float) -> bool:
        """Would this caller, now, get exactly these bytes?"""
        return principal.sponsors(self.sponsor_id) == self.sponsored and (
            self.expires is None or now < self.expires
        )


class SharedStore(Protocol):
    """Answers shared between processes (Redis); every failure is a miss, never an error."""

    def answers(self, key: AnswerKey) -> tuple[Answer, ...]: ...

    def add(self, key: AnswerKey, answer: Answer) -> None: ...


# Roles a disclosure grant can be given to (the accredited requesters of the disclosure flow).
GRANT_ROLES = frozenset({REQUESTER, LAW_ENFORCEMENT})


def may_hold_grants(principal: Principal) -> bool:
    """Could a disclosure grant change this caller's answer? Then the caller bypasses the cache.

    True for a caller holding grants already, and for a requester or law-enforcement caller
    stating a purpose (RFC 9560): grants are given for a purpose, and the pipeline looks them
    up for the queried domain only after the cache was asked. A requester stating no purpose
    can be given nothing, and shares the requester role's kept answers."""
    return bool(principal.grants) or (
        principal.role in GRANT_ROLES and principal.purpose is not None
    )


def answer_to_keep(
    principal: Principal,
    status: int,
    body: bytes,
    document: RedactedDocument | None,
    now: float,
) -> Answer | None:
    """The answer to keep for what the pipeline returned, or None when it must not be kept.

    `document` is the redacted document rendered (None for a 404)."""
    if status not in KEPT_STATUSES or principal.grants:
        return None
    if document is None:
        if status != 404:
            return None
        return Answer(status, body, None, sponsored=False)
    if document.disclosed:
        return None
    sponsor_id = document.subject.registrar_id
    changes = next_change(document.body, dt.datetime.fromtimestamp(now, dt.UTC))
    return Answer(
        status,
        body,
        sponsor_id,
        sponsored=principal.sponsors(sponsor_id),
        expires=changes.timestamp() if changes is not None else None,
    )


def _size(entry: tuple[Answer, ...]) -> int:
    return sum(len(answer.body) + _ENTRY_OVERHEAD for answer in entry)


class AnswerCache:
    """Per-process answers within `max_bytes`, least recently used out first, in front of an
    optional shared store. Safe for threaded servers (one lock around the memory)."""

    def __init__(
        self,
        max_bytes: int,
        shared: SharedStore | None = None,
        clock: Callable[[], float] = time.time,
        may_disclose: Callable[[Principal], bool] = may_hold_grants,
    ) -> None:
        """`may_disclose`: whether a grant could change this caller's answer; such callers
        bypass the cache (the disclosure workflow passes its own test here if it knows more
        than `may_hold_grants`; it must answer True for every caller it may grant for)."""
        self.max_bytes = max_bytes
        self.shared = shared
        self.clock = clock
        self.may_disclose = may_disclose
        # Shared across the requests of one worker on purpose: that is what the cache is for.
        # Key: AnswerKey; value: the answers kept under it (one per outcome, at most a few).
        self._memory: LRUCache[AnswerKey, tuple[Answer, ...]] = LRUCache(
            maxsize=max_bytes, getsizeof=_size
        )
        self._lock = threading.Lock()

    @property
    def bytes_used(self) -> int:
        with self._lock:
            return int(self._memory.currsize)

    def bypassed(self, principal: Principal) -> bool:
        """Does this caller bypass the cache (it may hold a disclosure grant)?"""
        return bool(principal.grants) or self.may_disclose(principal)

    def get(self, key: AnswerKey, principal: Principal) -> Answer | None:
        """A kept answer this caller would get now, or None."""
        if self.bypassed(principal):
            return None
        now = self.clock()
        with self._lock:
            kept = self._memory.get(key, ())
        for answer in kept:
            if answer.fits(principal, now):
                return answer
        if self.shared is None:
            return None
        for answer in self.shared.answers(key):
            if answer.fits(principal, now):
                self._remember(key, answer)
                return answer
        return None

    def keep(
        self,
        key: AnswerKey,
        principal: Principal,
        status: int,
        body: bytes,
        document: RedactedDocument | None,
    ) -> bool:
        """Keep what the pipeline answered `principal` if the rules allow; True if kept."""
        if self.bypassed(principal):
            return False
        answer = answer_to_keep(principal, status, body, document, self.clock())
        if answer is None:
            return False
        self.put(key, answer)
        return True

    def put(self, key: AnswerKey, answer: Answer) -> None:
        """Keep `answer` (from `answer_to_keep`) under `key`, here and in the shared store."""
        self._remember(key, answer)
        if self.shared is not None:
            self.shared.add(key, answer)

    def _remember(self, key: AnswerKey, answer: Answer) -> None:
        if _size((answer,)) > self.max_bytes:
            return
        with self._lock:
            kept = self._memory.get(key, ())
            # One answer per outcome; answers built against another sponsor (the object moved
            # to another registrar in a write this version does not yet show) are dropped.
            entry = (
                *(
                    a
                    for a in kept
                    if a.sponsor_id == answer.sponsor_id and a.sponsored != answer.sponsored
                ),
                answer,
            )
            self._memory[key] = entry


def configuration_fingerprint(paths: Iterable[Path], *values: str) -> str:
    """A digest of the files and values that shape answers besides the data (policies, service
    profile): servers sharing a store share answers only when it is equal."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.name).encode() + b"\0" + path.read_bytes() + b"\0")
    for value in values:
        digest.update(value.encode() + b"\0")
    return digest.hexdigest()[:16]


class RedisAnswers:
    """Answers shared through Redis: one hash per AnswerKey (and configuration fingerprint),
    one field per outcome. Keys expire after `ttl` seconds (old versions are never asked
    for again); a Redis failure is a miss, and the store is skipped for `pause` seconds."""

    def __init__(
        self,
        client: Any,
        fingerprint: str,
        *,
        errors: tuple[type[Exception], ...],
        ttl: int = 24 * 3600,
        pause: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.errors = errors
        self.prefix = f"rdapd:answer:{fingerprint}:"
        self.ttl = ttl
        self.pause = pause
        self.clock = clock
        self._down_until = 0.0

    @classmethod
    def from_url(cls, url: str, fingerprint: str) -> RedisAnswers:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=0.2, socket_timeout=0.2)
        return cls(client, fingerprint, errors=(redis.RedisError, OSError))

    def _name(self, key: AnswerKey) -> str:
        return self.prefix + hashlib.sha256(key.text().encode()).hexdigest()

    def answers(self, key: AnswerKey) -> tuple[Answer, ...]:
        if self.clock() < self._down_until:
            return ()
        try:
            fields = self.client.hgetall(self._name(key))
        except self.errors as exc:  # any failure of the store is a miss
            self._failed(exc)
            return ()
        found = []
        for field, value in fields.items():
            answer = _decode(field, value)
            if answer is not None:
                found.append(answer)
        return tuple(found)

    def add(self, key: AnswerKey, answer: Answer) -> None:
        if self.clock() < self._down_until:
            return
        name = self._name(key)
        field, value = _encode(answer)
        try:
            with self.client.pipeline(transaction=False) as pipe:
                pipe.hset(name, field, value)
                pipe.expire(name, self.ttl)
                pipe.execute()
        except self.errors as exc:  # any failure of the store is a miss
            self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        self._down_until = self.clock() + self.pause
        log.warning(
            "answer cache store unavailable (%s); answers are computed here for %.0f s",
            type(exc).__name__,
            self.pause,
        )


def _encode(answer: Answer) -> tuple[bytes, bytes]:
    sponsor = "-" if answer.sponsor_id is None else str(answer.sponsor_id)
    field = f"{sponsor}:{int(answer.sponsored)}".encode()
    expires = "-" if answer.expires is None else repr(answer.expires)
    return field, f"{answer.status} {expires}\n".encode() + answer.body


def _decode(field: bytes, value: bytes) -> Answer | None:
    """An answer from its stored form; None for anything malformed (treated as a miss)."""
    try:
        sponsor, sponsored = field.decode().split(":")
        head, body = value.split(b"\n", 1)
        status, expires = head.decode().split(" ")
        if sponsored not in ("0", "1") or int(status) not in KEPT_STATUSES:
            return None
        return Answer(
            status=int(status),
            body=body,
            sponsor_id=None if sponsor == "-" else int(sponsor),
            sponsored=sponsored == "1",
            expires=None if expires == "-" else float(expires),
        )
    except ValueError:
        return None
