"""Benchmark harness: start servers on 127.0.0.1, build the benchmark database, run wrk."""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / "out"


def in_process_misses(db_path: Path) -> None:
    """Set this process up to run rdapd's app in process over DB_PATH with every lookup a miss:
    no limiter, no answer cache, no access log or INFO logging; the project and the benchmarks
    importable."""
    os.environ.update(
        {
            "RDAP_DATABASE_URL": f"sqlite:///{db_path}",
            "RDAP_RATELIMIT_ENABLED": "false",
            "RDAP_SECRET_KEY": "benchmark-secret",
            "RDAP_ANSWER_CACHE_BYTES": "0",
            "RDAP_ACCESS_LOG": "false",
        }
    )
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
    logging.disable(logging.INFO)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not start")


def build_database(size: int, seed: int) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    db_path = CACHE / f"lookup-{size}-{seed}.sqlite3"
    if db_path.exists():
        return db_path
    deposit = CACHE / f"deposit-{size}-{seed}.xml"
    env = {**os.environ, "RDAP_DATABASE_URL": f"sqlite:///{db_path}"}
    rdapd = [sys.executable, "-m", "rdap"]
    if not deposit.exists():
        subprocess.run(
            [*rdapd, "generate-deposit", "--size", str(size), "--seed", str(seed), str(deposit)],
            check=True,
            env=env,
        )
    subprocess.run([*rdapd, "db", "upgrade"], check=True, env=env)
    subprocess.run([*rdapd, "import-rde", str(deposit)], check=True, env=env)
    return db_path


def benchmark_parser(doc: str | None) -> argparse.ArgumentParser:
    """A parser with the options every benchmark shares: the generated database to use."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=1_000_000, help="domains to generate")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", type=Path, help="an existing SQLite database to use instead")
    return parser


def database(args: argparse.Namespace) -> Path:
    """The database the parsed options name: --db, or one generated (once) by size and seed."""
    path: Path = (args.db or build_database(args.size, args.seed)).resolve()
    from rdap import migrate

    migrate.upgrade(f"sqlite:///{path}")  # a database built by an older build: bring it to head
    return path


def deepest_full_page(first: str, fetch: Callable[[str], Any]) -> tuple[str, int, int, int]:
    """Walk a search's cursor chain from `first`: (URL of the deepest full page, its number,
    pages in all, page size). A short final page would flatter a first/last comparison."""
    url, pages, last, last_number, size = first, 0, first, 1, 0
    while True:
        body = fetch(url)
        pages += 1
        results = len(body["domainSearchResults"])
        if pages == 1:
            size = results
        if results == size:
            last, last_number = url, pages
        links = body["paging_metadata"].get("links", [])
        if not links:
            return last, last_number, pages, size
        url = links[0]["href"]


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(out: str) -> dict[str, float]:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    result = {"rps": rps}
    for pct, text in lat.items():
        m = re.match(r"([\d.]+)(us|ms|s)", text)
        result[f"p{pct}"] = _ms(m.group(1), m.group(2))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non2xx"] = float(errors.group(1)) if errors else 0.0
    # Requests wrk gave up on (2 s) are not in its latency figures: report them beside.
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    result["socket_errors"] = float(sum(map(int, sockets.groups()))) if sockets else 0.0
    result["timeouts"] = float(sockets.group(4)) if sockets else 0.0
    return result


def wrk_output(
    url: str, *, threads: int, connections: int, duration: int, options: tuple[str, ...] = ()
) -> str:
    """What `wrk --latency` prints after loading URL (OPTIONS before it: `-s script`, `-H ...`)."""
    return subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{duration}s",
            "--latency",
            *options,
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


COLLECTED = re.compile(r"Collected : (\d+)")  # callgrind's total on standard error


def callgrind_instructions(argv: list[str], env: dict[str, str]) -> int:
    """Instructions callgrind counts for `python ARGV` run to completion with ENV."""
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, *argv],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    found = COLLECTED.findall(out.stderr)
    if not found:
        raise SystemExit(f"no instruction count from callgrind:\n{out.stderr[-2000:]}")
    return int(found[-1])


def start(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def serve(
    module: str, env: dict[str, str], pythonpath: Path, **changes: str
) -> tuple[subprocess.Popen[bytes], int]:
    """`module:app` under gunicorn with the worker settings `rdapd serve` uses; (process, port).
    `changes` replace options (worker_class="sync")."""
    from rdap.serve import gunicorn_options
    from rdap.settings import Settings

    opts = gunicorn_options(Settings.from_env(env), "x", **changes)  # the served configuration
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(opts["workers"]),
        "--worker-class",
        opts["worker_class"],
        "--threads",
        str(opts["threads"]),
        "--keep-alive",
        str(opts["keepalive"]),
        "--log-level",
        "warning",
        "--bind",
        f"127.0.0.1:{port}",
        f"{module}:app",
    ]
    return start(command, {**env, "PYTHONPATH": str(pythonpath)}), port
