"""The audit chain: appends, verification after every kind of tampering, checkpoints against a
rewritten chain, exports for auditors (CSV formula-safe), concurrency, and database rights."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from rdap import audit
from rdap.db import Database
from rdap.models import AuditEntry

T0 = dt.datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)


def _event(n: int, **changes: object) -> audit.Event:
    values: dict[str, object] = {
        "event": "disclosure.answer",
        "actor": f"rdapd-client{n}",
        "actor_role": "requester",
        "client_id": f"rdapd-client{n}",
        "token_id": f"jti-{n}",
        "accreditation_id": "acc-1",
        "request_id": f"00000000-0000-4000-8000-{n:012d}",
        "grant_id": None,
        "domain": "target.post",
        "purpose": "legalActions",
        "elements": ("registrant.email", "registrant.name"),
        "policy_revision": "requester.toml=1",
        "detail": {"channel": "rdap", "n": n, "nested": {"ok": True, "list": [1, "x"]}},
    }
    values.update(changes)
    return audit.Event(**values)  # type: ignore[arg-type]


def _chain(db: Database, count: int = 6) -> None:
    for n in range(1, count + 1):
        with audit.writing(db) as session:
            audit.append(session, _event(n), now=T0 + dt.timedelta(minutes=n))


def _verify(db: Database, **kwargs: object) -> audit.Verdict:
    with db.sessions() as session:
        return audit.verify(session, **kwargs)  # type: ignore[arg-type]


def _sql(db: Database, *statements: str) -> None:
    with db.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


def test_an_untouched_chain_verifies(db: Database) -> None:
    _chain(db)
    verdict = _verify(db)
    assert verdict.ok
    assert verdict.entries == 6
    assert verdict.head.seq == 6
    with db.read_scope() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        assert rows[0].prev_hash == audit.GENESIS
        assert all(b.prev_hash == a.entry_hash for a, b in itertools.pairwise(rows))
        assert rows[0].ts == T0 + dt.timedelta(minutes=1)  # microseconds survive the round trip


@pytest.mark.parametrize(
    ("tamper", "bad_seq", "says"),
    [
        (["UPDATE audit_entries SET domain = 'other.post' WHERE seq = 3"], 3, "altered"),
        (["UPDATE audit_entries SET actor = 'someone-else' WHERE seq = 1"], 1, "altered"),
        (["UPDATE audit_entries SET purpose = NULL WHERE seq = 6"], 6, "altered"),
        (["UPDATE audit_entries SET event = 'request.deny' WHERE seq = 4"], 4, "altered"),
        (["DELETE FROM audit_entries WHERE seq = 3"], 3, "missing"),
        (["DELETE FROM audit_entries WHERE seq = 1"], 1, "missing"),
        (
            [
                "UPDATE audit_entries SET seq = 100 WHERE seq = 2",
                "UPDATE audit_entries SET seq = 2 WHERE seq = 4",
                "UPDATE audit_entries SET seq = 4 WHERE seq = 100",
            ],
            2,
            "does not follow",
        ),
        (
            [
                "UPDATE audit_entries SET seq = 100 WHERE seq = 5",
                "UPDATE audit_entries SET seq = 5 WHERE seq = 6",
                "UPDATE audit_entries SET seq = 6 WHERE seq = 100",
            ],
            5,
            "does not follow",
        ),
    ],
    ids=[
        "edit-domain",
        "edit-first",
        "edit-last",
        "edit-event",
        "delete",
        "delete-first",
        "swap",
        "swap-last-two",
    ],
)
def test_any_single_change_is_named(
    db: Database, tamper: list[str], bad_seq: int, says: str
) -> None:
    _chain(db)
    _sql(db, *tamper)
    verdict = _verify(db)
    assert not verdict.ok
    assert verdict.bad_seq == bad_seq
    assert says in (verdict.problem or "")
    assert f"entry {bad_seq}" in (verdict.problem or "")


def test_edited_values_in_json_and_time_columns_are_caught(db: Database) -> None:
    _chain(db)
    with db.sessions() as session, session.begin():
        session.execute(
            update(AuditEntry).where(AuditEntry.seq == 2).values(elements=["registrant.phone"])
        )
    assert _verify(db).bad_seq == 2
    with db.sessions() as session, session.begin():
        session.execute(
            update(AuditEntry)
            .where(AuditEntry.seq == 2)
            .values(elements=["registrant.email", "registrant.name"])
        )
        session.execute(update(AuditEntry).where(AuditEntry.seq == 4).values(ts=T0))
    verdict = _verify(db)
    assert verdict.bad_seq == 4
    assert "altered" in (verdict.problem or "")


def _rewrite_from(db: Database, seq: int) -> None:
    """What an insider with full write access does: change an entry and recompute every hash."""
    with db.sessions() as session, session.begin():
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        prev = audit.GENESIS
        for entry in entries:
            if entry.seq == seq:
                entry.domain = "innocent.post"
            entry.prev_hash = prev
            entry.entry_hash = audit.chain_hash(prev, audit.payload(entry))
            prev = entry.entry_hash


def test_a_rewritten_chain_passes_alone_but_not_against_a_checkpoint(db: Database) -> None:
    _chain(db, 4)
    with db.sessions() as session:
        checkpoint = audit.head(session, now=T0)
    _chain(db, 2)  # two more entries after the checkpoint: the chain only grows
    assert _verify(db, checkpoints=[checkpoint]).ok
    _rewrite_from(db, 2)
    assert _verify(db).ok  # a hash chain alone cannot tell
    verdict = _verify(db, checkpoints=[checkpoint])
    assert not verdict.ok
    assert verdict.bad_seq == checkpoint.seq == 4
    assert "rewritten" in (verdict.problem or "")


def test_removing_the_newest_entries_is_caught_by_a_checkpoint(db: Database) -> None:
    _chain(db, 5)
    with db.sessions() as session:
        checkpoint = audit.head(session, now=T0)
    _sql(db, "DELETE FROM audit_entries WHERE seq = 5")
    assert _verify(db).ok  # the remaining chain is consistent
    verdict = _verify(db, checkpoints=[checkpoint])
    assert verdict.bad_seq == 5
    assert "missing" in (verdict.problem or "")


def test_references_recorded_elsewhere_must_match(db: Database) -> None:
    _chain(db, 3)
    with db.read_scope() as session:
        last = session.scalars(select(AuditEntry.entry_hash).where(AuditEntry.seq == 3)).one()
    references = [(3, last, "the history of request R")]
    assert _verify(db, references=references).ok
    _sql(db, "DELETE FROM audit_entries WHERE seq = 3")
    verdict = _verify(db, references=references)
    assert verdict.bad_seq == 3
    assert "the history of request R" in (verdict.problem or "")


def test_canonical_json_has_one_form() -> None:
    assert (
        audit.canonical({"b": 1, "a": ["é", None, True]}) == b'{"a":["\xc3\xa9",null,true],"b":1}'
    )
    with pytest.raises(TypeError):
        audit.canonical({"x": 1.5})
    with pytest.raises(TypeError):
        audit.canonical({1: "x"})
    with pytest.raises(TypeError):
        audit.canonical({"x": object()})


def test_concurrent_appenders_extend_one_chain(db: Database) -> None:
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            for n in range(15):
                with audit.writing(db) as session:
                    audit.append(session, _event(worker * 100 + n), now=T0)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(w,)) for w in (1, 2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    verdict = _verify(db)
    assert verdict.ok
    assert verdict.entries == 45


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture
def runner(app):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


def test_verify_and_checkpoint_commands(runner, db: Database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _chain(db, 3)
    checkpoints = tmp_path / "checkpoints.jsonl"
    first = runner.invoke(args=["audit", "checkpoint", "--output", str(checkpoints)])
    assert first.exit_code == 0
    head = json.loads(first.output)
    assert head["seq"] == 3
    _chain(db, 1)
    assert runner.invoke(args=["audit", "checkpoint", "--output", str(checkpoints)]).exit_code == 0
    assert len(checkpoints.read_text().splitlines()) == 2
    ok = runner.invoke(args=["audit", "verify", "--checkpoint", str(checkpoints)])
    assert ok.exit_code == 0, ok.stderr
    assert "2 checkpoint(s) match" in ok.output
    _rewrite_from(db, 1)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    broken = runner.invoke(args=["audit", "verify", "--checkpoint", str(checkpoints)])
    assert broken.exit_code == 1
    assert broken.stderr.strip().splitlines() == [
        "rdapd: audit chain broken: entry 3 differs from the checkpoint taken "
        f"{head['taken_at']}: the chain was rewritten"
    ]
    garbage = tmp_path / "garbage"
    garbage.write_text("not json\n")
    refused = runner.invoke(args=["audit", "verify", "--checkpoint", str(garbage)])
    assert refused.exit_code == 2
    assert "not a checkpoint line" in refused.stderr


def test_verify_names_the_edited_entry(runner, db: Database) -> None:  # type: ignore[no-untyped-def]
    _chain(db, 4)
    _sql(db, "UPDATE audit_entries SET client_id = 'x' WHERE seq = 2")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "entry 2 was altered" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_export_jsonl_lets_an_auditor_verify_independently(runner, db: Database) -> None:  # type: ignore[no-untyped-def]
    _chain(db, 3)
    result = runner.invoke(args=["audit", "export"])
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.output.splitlines()]
    # Reading the log is itself recorded, first: the export ends with its own entry.
    assert [r["seq"] for r in rows] == [1, 2, 3, 4]
    assert rows[-1]["event"] == "audit.exported"
    assert rows[-1]["actor_role"] == "operator"
    assert set(rows[0]) == set(audit.EXPORT_COLUMNS)
    prev = audit.GENESIS
    for row in rows:
        content = {k: v for k, v in row.items() if k != "entry_hash"}
        assert row["prev_hash"] == prev
        assert audit.chain_hash(prev, content) == row["entry_hash"]
        prev = row["entry_hash"]


def test_export_since_and_csv_are_formula_safe(runner, db: Database) -> None:  # type: ignore[no-untyped-def]
    with audit.writing(db) as session:
        audit.append(session, _event(1), now=T0 - dt.timedelta(days=3))
        for n, actor in enumerate(('=HYPERLINK("http://x")', "+1+2", "-2", "@SUM(A1)", " =1"), 2):
            audit.append(session, _event(n, actor=actor), now=T0)
    result = runner.invoke(args=["audit", "export", "--since", "2026-12-01", "--format", "csv"])
    assert result.exit_code == 0
    table = list(csv.reader(io.StringIO(result.output)))
    assert table[0] == list(audit.EXPORT_COLUMNS)
    actors = [row[table[0].index("actor")] for row in table[1:-1]]  # the last is the export
    assert actors == ['\'=HYPERLINK("http://x")', "'+1+2", "'-2", "'@SUM(A1)", "' =1"]
    assert all(not cell.lstrip().startswith(("=", "+", "-", "@")) for row in table for cell in row)
    elements = table[1][table[0].index("elements")]
    assert elements == "registrant.email registrant.name"
    bad = runner.invoke(args=["audit", "export", "--since", "yesterday"])
    assert bad.exit_code == 2


def test_privileges_command_prints_grants(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["audit", "privileges", "--role", "rdapd_app"])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        'REVOKE ALL ON TABLE audit_entries FROM "rdapd_app";',
        'GRANT SELECT, INSERT ON TABLE audit_entries TO "rdapd_app";',
    ]
    assert (
        runner.invoke(args=["audit", "privileges", "--role", 'x"; DROP TABLE t; --']).exit_code == 2
    )


@pytest.mark.postgres_only
def test_a_restricted_application_role_cannot_update_or_delete(db: Database) -> None:
    """With the documented grants, the application's role can read and append entries, and
    UPDATE, DELETE and TRUNCATE fail (as on any role that is not the table's owner)."""
    _chain(db, 2)
    role = "rdapd_audit_test_app"
    with db.engine.begin() as connection:
        connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        connection.execute(text(f'CREATE ROLE "{role}" NOLOGIN'))
        connection.execute(text(f'GRANT USAGE ON SCHEMA public TO "{role}"'))
        for statement in audit.privilege_statements(role):
            connection.execute(text(statement))
    try:
        for statement in (
            "UPDATE audit_entries SET domain = 'x' WHERE seq = 1",
            "DELETE FROM audit_entries WHERE seq = 2",
            "TRUNCATE audit_entries",
        ):
            with db.engine.connect() as connection:
                connection.execute(text(f'SET ROLE "{role}"'))
                with pytest.raises(DBAPIError, match="permission denied"):
                    connection.execute(text(statement))
        with db.engine.begin() as connection:
            connection.execute(text(f'SET ROLE "{role}"'))
            session_entries = connection.execute(
                text("SELECT count(*) FROM audit_entries")
            ).scalar()
            assert session_entries == 2
            prev = connection.execute(
                text("SELECT entry_hash FROM audit_entries WHERE seq = 2")
            ).scalar()
            connection.execute(
                text(
                    "INSERT INTO audit_entries (seq, ts, event, actor, actor_role, elements,"
                    " detail, prev_hash, entry_hash)"
                    " VALUES (3, now(), 'x', 'x', 'x', '[]', '{}', :p, :h)"
                ),
                {"p": prev, "h": "f" * 64},
            )
            connection.execute(text("RESET ROLE"))
    finally:
        with db.engine.begin() as connection:
            connection.execute(text(f'REVOKE ALL ON TABLE audit_entries FROM "{role}"'))
            connection.execute(text(f'REVOKE ALL ON SCHEMA public FROM "{role}"'))
            connection.execute(text(f'DROP ROLE "{role}"'))
