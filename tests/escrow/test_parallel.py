"""Parallel parsing: worker processes give the same registry, and the same first error, as one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from rdap.db import Database
from rdap.errors import DepositError
from rdap.escrow import loader, parallel
from rdap.escrow import parser as p
from rdap.escrow.generator import generate_deposit
from rdap.escrow.loader import import_deposit
from tests.escrow.conftest import DATA, dump

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    # Runs of 7 objects: a small deposit still makes many chunks, split between the workers.
    monkeypatch.setattr(loader, "CHUNK_OBJECTS", 7)


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    path = tmp_path / "deposit.xml"
    generate_deposit(path, size=150, seed=5)
    return path


def registry(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    tables = dump(db)
    del tables["deposits"]  # one row per import
    del tables["data_version"]  # moved on by every import
    return tables


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_build_the_registry_one_parser_builds(
    db: Database, generated: Path, workers: int
) -> None:
    one = import_deposit(db, generated, now=lambda: NOW, workers=1)
    alone = registry(db)
    shared = import_deposit(db, generated, now=lambda: NOW, workers=workers)
    assert registry(db) == alone
    assert shared.counts == one.counts
    assert alone["domains"]
    assert alone["domain_contacts"]
    assert alone["ds_records"]


def test_chunks_come_back_in_document_order(generated: Path) -> None:
    produce = loader._chunks

    def lines(chunks: Any) -> list[int]:
        return [row[1] for c in chunks for row in c.rows.get(loader.S_DOMAIN.name, [])]

    alone = lines(produce(p.parse_deposit(generated), True, sqlite=True))
    shared = lines(
        parallel.chunks(
            generated,
            lambda records, first: produce(records, first, sqlite=True),
            workers=2,
            size=7,
        )
    )
    assert shared == alone == sorted(alone)
    assert len(alone) == 150


def _broken(tmp_path: Path, generated: Path, old: str, new: str, *, last: bool) -> Path:
    text = generated.read_text(encoding="utf-8")
    at = text.rindex(old) if last else text.index(old)
    path = tmp_path / "broken.xml"
    path.write_text(text[:at] + new + text[at + len(old) :], encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "last", "message"),
    [
        ("<rdeDomain:crDate>", "<rdeDomain:crDate>not-a-date", True, r"is not a dateTime"),
        ("</rdeDomain:domain>", "</rdeDomain:domainx>", True, r"malformed XML"),
        ("<rdeDomain:crDate>", "<rdeDomain:crDate>never", False, r"is not a dateTime"),
    ],
)
def test_first_error_in_the_document_is_the_one_reported(
    db: Database, tmp_path: Path, generated: Path, old: str, new: str, last: bool, message: str
) -> None:
    import_deposit(db, DATA / "small-valid.xml", now=lambda: NOW)
    before = dump(db)
    broken = _broken(tmp_path, generated, old, new, last=last)
    with pytest.raises(DepositError, match=message) as alone:
        import_deposit(db, broken, now=lambda: NOW, workers=1)
    with pytest.raises(DepositError, match=message) as shared:
        import_deposit(db, broken, now=lambda: NOW, workers=2)
    assert str(shared.value) == str(alone.value)
    assert dump(db) == before


def test_a_failing_worker_is_reported_and_nothing_changes(
    db: Database, generated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_deposit(db, DATA / "small-valid.xml", now=lambda: NOW)
    before = dump(db)

    def explode(buf: Any, record: Any) -> None:
        raise ValueError("boom")

    monkeypatch.setattr(loader, "_stage_record", explode)  # forked workers inherit it
    with pytest.raises(parallel.WorkerFailed, match="ValueError: boom"):
        import_deposit(db, generated, now=lambda: NOW, workers=2)
    assert dump(db) == before


def test_workers_are_used_for_large_files_only(
    generated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[int] = []
    real = parallel.chunks

    def spy(path: Any, produce: Any, *, workers: int, size: int) -> Any:
        started.append(workers)
        return real(path, produce, workers=workers, size=size)

    monkeypatch.setattr(parallel, "chunks", spy)
    monkeypatch.setattr(parallel, "available_cpus", lambda: 2)

    def run(source: Any, workers: int | None) -> int:
        return sum(1 for _ in loader._deposit_chunks(source, sqlite=True, workers=workers))

    in_process = run(generated, None)  # far below PARALLEL_MIN_BYTES
    assert started == []
    with generated.open("rb") as stream:  # a stream cannot be shared: parsed here
        assert run(stream, 2) == in_process
    assert started == []
    monkeypatch.setattr(loader, "PARALLEL_MIN_BYTES", 1)
    assert run(generated, None) == in_process
    assert started == [2]
