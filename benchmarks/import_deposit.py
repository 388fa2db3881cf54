"""Benchmark: generate FULL deposits of several sizes and import each into a fresh database.

Each generation and each import runs in its own child process, so elapsed time and peak RSS
(ru_maxrss from wait4) belong to that run alone. On Linux, wait4 reports a child together with
the descendants it reaped: CPU counts the import's parser workers, and peak RSS is the largest
of the importer and its workers. Prints a table and the ratio of the largest
size to the smallest for time and memory.

    python benchmarks/import_deposit.py                       # 100k and 1M on SQLite
    python benchmarks/import_deposit.py --sizes 10000 100000  # other sizes
    python benchmarks/import_deposit.py --postgres postgresql+psycopg://u@h/db
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from rdap import migrate
from rdap.db import Database
from rdap.escrow.generator import generate_deposit
from rdap.escrow.loader import import_deposit

ROOT = Path(__file__).resolve().parent.parent


def _child_generate(path: str, size: int, seed: int) -> dict[str, object]:
    started = time.perf_counter()
    result = generate_deposit(path, size=size, seed=seed)
    return {"elapsed": time.perf_counter() - started, "counts": result.counts}


def _child_import(url: str, path: str, workers: str) -> dict[str, object]:
    if url.startswith("postgresql"):
        db = Database(url)
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        db.dispose()
    migrate.upgrade(url)
    db = Database(url)
    result = import_deposit(db, path, workers=int(workers) if workers != "auto" else None)
    db.dispose()
    return {"elapsed": result.elapsed, "counts": result.counts, "phases": result.phases}


def _run_child(*args: str) -> tuple[dict[str, object], float, int, float]:
    """Run this script as a child; return its JSON result, wall time, peak RSS (KiB), CPU s."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", *args], stdout=subprocess.PIPE, cwd=ROOT
    )
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"child {args[0]} failed with exit code {proc.returncode}")
    cpu = usage.ru_utime + usage.ru_stime
    return json.loads(output), wall, usage.ru_maxrss, cpu  # Linux: ru_maxrss in KiB


def _print_row(row: tuple[str, int, float, float, int, int]) -> None:
    name, size, seconds, cpu, rss, file_mib = row
    print(
        f"{name:<20}{size:>9}{seconds:>9.1f}{cpu:>8.1f}{size / seconds:>11.0f}"
        f"{rss / 1024:>13.1f}{file_mib:>9}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--postgres", help="also import into this PostgreSQL URL (its schema is reset)"
    )
    parser.add_argument(
        "--workdir", type=Path, help="where deposits and SQLite files go (default: a temp dir)"
    )
    parser.add_argument("--keep", action="store_true", help="keep generated files")
    parser.add_argument(
        "--no-sqlite", action="store_true", help="import into PostgreSQL only (needs --postgres)"
    )
    parser.add_argument(
        "--workers", default="auto", help="parser processes for the import (default: auto)"
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        kind, *rest = args.child
        if kind == "generate":
            result = _child_generate(rest[0], int(rest[1]), int(rest[2]))
        else:
            result = _child_import(rest[0], rest[1], rest[2])
        print(json.dumps(result))
        return

    work = args.workdir or Path(tempfile.mkdtemp(prefix="rdapd-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, int, float, float, int, int]] = []
    print(f"{'run':<20}{'domains':>9}{'seconds':>9}{'CPU s':>8}{'domains/s':>11}", end="")
    print(f"{'peak RSS MiB':>13}{'file MiB':>9}")
    for size in args.sizes:
        deposit = work / f"deposit-{size}.xml"
        if not (args.keep and deposit.exists()):  # a kept deposit of this size is reused
            _, wall, rss, cpu = _run_child("generate", str(deposit), str(size), str(args.seed))
            rows.append(("generate", size, wall, cpu, rss, deposit.stat().st_size >> 20))
            _print_row(rows[-1])
        file_mib = deposit.stat().st_size // (1 << 20)
        targets = []
        if not args.no_sqlite:
            targets.append(("import sqlite", f"sqlite:///{work / f'bench-{size}.sqlite3'}"))
        if args.postgres:
            targets.append(("import postgresql", args.postgres))
        for name, url in targets:
            if url.startswith("sqlite:///"):
                Path(url[len("sqlite:///") :]).unlink(missing_ok=True)
            result, wall, rss, cpu = _run_child("import", url, str(deposit), args.workers)
            elapsed = float(result["elapsed"])  # type: ignore[arg-type]
            rows.append((name, size, elapsed, cpu, rss, file_mib))
            _print_row(rows[-1])
            phases = result.get("phases") or {}
            print("    " + ", ".join(f"{k} {v:.1f}s" for k, v in phases.items()))  # type: ignore[union-attr]
            if url.startswith("sqlite:///") and not args.keep:
                Path(url[len("sqlite:///") :]).unlink(missing_ok=True)
        if not args.keep:
            deposit.unlink(missing_ok=True)
    if len(args.sizes) > 1:
        small, large = min(args.sizes), max(args.sizes)
        print(f"\nratio {large}/{small} (size ratio {large / small:.0f}):")
        for name in dict.fromkeys(r[0] for r in rows):
            a = next(r for r in rows if r[0] == name and r[1] == small)
            b = next(r for r in rows if r[0] == name and r[1] == large)
            print(
                f"  {name:<20} time x{b[2] / a[2]:.2f}   CPU x{b[3] / a[3]:.2f}   "
                f"peak RSS x{b[4] / a[4]:.2f}"
            )


if __name__ == "__main__":
    main()
