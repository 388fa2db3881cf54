"""Audit log: an append-only, hash-chained record of disclosure transitions and answers.

Each entry commits to the one before it: entry_hash = SHA-256(prev_hash ‖ canonical JSON of
every other column). Editing, deleting or reordering a stored entry breaks the chain at that
entry, and `verify` names it. Someone who can rewrite the whole table can also recompute every
hash; a checkpoint (sequence number and hash of the head) kept outside the database — printed,
mailed to an auditor, stored on write-once media — is what such a rewrite cannot match.

Entries carry names, never values: who, which client and token, purpose, request, grant,
domain, element ids and the policy revision.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select, text
from sqlalchemy.orm import Session

from rdap.db import Database
from rdap.models import AuditEntry

GENESIS = "0" * 64  # prev_hash of the first entry
# pg_advisory_xact_lock key that serialises appends on PostgreSQL ("rdapd audit").
_LOCK_KEY = 0x7264617064_01
# The hashed columns, in the order exports list them (entry_hash last: it is not hashed).
COLUMNS = (
    "seq",
    "ts",
    "event",
    "actor",
    "actor_role",
    "client_id",
    "token_id",
    "accreditation_id",
    "request_id",
    "grant_id",
    "domain",
    "purpose",
    "elements",
    "policy_revision",
    "detail",
    "prev_hash",
)
EXPORT_COLUMNS = (*COLUMNS, "entry_hash")
_ROLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}")


@dataclasses.dataclass(frozen=True)
class Event:
    """What one audit entry records (the chain adds seq, ts and the hashes)."""

    event: str  # e.g. "request.submitted", "disclosure.answer", "accreditation.revoked"
    actor: str  # token subject, client id, "system" or "operator:<login>"
    actor_role: str  # requester, law-enforcement, staff, system, operator
    client_id: str | None = None
    token_id: str | None = None
    accreditation_id: str | None = None
    request_id: str | None = None
    grant_id: str | None = None
    domain: str | None = None
    purpose: str | None = None
    elements: tuple[str, ...] = ()
    policy_revision: str | None = None
    detail: Mapping[str, Any] = dataclasses.field(default_factory=dict)


# --- the chain ----------------------------------------------------------------------------------


def _check_json(value: Any, where: str = "detail") -> None:
    """Only types with one canonical JSON form: no floats, no NaN, string keys."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return
    if isinstance(value, float):
        raise TypeError(f"{where}: floats have no canonical form; use an int or a string")
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_json(item, where)
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: keys must be strings")
            _check_json(item, where)
        return
    raise TypeError(f"{where}: {type(value).__name__} is not JSON")


def canonical(value: Any) -> bytes:
    """Canonical JSON: sorted keys, no insignificant whitespace, UTF-8, no floats."""
    _check_json(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def ts_text(moment: dt.datetime) -> str:
    """The hashed form of a timestamp: UTC, microseconds, as every backend stores it."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def payload(entry: AuditEntry | Mapping[str, Any]) -> dict[str, Any]:
    """The hashed content of an entry (a row or its column values): every column but
    entry_hash."""
    if isinstance(entry, Mapping):
        out: dict[str, Any] = {name: entry.get(name) for name in COLUMNS}
    else:
        out = {name: getattr(entry, name) for name in COLUMNS}
    out["ts"] = ts_text(out["ts"])
    out["elements"] = list(out["elements"] or [])
    out["detail"] = dict(out["detail"] or {})
    return out


def chain_hash(prev_hash: str, content: Mapping[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(content)).hexdigest()


Executor = Session | Connection  # an ORM session or a Core connection, in a transaction


def _dialect(executor: Executor) -> str:
    bind = executor.get_bind() if isinstance(executor, Session) else executor
    return bind.dialect.name


def lock(executor: Executor) -> None:
    """Serialise appenders until this transaction ends. PostgreSQL: an advisory lock (taken
    again by each append: it is re-entrant); SQLite serialises writers itself (`writing` and
    `appending` begin with BEGIN IMMEDIATE)."""
    if _dialect(executor) == "postgresql":
        executor.execute(_LOCK, {"key": _LOCK_KEY})


def _begin_writer(executor: Executor) -> None:
    """On SQLite, take the write lock now: a deferred transaction that read first could not
    become a writer once another writer committed."""
    if _dialect(executor) == "sqlite":
        executor.execute(_BEGIN_IMMEDIATE)
    lock(executor)


@contextlib.contextmanager
def writing(db: Database) -> Iterator[Session]:
    """One ORM transaction that may append to the chain: commit on success, roll back on error.
    The chain's lock comes first, so concurrent appenders queue instead of failing."""
    with db.session_scope() as session:
        _begin_writer(session)
        yield session


@contextlib.contextmanager
def appending(db: Database) -> Iterator[Connection]:
    """As `writing`, on a Core connection: the lighter path the lookup takes to record an
    answer that disclosed."""
    with db.write_connection() as connection:
        _begin_writer(connection)
        yield connection


@dataclasses.dataclass(frozen=True)
class Appended:
    """Where an entry went: records elsewhere (a request's history) keep both."""

    seq: int
    entry_hash: str


_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
_BEGIN_IMMEDIATE = text("BEGIN IMMEDIATE")
_HEAD = select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)
_INSERT = insert(AuditEntry)


def append(executor: Executor, event: Event, *, now: dt.datetime) -> Appended:
    """Add one entry at the head of the chain, in the caller's transaction (opened with
    `writing` or `appending`)."""
    if now.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    lock(executor)
    head = executor.execute(_HEAD).first()
    seq, prev_hash = (head[0] + 1, head[1]) if head is not None else (1, GENESIS)
    values: dict[str, Any] = {
        "seq": seq,
        "ts": now.astimezone(dt.UTC),
        "event": event.event,
        "actor": event.actor,
        "actor_role": event.actor_role,
        "client_id": event.client_id,
        "token_id": event.token_id,
        "accreditation_id": event.accreditation_id,
        "request_id": event.request_id,
        "grant_id": event.grant_id,
        "domain": event.domain,
        "purpose": event.purpose,
        "elements": list(event.elements),
        "policy_revision": event.policy_revision,
        "detail": dict(event.detail),
        "prev_hash": prev_hash,
    }
    values["entry_hash"] = chain_hash(prev_hash, payload(values))
    executor.execute(_INSERT, values)
    return Appended(seq, values["entry_hash"])


# --- checkpoints --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """The head of the chain at one moment: keep it where the database's users cannot write."""

    seq: int
    entry_hash: str
    taken_at: str = ""

    def line(self) -> str:
        return json.dumps(
            {"seq": self.seq, "entry_hash": self.entry_hash, "taken_at": self.taken_at},
            sort_keys=True,
        )


def head(session: Session, *, now: dt.datetime) -> Checkpoint:
    """The current head (seq 0 and the genesis hash for an empty log)."""
    row = session.execute(
        select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, entry_hash = (row[0], row[1]) if row is not None else (0, GENESIS)
    return Checkpoint(seq, entry_hash, ts_text(now))


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """Checkpoints from a file of JSON lines (as `rdapd audit checkpoint --output` appends)."""
    found = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
            seq, entry_hash = data["seq"], data["entry_hash"]
        except (ValueError, KeyError, TypeError):
            raise ValueError(f"{path}:{number}: not a checkpoint line") from None
        if (
            not isinstance(seq, int)
            or seq < 0
            or not isinstance(entry_hash, str)
            or not re.fullmatch(r"[0-9a-f]{64}", entry_hash)
        ):
            raise ValueError(f"{path}:{number}: not a checkpoint line")
        found.append(Checkpoint(seq, entry_hash, str(data.get("taken_at", ""))))
    return found


# --- verification -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The result of verifying the chain: intact, or the first entry where it breaks."""

    entries: int
    head: Checkpoint
    problem: str | None = None
    bad_seq: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify(
    session: Session,
    *,
    checkpoints: Sequence[Checkpoint] = (),
    references: Iterable[tuple[int, str, str]] = (),
) -> Verdict:
    """Recompute the chain from the first entry; stop at the first that does not hold.

    `checkpoints` (seq, hash) taken earlier must still match, and no entry they cover may be
    gone. `references` are (seq, hash, what) recorded elsewhere in the database (a request's
    history names the entry of each transition) and must match too, so removing the newest
    entry is noticed even without a checkpoint."""
    expected_at = {
        c.seq: (c.entry_hash, f"the checkpoint taken {c.taken_at}".rstrip()) for c in checkpoints
    }
    referenced: dict[int, tuple[str, str]] = {}
    for seq, entry_hash, what in references:
        referenced.setdefault(seq, (entry_hash, what))
    prev_seq, prev_hash, count = 0, GENESIS, 0

    def broken(problem: str, seq: int) -> Verdict:
        return Verdict(count, Checkpoint(prev_seq, prev_hash), problem, seq)

    rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq)).yield_per(1000)
    for entry in rows.scalars():
        seq = entry.seq
        if seq != prev_seq + 1:
            return broken(f"entry {prev_seq + 1} is missing (removed)", prev_seq + 1)
        if entry.prev_hash != prev_hash:
            return broken(
                f"entry {seq} does not follow entry {prev_seq}: entries were removed, "
                "reordered or rewritten",
                seq,
            )
        if chain_hash(entry.prev_hash, payload(entry)) != entry.entry_hash:
            return broken(f"entry {seq} was altered: its hash does not match its content", seq)
        for table in (expected_at, referenced):
            known = table.get(seq)
            if known is not None and known[0] != entry.entry_hash:
                return broken(f"entry {seq} differs from {known[1]}: the chain was rewritten", seq)
        prev_seq, prev_hash, count = seq, entry.entry_hash, count + 1
    beyond = sorted(
        (seq, what)
        for table in (expected_at, referenced)
        for seq, (_hash, what) in table.items()
        if seq > prev_seq
    )
    if beyond:
        seq, what = beyond[0]
        return broken(f"entry {seq}, recorded in {what}, is missing (removed)", seq)
    return Verdict(count, Checkpoint(prev_seq, prev_hash))


# --- export -------------------------------------------------------------------------------------


def entries(session: Session, *, since: dt.datetime | None = None) -> Iterator[dict[str, Any]]:
    """Entries in chain order as plain dicts (every column, both hashes)."""
    statement = select(AuditEntry).order_by(AuditEntry.seq)
    if since is not None:
        statement = statement.where(AuditEntry.ts >= since)
    for entry in session.execute(statement).yield_per(1000).scalars():
        row = payload(entry)
        row["entry_hash"] = entry.entry_hash
        yield row


def jsonl(rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n"


# A cell a spreadsheet would evaluate as a formula starts with one of these (OWASP CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_cell(value: Any) -> str:
    """A value as CSV text that no spreadsheet evaluates: lists joined with spaces, objects as
    canonical JSON, and a leading apostrophe before anything that starts like a formula."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value)
    elif isinstance(value, Mapping):
        value = canonical(value).decode()
    cell = str(value)
    if cell.lstrip(" ").startswith(_FORMULA_START):
        cell = "'" + cell
    return cell


def csv_lines(rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([csv_cell(row.get(name)) for name in EXPORT_COLUMNS])
        yield buffer.getvalue()


# --- database privileges (PostgreSQL) -------------------------------------------------------------


def privilege_statements(role: str) -> list[str]:
    """SQL that leaves `role` (the application's login) able to read and append audit entries
    and nothing else. Run it as the table owner after `rdapd db upgrade`; the application must
    not log in as the owner, who could grant the rights back."""
    if not _ROLE_NAME.fullmatch(role):
        raise ValueError("a role name is letters, digits, '_' or '$', starting with a letter")
    quoted = f'"{role}"'
    return [
        f"REVOKE ALL ON TABLE audit_entries FROM {quoted}",
        f"GRANT SELECT, INSERT ON TABLE audit_entries TO {quoted}",
    ]
