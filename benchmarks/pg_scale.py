"""Benchmark: lookups on PostgreSQL at 1M and 10M domains; latency must not grow with size.

Starts a throwaway PostgreSQL (`initdb`, `pg_ctl`; fsync, full-page writes and synchronous
commit off: a benchmark database, rebuilt in minutes, never one to trust with data) on
127.0.0.1, then for each size:

1. loads the generated registry (`rdap.escrow.generator`, seed 7) into its own database with
   `pg_bulk_load.py`: the rows the escrow import writes, streamed with COPY while the
   generator runs, indexes and constraints made after the load, then VACUUM ANALYZE; prints
   the load time per phase, rows/s and the size on disk (`--verify N` first checks, on N
   domains, that this load writes exactly what the real import writes);
2. serves it with `gunicorn wsgi:app` as `rdapd serve` would and checks sampled answers
   (200, the asked ldhName; an unknown name 404), so the figures are not 404s;
3. runs `lookup.py --postgres URL --modes cold --tiers public` against it: every request a
   name never asked before (`--sample` names drawn at random from all of the database), 32
   connections, bounded duration, and the bare Flask app with a body of the same size in the
   same run.

Sizes are measured in turn, `--rounds` times (1M, 10M, 1M, 10M...), and it prints p50/p99 and
throughput of each, the ratio rdapd/bare, and p99 of the largest size over p99 of the smallest
(target: at most 1.3).

    python benchmarks/pg_scale.py                                  # 1M and 10M, 2 rounds
    python benchmarks/pg_scale.py --sizes 100000 1000000 --verify 3000
    python benchmarks/pg_scale.py --load-limit 1800                # stop a load after 30 min
    python benchmarks/pg_scale.py --keep                           # leave the server running
    python benchmarks/pg_scale.py --server postgresql+psycopg://rdapd@127.0.0.1:PORT --no-load

Needs PostgreSQL's server binaries (`--pg-bin`, default /usr/local/bin) and wrk; disk for
the data directory (`--datadir`): about 2 GB per million domains.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import psycopg
from harness import ROOT, free_port, serve, stop, wait_ready
from pg_bulk_load import bulk_load, dsn, verify

SERVER_OPTIONS = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    " -c shared_buffers=1GB -c max_wal_size=8GB -c checkpoint_timeout=30min"
)


def as_db_user(command: list[Any]) -> list[Any]:
    """PostgreSQL refuses to run as root: as root, run its tools as `postgres` (or nobody)."""
    if os.getuid() != 0:
        return command
    user = "postgres"
    if subprocess.run(["id", user], capture_output=True, check=False).returncode != 0:
        user = "nobody"
    return ["runuser", "-u", user, "--", *command]


def start_server(pg_bin: Path, datadir: Path) -> str:
    """initdb and start a server on 127.0.0.1; return its URL (database `postgres`)."""
    datadir.mkdir(parents=True, exist_ok=True)
    if os.getuid() == 0:
        shutil.chown(datadir, as_db_user(["x"])[2])
    data = datadir / "data"
    subprocess.run(
        as_db_user([pg_bin / "initdb", "-D", data, "-U", "rdapd", "--auth=trust", "-E", "UTF8",
         "--locale=C.UTF-8"]),
        check=True,
        capture_output=True,
    )  # fmt: skip
    port = free_port()
    options = f"-h 127.0.0.1 -p {port} -k {datadir} {SERVER_OPTIONS}"
    subprocess.run(
        as_db_user([pg_bin / "pg_ctl", "-D", data, "-l", datadir / "server.log", "-w", "-o",
                    options, "start"]),
        check=True,
        capture_output=True,
    )  # fmt: skip
    return f"postgresql+psycopg://rdapd@127.0.0.1:{port}"


def stop_server(pg_bin: Path, datadir: Path) -> None:
    subprocess.run(
        as_db_user([pg_bin / "pg_ctl", "-D", datadir / "data", "-m", "fast", "stop"]),
        check=False,
        capture_output=True,
    )


def database(server: str, name: str, *, create: bool) -> str:
    if create:
        with psycopg.connect(dsn(f"{server}/postgres"), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
    return f"{server}/{name}"


def check_answers(url: str, count: int, seed: int) -> dict[str, Any]:
    """Serve `url` and ask `count` sampled names: each must be 200 with its own ldhName."""
    with psycopg.connect(dsn(url)) as conn:
        row = conn.execute("SELECT max(id) FROM domains").fetchone()
        assert row is not None
        rng = random.Random(seed)
        ids = [rng.randint(1, int(row[0])) for _ in range(count)]
        names = [r[0] for r in conn.execute("SELECT ldh_name FROM domains WHERE id = ANY(%s)",
                                            (ids,))]  # fmt: skip
    env = {**os.environ, "RDAP_DATABASE_URL": url, "RDAP_ACCESS_LOG": "false",
           "RDAP_REQUIRE_TLS": "false", "RDAP_SECRET_KEY": "benchmark-secret"}  # fmt: skip
    proc, port = serve("wsgi", env, ROOT)
    wrong: list[str] = []
    try:
        wait_ready(f"http://127.0.0.1:{port}/help")
        for name in names:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/domain/{name}",
                headers={"Accept": "application/rdap+json"},
            )
            try:
                body = json.load(urllib.request.urlopen(request, timeout=30))
                if body.get("ldhName") != name:
                    wrong.append(f"{name}: ldhName {body.get('ldhName')!r}")
            except urllib.error.HTTPError as e:
                wrong.append(f"{name}: {e.code}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/domain/no-such-name-42.post")
            unknown = 200
        except urllib.error.HTTPError as e:
            unknown = e.code
    finally:
        stop(proc)
    return {"asked": len(names), "wrong": wrong, "unknown_name_status": unknown}


def lookups(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """lookup.py's cold public run against `url`: rdapd and the bare app, same run."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "lookup.py"), "--postgres", url,
         "--modes", "cold", "--tiers", "public", "--connections", str(args.connections),
         "--duration", str(args.duration), "--sample", str(args.sample),
         "--seed", str(args.seed)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout  # fmt: skip
    report: dict[str, Any] = json.loads(out)
    return report


def uptime() -> str:
    """The load average (1, 5, 15 minutes) now."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument(
        "--sample", type=int, default=200_000, help="names a cold run draws from (all distinct)"
    )
    parser.add_argument("--verify", type=int, default=0, help="first compare with the import")
    parser.add_argument("--check", type=int, default=20, help="answers checked per size")
    parser.add_argument("--load-limit", type=float, help="seconds a load may generate rows")
    parser.add_argument("--pg-bin", type=Path, default=Path("/usr/local/bin"))
    parser.add_argument("--datadir", type=Path, default=Path("/tmp/rdapd-pg-scale"))
    parser.add_argument("--server", help="use this running server (URL without database)")
    parser.add_argument("--no-load", action="store_true", help="databases are loaded already")
    parser.add_argument("--keep", action="store_true", help="leave the server running")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk")

    started_here = args.server is None
    server = args.server or start_server(args.pg_bin, args.datadir)
    print(f"server {server} (fsync off, full_page_writes off, shared_buffers 1GB)", flush=True)
    try:
        if args.verify:
            problems = verify(
                database(server, "scale_verify_import", create=True),
                database(server, "scale_verify_copy", create=True),
                size=args.verify,
                seed=args.seed,
            )
            print(f"verify {args.verify} domains: import and COPY load "
                  f"{'identical' if not problems else 'DIFFER'}", flush=True)  # fmt: skip
            for problem in problems:
                print(f"  {problem}", flush=True)
            if problems:
                raise SystemExit(1)
        urls = {}
        loads: dict[int, dict[str, Any]] = {}
        for size in args.sizes:
            urls[size] = database(server, f"scale_{size}", create=not args.no_load)
            if args.no_load:
                continue
            print(f"load {size} domains (load average {uptime()})", flush=True)
            loads[size] = result = bulk_load(
                urls[size],
                size=size,
                seed=args.seed,
                progress=lambda line: print(line, flush=True),
                stop_after=args.load_limit,
            )
            result["domains_per_s"] = round(result["domains"] / result["seconds"])
            print(f"loaded: {json.dumps(result)}", flush=True)
            if not result["complete"]:
                print(f"  {size}: load stopped after --load-limit; not measured", flush=True)
        measured = [s for s in args.sizes if args.no_load or loads[s]["complete"]]
        for size in measured:
            checked = check_answers(urls[size], args.check, args.seed)
            print(f"answers {size}: {json.dumps(checked)}", flush=True)
            if checked["wrong"] or checked["unknown_name_status"] != 404:
                raise SystemExit(f"wrong answers at {size} domains")
        results: dict[int, list[dict[str, Any]]] = {s: [] for s in measured}
        for round_number in range(args.rounds):
            for size in measured:
                load = uptime()
                report = lookups(urls[size], args)
                run = report["results"]["public/cold"]
                ours, bare = run["rdapd"], run["bare"]
                results[size].append(run)
                print(
                    f"round {round_number + 1} {size:>9} domains: rdapd {ours['rps']:.0f} req/s"
                    f" p50 {ours['p50']:.1f} ms p99 {ours['p99']:.1f} ms"
                    f" (non-2xx {ours['non2xx']:.0f}, timeouts {ours['timeouts']:.0f},"
                    f" wrapped {ours['wrapped']:.0f}); bare {bare['rps']:.0f} req/s"
                    f" p99 {bare['p99']:.1f} ms; ratio {run['ratio_rps']:.3f};"
                    f" body {report['body_bytes']['public']} B; load average {load}",
                    flush=True,
                )
        if len(measured) > 1:
            small, large = min(measured), max(measured)
            for n, (a, b) in enumerate(zip(results[small], results[large], strict=True), 1):
                print(
                    f"round {n}: p99({large})/p99({small}) ="
                    f" {b['rdapd']['p99'] / a['rdapd']['p99']:.2f} (target <= 1.3);"
                    f" p50 ratio {b['rdapd']['p50'] / a['rdapd']['p50']:.2f};"
                    f" throughput ratio {b['rdapd']['rps'] / a['rdapd']['rps']:.2f}"
                )
    finally:
        if started_here and not args.keep:
            stop_server(args.pg_bin, args.datadir)
            shutil.rmtree(args.datadir, ignore_errors=True)
        elif started_here:
            print(f"server left running: {args.pg_bin}/pg_ctl -D {args.datadir}/data stop")


if __name__ == "__main__":
    main()
