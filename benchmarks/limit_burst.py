"""Measure: does the public rate limit hold for the whole server, whatever worker answers?

Starts `rdapd serve` (gunicorn, --workers N) on 127.0.0.1 over a generated registry with the
embedded defaults (counter storage memory://, public limit 60/minute), fires a burst of
anonymous lookups at once from one address, and prints how many passed (200) and how many were
refused (429) against the configured limit. `--no-redis-server` hides redis-server from the
server's PATH, to measure the fallback.

    python benchmarks/limit_burst.py --size 2000 --workers 2 --burst 150
    python benchmarks/limit_burst.py --db /tmp/registry.sqlite3 --no-redis-server
"""

from __future__ import annotations

import collections
import concurrent.futures
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from harness import benchmark_parser, database, free_port, start, stop


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def wait_listening(port: int, timeout: float = 60) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit("the server did not start")


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.set_defaults(size=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--burst", type=int, default=150, help="requests fired at once")
    parser.add_argument("--limit", default="60/minute", help="RDAP_RATELIMIT_PUBLIC")
    parser.add_argument("--no-redis-server", action="store_true", help="hide redis-server")
    args = parser.parse_args()
    db_path = database(args)
    names = [
        row[0]
        for row in sqlite3.connect(db_path).execute(
            "SELECT ldh_name FROM domains ORDER BY id LIMIT ?", (args.burst,)
        )
    ]
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RDAP_")}
        env.update(
            RDAP_DATABASE_URL=f"sqlite:///{db_path}",
            RDAP_INSTANCE_PATH=str(Path(tmp) / "instance"),
            RDAP_SECRET_KEY="benchmark",
            RDAP_RATELIMIT_PUBLIC=args.limit,
            RDAP_LOG_LEVEL="WARNING",
        )
        if args.no_redis_server:
            bin_dir = Path(tmp) / "bin"  # the interpreter only: no redis-server on PATH
            bin_dir.mkdir()
            env["PATH"] = str(bin_dir)
        elif shutil.which("redis-server") is None:
            print("note: redis-server is not installed here")
        port = free_port()
        command = [sys.executable, "-m", "rdap", "serve", "--bind", f"127.0.0.1:{port}"]
        command += ["--workers", str(args.workers)]
        server = start(command, env)
        try:
            wait_listening(port)
            time.sleep(2)  # every worker booted
            base = f"http://127.0.0.1:{port}"
            urls = [f"{base}/domain/{names[i % len(names)]}" for i in range(args.burst)]
            started = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(max_workers=args.burst) as pool:
                statuses = collections.Counter(pool.map(status, urls))
            elapsed = time.monotonic() - started
        finally:
            stop(server)
    print(f"rdapd serve --workers {args.workers}, RDAP_RATELIMIT_PUBLIC={args.limit}")
    print(f"{args.burst} lookups at once from 127.0.0.1 in {elapsed:.1f} s: {dict(statuses)}")
    print(f"passed {statuses.get(200, 0)} against a limit of {args.limit}")


if __name__ == "__main__":
    main()
