"""Benchmark: instructions per served lookup (cold, hot, Zipf), counted by valgrind's callgrind.

`lookup.py` measures requests per second with wrk; on a shared host those figures drift with
the load others put on it. This counts what one request costs the serving process instead:
gunicorn (one worker of the class and threads `rdapd serve` uses) runs under callgrind, a client in
this process sends requests over one keep-alive connection, and the worker's instruction
count is taken when it exits. Each figure is the difference of two runs with the same warm-up
that differ only in the requests measured, divided by their number, so start-up cancels out.
The kernel's share (sockets) and the client's are not counted, and are alike for every run.

Shapes as in `lookup.py`: cold (names never asked before), hot (names asked in the warm-up,
asked again: every measured request a hit), Zipf (s = 1.1 over all names, after a warm-up drawn
alike). Tiers: the public and a registrar token.
The bare app (`bare_app.py`) serving the tier's body is measured the same way; bare/rdapd is
the instruction ratio, comparable to lookup.py's requests/s ratio except for what is not
counted. Rate limiting is on with limits lifted, as in lookup.py.

    python benchmarks/served_instructions.py --db out/lookup-100000-7.sqlite3
    python benchmarks/served_instructions.py --modes hot --tiers public --requests 200
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from harness import COLLECTED, ROOT, benchmark_parser, database, free_port, serve, stop, wait_ready
from lookup import all_names, first_registrar, registrar_token, zipf_draws

WARM = 40  # requests every run makes before the measured ones


def run_served(
    module: str,
    env: dict[str, str],
    pythonpath: Path,
    paths: list[str],
    headers: dict[str, str],
) -> int:
    """Serve `module:app` with one worker under callgrind, ask `paths` in order, stop it, and
    return the worker's instruction count (the largest count of the processes traced)."""
    from rdap.serve import gunicorn_options
    from rdap.settings import Settings

    opts = gunicorn_options(Settings.from_env(env), "x")  # the served configuration
    port = free_port()
    command = [
        "valgrind",
        "--tool=callgrind",
        "--trace-children=yes",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        "1",
        "--worker-class",
        opts["worker_class"],
        "--threads",
        str(opts["threads"]),
        "--keep-alive",
        "600",
        "--timeout",
        "600",
        "--log-level",
        "warning",
        "--bind",
        f"127.0.0.1:{port}",
        f"{module}:app",
    ]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            command,
            env={**env, "PYTHONPATH": str(pythonpath)},
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            _wait(port)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            for path in paths:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status not in (200, 404):
                    raise SystemExit(f"{path}: status {response.status}")
            conn.close()
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=600)
        log.seek(0)
        text = log.read().decode("utf-8", "replace")
    counts = [int(n) for n in COLLECTED.findall(text)]
    if not counts:
        raise SystemExit(f"no instruction count from callgrind:\n{text[-2000:]}")
    return max(counts)


def _wait(port: int, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/help")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(1)
    raise SystemExit("server under callgrind did not start")


def sequences(names: list[str], mode: str, requests: int, rng: random.Random) -> list[str]:
    """The warm-up and then the measured requests of one shape."""
    if mode == "cold":
        chosen = rng.sample(names, WARM + requests)
        return [f"/domain/{n}" for n in chosen]
    if mode == "hot":
        # Popular names asked once, then again: every measured request a hit, as in lookup.py
        # once its 1,000 popular names are warm.
        warm = rng.sample(names, WARM)
        return [f"/domain/{n}" for n in warm + rng.choices(warm, k=requests)]
    ranked = names[:]
    rng.shuffle(ranked)
    return [f"/domain/{n}" for n in zipf_draws(ranked, WARM + requests, rng)]


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.set_defaults(size=100_000)
    parser.add_argument("--requests", type=int, default=100, help="requests measured per figure")
    parser.add_argument("--modes", nargs="+", default=["cold", "hot", "zipf"])
    parser.add_argument("--tiers", nargs="+", default=["public", "registrar"])
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind not found: apt-get install valgrind")
    db_path = database(args)
    db_url = f"sqlite:///{db_path}"
    names = all_names(db_url, args.seed)
    env = {
        **os.environ,
        "PYTHONHASHSEED": "0",
        "RDAP_DATABASE_URL": db_url,
        "RDAP_ACCESS_LOG": "false",
        "RDAP_RATELIMIT_ENABLED": "true",
        "RDAP_REQUIRE_TLS": "false",
        "RDAP_SECRET_KEY": "benchmark-secret",
        "RDAP_OAUTH_TOKEN_TTL": "7200",
    }
    for tier in ("PUBLIC", "REGISTRAR", "REQUESTER", "LAW_ENFORCEMENT", "STAFF"):
        env.setdefault(f"RDAP_RATELIMIT_{tier}", "100000000/minute")

    workdir = Path(tempfile.mkdtemp(prefix="rdapd-served-"))
    headers_of: dict[str, dict[str, str]] = {}
    proc, port = serve("wsgi", env, ROOT)
    try:
        wait_ready(f"http://127.0.0.1:{port}/help")
        for tier in args.tiers:
            headers = {"Accept": "application/rdap+json"}
            if tier == "registrar":
                token = registrar_token(env, port, first_registrar(db_url))
                headers["Authorization"] = f"Bearer {token}"
            headers_of[tier] = headers
            sample = urllib.request.Request(
                f"http://127.0.0.1:{port}/domain/{names[len(names) // 2]}", headers=headers
            )
            (workdir / f"body-{tier}.json").write_bytes(urllib.request.urlopen(sample).read())
    finally:
        stop(proc)

    runs: dict[str, tuple[Any, ...]] = {}
    for tier in args.tiers:
        bare_env = {**env, "BARE_BODY_FILE": str(workdir / f"body-{tier}.json")}
        bare_paths = ["/domain/x"] * (WARM + args.requests)
        bare_root = ROOT / "benchmarks"
        runs[f"{tier}/bare/base"] = ("bare_app", bare_env, bare_root, bare_paths[:WARM], tier)
        runs[f"{tier}/bare/measured"] = ("bare_app", bare_env, bare_root, bare_paths, tier)
        for mode in args.modes:
            paths = sequences(names, mode, args.requests, random.Random(args.seed))
            runs[f"{tier}/{mode}/base"] = ("wsgi", env, ROOT, paths[:WARM], tier)
            runs[f"{tier}/{mode}/measured"] = ("wsgi", env, ROOT, paths, tier)

    def count(item: tuple[Any, ...]) -> int:
        module, run_env, path, paths, tier = item
        return run_served(module, run_env, path, paths, headers_of[tier])

    with ThreadPoolExecutor(max_workers=2) as pool:  # one valgrind per CPU
        counts = dict(zip(runs, pool.map(count, runs.values()), strict=True))
    shutil.rmtree(workdir, ignore_errors=True)

    results: dict[str, Any] = {}
    for tier in args.tiers:
        bare = (counts[f"{tier}/bare/measured"] - counts[f"{tier}/bare/base"]) / args.requests
        results[f"{tier}/bare"] = round(bare)
        for mode in args.modes:
            measured, base = counts[f"{tier}/{mode}/measured"], counts[f"{tier}/{mode}/base"]
            each = (measured - base) / args.requests
            results[f"{tier}/{mode}"] = {
                "instructions": round(each),
                "ratio_bare": round(bare / each, 3),
            }
    print(
        json.dumps(
            {
                "database": str(db_path),
                "requests_per_figure": args.requests,
                "instructions_per_request": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
