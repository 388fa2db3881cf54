"""Benchmark: lookup latency while slow clients hold connections open, sync vs threaded workers.

Serves a generated registry twice: with the previous configuration (gunicorn sync workers) and
with `rdapd serve` as it is (threaded workers, client read timeout). For each, wrk measures
/domain/{name} for random names with no other clients, then again while `--slow` clients keep
connections open that send part of a request's headers and then nothing (each reconnects when
the server closes it). Prints p50/p99 of each run and the ratio p99 with / p99 without.

    python benchmarks/slow_clients.py --size 20000            # 20 slow clients, SQLite
    python benchmarks/slow_clients.py --postgres postgresql+psycopg://u@127.0.0.1/db
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from harness import ROOT, benchmark_parser, database, free_port, serve, start, stop, wait_ready
from lookup import run_wrk, sample_names


class SlowClients:
    """`count` connections to 127.0.0.1:`port` that send half a request and then stall."""

    def __init__(self, port: int, count: int) -> None:
        self.port = port
        self.count = count
        self.stopping = threading.Event()
        self.opened = 0
        self.threads = [threading.Thread(target=self._hold, daemon=True) for _ in range(count)]

    def _hold(self) -> None:
        while not self.stopping.is_set():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=60) as sock:
                    self.opened += 1
                    sock.sendall(b"GET /domain/example.post HTTP/1.1\r\nHost: 127.0.0.1\r\nX-")
                    sock.settimeout(0.5)
                    while not self.stopping.is_set():
                        try:
                            if sock.recv(4096) == b"":
                                break  # the server closed it: open another
                        except TimeoutError:
                            continue
            except OSError:
                time.sleep(0.1)

    def __enter__(self) -> SlowClients:
        for thread in self.threads:
            thread.start()
        time.sleep(1.0)  # let them connect and stall
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=5)


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--slow", type=int, default=20, help="slow clients")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--postgres", help="serve this PostgreSQL database (already loaded)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="rdapd-slow-"))
    names_file = workdir / "names.txt"
    if args.postgres:
        url = args.postgres
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT ldh_name FROM domains TABLESAMPLE SYSTEM (1) LIMIT 5000")
            ).all()
        engine.dispose()
        names = [r[0] for r in rows]
    else:
        db_path = database(args)
        url = f"sqlite:///{db_path}"
        names = sample_names(db_path, 5000, args.seed)
    names_file.write_text("\n".join(names) + "\n")
    env = {
        **os.environ,
        "RDAP_DATABASE_URL": url,
        "RDAP_RATELIMIT_ENABLED": "false",
        "RDAP_REQUIRE_TLS": "false",
        "RDAP_ACCESS_LOG": "false",
    }

    def measure(port: int) -> dict[str, dict[str, float]]:
        wait_ready(f"http://127.0.0.1:{port}/healthz")
        wrk = {"connections": args.connections, "seed": args.seed, "token": None}
        run_wrk(port, names_file, duration=3, **wrk)  # type: ignore[arg-type]
        quiet = run_wrk(port, names_file, duration=args.duration, **wrk)  # type: ignore[arg-type]
        with SlowClients(port, args.slow) as slow:
            busy = run_wrk(port, names_file, duration=args.duration, **wrk)  # type: ignore[arg-type]
            opened = slow.opened
        # Again without, so drift of the host between the runs shows.
        after = run_wrk(port, names_file, duration=args.duration, **wrk)  # type: ignore[arg-type]
        return {
            "without": quiet,
            "with": busy,
            "without_again": after,
            "slow_connections_opened": opened,
        }  # type: ignore[dict-item]

    results: dict[str, object] = {}
    # The previous configuration: sync workers, same count.
    proc, port = serve("wsgi", {**env, "RDAP_ACCESS_LOG": "false"}, ROOT, worker_class="sync")
    try:
        results["sync"] = measure(port)
    finally:
        stop(proc)
    # `rdapd serve` as shipped.
    port = free_port()
    proc = start([sys.executable, "-m", "rdap", "serve", "--bind", f"127.0.0.1:{port}"], env)
    try:
        results["gthread (rdapd serve)"] = measure(port)
    finally:
        stop(proc)
    for r in results.values():
        run = r  # type: ignore[assignment]
        without = max(run["without"]["p99"], run["without_again"]["p99"])  # type: ignore[index]
        run["p99_ratio_with_without"] = round(run["with"]["p99"] / without, 2)  # type: ignore[index]
    print(
        json.dumps(
            {"slow_clients": args.slow, "wrk_connections": args.connections, **results}, indent=2
        )
    )
    subprocess.run(["rm", "-rf", str(workdir)], check=False)


if __name__ == "__main__":
    main()
