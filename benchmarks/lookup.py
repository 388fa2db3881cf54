"""Benchmark: /domain/{name} for random names over a large database vs a bare Flask endpoint.

Both servers run under gunicorn with the options `rdapd serve` uses (rdap.serve.gunicorn_options),
one after the other, loaded by wrk (Debian package `wrk`) from the same machine with the same
connection count. Prints requests/s and p50/p99 latency of each, and the ratio rdapd/bare.

    python benchmarks/lookup.py --size 1000000            # generate + import once, cached
    python benchmarks/lookup.py --db /path/to.sqlite3     # an existing database
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from harness import ROOT, build_database, free_port, parse_wrk, start, stop, wait_ready

LUA = """
local names = {}
for line in io.lines("%(names)s") do names[#names + 1] = line end
math.randomseed(%(seed)d)
request = function()
  local headers = {["Accept"] = "application/rdap+json"%(auth)s}
  return wrk.format("GET", "/domain/" .. names[math.random(#names)], headers)
end
"""


def sample_names(db_path: Path, count: int, seed: int) -> list[str]:
    import sqlite3

    conn = sqlite3.connect(db_path)
    total = conn.execute("SELECT max(id) FROM domains").fetchone()[0]
    rng = random.Random(seed)
    ids = [rng.randint(1, total) for _ in range(count * 2)]
    names: list[str] = []
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        marks = ",".join("?" * len(part))
        names += [
            r[0] for r in conn.execute(f"SELECT ldh_name FROM domains WHERE id IN ({marks})", part)
        ]
    conn.close()
    rng.shuffle(names)
    return names[:count]


def run_wrk(
    port: int, names_file: Path, *, connections: int, duration: int, seed: int, token: str | None
) -> dict[str, float]:
    auth = f', ["Authorization"] = "Bearer {token}"' if token else ""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % {"names": names_file, "seed": seed, "auth": auth})
    out = subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            str(connections),
            "-d",
            f"{duration}s",
            "--latency",
            "-s",
            script.name,
            f"http://127.0.0.1:{port}",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    os.unlink(script.name)
    return parse_wrk(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", type=Path, help="existing SQLite database to serve")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--names", type=int, default=20000)
    parser.add_argument("--token", help="bearer token to send (measures an authenticated tier)")
    parser.add_argument("--ratelimit", action="store_true", help="keep rate limiting on")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk")

    db_path = args.db or build_database(args.size, args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="rdapd-bench-"))
    names_file = workdir / "names.txt"
    names = sample_names(db_path, args.names, args.seed)
    names_file.write_text("\n".join(names) + "\n")

    from rdap.serve import gunicorn_options
    from rdap.settings import Settings

    settings = Settings.from_env({})
    opts = gunicorn_options(settings, "x")
    gunicorn_args = [
        "--workers",
        str(opts["workers"]),
        "--worker-class",
        opts["worker_class"],
        "--keep-alive",
        str(opts["keepalive"]),
        "--log-level",
        "warning",
    ]
    env = {
        **os.environ,
        "RDAP_DATABASE_URL": f"sqlite:///{db_path}",
        "RDAP_RATELIMIT_ENABLED": "true" if args.ratelimit else "false",
        "RDAP_REQUIRE_TLS": "false",
    }

    # rdapd
    port = free_port()
    proc = start(
        [
            sys.executable,
            "-m",
            "gunicorn",
            *gunicorn_args,
            "--bind",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ],
        {**env, "PYTHONPATH": str(ROOT)},
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/help")
        sample = urllib.request.urlopen(f"http://127.0.0.1:{port}/domain/{names[0]}").read()
        run_wrk(
            port, names_file, connections=args.connections, duration=3, seed=1, token=args.token
        )
        ours = run_wrk(
            port,
            names_file,
            connections=args.connections,
            duration=args.duration,
            seed=args.seed,
            token=args.token,
        )
    finally:
        stop(proc)

    # bare Flask endpoint with a prebuilt body of the same size
    body_file = workdir / "body.json"
    body_file.write_bytes(sample)
    port = free_port()
    proc = start(
        [
            sys.executable,
            "-m",
            "gunicorn",
            *gunicorn_args,
            "--bind",
            f"127.0.0.1:{port}",
            "bare_app:app",
        ],
        {**env, "BARE_BODY_FILE": str(body_file), "PYTHONPATH": str(ROOT / "benchmarks")},
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/domain/x")
        run_wrk(
            port, names_file, connections=args.connections, duration=3, seed=1, token=args.token
        )
        bare = run_wrk(
            port,
            names_file,
            connections=args.connections,
            duration=args.duration,
            seed=args.seed,
            token=args.token,
        )
    finally:
        stop(proc)
    shutil.rmtree(workdir, ignore_errors=True)

    report = {
        "database": str(db_path),
        "body_bytes": len(sample),
        "workers": opts["workers"],
        "connections": args.connections,
        "rdapd": ours,
        "bare": bare,
        "ratio_rps": round(ours["rps"] / bare["rps"], 3),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
