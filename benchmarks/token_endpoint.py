"""Measure the token endpoint under wrong secrets: refusals, cost, and what it does to lookups.

Starts `rdapd serve` (gunicorn, the served worker count) on 127.0.0.1 over a generated registry,
creates one OAuth client, and measures over HTTP:

1. 200 requests with the client's id and a wrong secret, one after another: the statuses
   (after the first few failures they should be refused with 429);
2. the time of a request with a known id and a wrong secret against one with an unknown id
   (median of --rounds each, alternating): equal times tell no one which ids exist;
3. lookup latency (p50/p99 of sequential `/domain/{name}` requests) alone, then while
   --attackers connections send wrong secrets as fast as they can.

Lookups are not rate-limited in this run (RDAP_RATELIMIT_PUBLIC is raised): it measures the
token endpoint, not the lookup budget. `--failure-limit` sets RDAP_RATELIMIT_AUTH_FAILURES (a
build without that setting refuses unknown settings: leave it out there).

    python benchmarks/token_endpoint.py --size 2000
    python benchmarks/token_endpoint.py --size 2000 --failure-limit 100000/minute   # cost only
"""

from __future__ import annotations

import base64
import collections
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from harness import benchmark_parser, database, free_port, start, stop, wait_ready


def request(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> int:
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.read()
        return int(exc.code)


def token_attempt(base: str, client_id: str, secret: str) -> int:
    credentials = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return request(
        f"{base}/oauth/token",
        data=b"grant_type=client_credentials",
        headers={
            "Authorization": f"Basic {credentials}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )


def timed(call: object) -> float:
    started = time.perf_counter()
    call()  # type: ignore[operator]
    return (time.perf_counter() - started) * 1000


def latencies(base: str, names: list[str], seconds: float) -> tuple[float, float, int]:
    times: list[float] = []
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline:
        url = f"{base}/domain/{names[i % len(names)]}"
        times.append(timed(lambda url=url: request(url)))
        i += 1
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99)], len(times)


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.set_defaults(size=2000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--attackers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0, help="per latency phase")
    parser.add_argument("--failure-limit", help="RDAP_RATELIMIT_AUTH_FAILURES")
    args = parser.parse_args()
    db_source = database(args)
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        db_path = Path(tmp) / "registry.sqlite3"  # the client row goes into a copy
        db_path.write_bytes(db_source.read_bytes())
        names = [r[0] for r in sqlite3.connect(db_path).execute("SELECT ldh_name FROM domains")]
        env = {k: v for k, v in os.environ.items() if not k.startswith("RDAP_")}
        env.update(
            RDAP_DATABASE_URL=f"sqlite:///{db_path}",
            RDAP_INSTANCE_PATH=str(Path(tmp) / "instance"),
            RDAP_SECRET_KEY="benchmark",
            RDAP_REQUIRE_TLS="false",
            RDAP_RATELIMIT_PUBLIC="1000000/minute",
            RDAP_LOG_LEVEL="WARNING",
        )
        if args.failure_limit:
            env["RDAP_RATELIMIT_AUTH_FAILURES"] = args.failure_limit
        created = subprocess.run(
            [
                *(sys.executable, "-m", "rdap", "client", "create", "--role", "requester"),
                *("--name", "benchmark", "--purpose", "legalActions", "--json"),
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        client_id = json.loads(created.stdout)["client_id"]
        port = free_port()
        server = start([sys.executable, "-m", "rdap", "serve", "--bind", f"127.0.0.1:{port}"], env)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(f"{base}/help")
            time.sleep(2)  # every worker booted

            statuses = collections.Counter(
                token_attempt(base, client_id, "wrong") for _ in range(200)
            )
            print(f"200 wrong secrets for one client id, one after another: {dict(statuses)}")

            known: list[float] = []
            unknown: list[float] = []
            for i in range(args.rounds):
                known.append(timed(lambda: token_attempt(base, client_id, "wrong")))
                unknown.append(timed(lambda i=i: token_attempt(base, f"rdapd-nobody{i}", "x")))
            print(
                f"token request, known id + wrong secret: p50 {statistics.median(known):.2f} ms;"
                f" unknown id: p50 {statistics.median(unknown):.2f} ms"
                f" (ratio {statistics.median(known) / statistics.median(unknown):.2f})"
            )

            p50, p99, n = latencies(base, names, args.seconds)
            print(f"lookups alone: p50 {p50:.2f} ms, p99 {p99:.2f} ms ({n} lookups)")
            stop_attack = threading.Event()
            attempts = collections.Counter[int]()

            def attack(n: int) -> None:
                i = 0
                while not stop_attack.is_set():
                    attempts[token_attempt(base, f"rdapd-guess{n}-{i}", "x")] += 1
                    attempts[token_attempt(base, client_id, f"guess{n}-{i}")] += 1
                    i += 1

            threads = [threading.Thread(target=attack, args=(n,)) for n in range(args.attackers)]
            for thread in threads:
                thread.start()
            try:
                p50a, p99a, n = latencies(base, names, args.seconds)
            finally:
                stop_attack.set()
                for thread in threads:
                    thread.join()
            print(
                f"lookups while {args.attackers} connections send wrong secrets:"
                f" p50 {p50a:.2f} ms, p99 {p99a:.2f} ms ({n} lookups);"
                f" attacker answers {dict(attempts)}"
            )
            print(f"ratio under attack / alone: p50 {p50a / p50:.2f}, p99 {p99a / p99:.2f}")
        finally:
            stop(server)


if __name__ == "__main__":
    main()
