"""Benchmark: /domain/{name} for random names over a large database vs a bare Flask endpoint.

Both servers run under gunicorn with the options `rdapd serve` uses (rdap.serve.gunicorn_options),
one after the other, loaded by wrk (Debian package `wrk`) from the same machine with the same
connection count. Prints requests/s and p50/p99 latency of each, and the ratio rdapd/bare.

    python benchmarks/lookup.py --size 1000000            # generate + import once, cached
    python benchmarks/lookup.py --db /path/to.sqlite3     # an existing database
    python benchmarks/lookup.py --postgres postgresql+psycopg://u@127.0.0.1/db   # loaded already
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path

from harness import ROOT, benchmark_parser, database, parse_wrk, serve, stop, wait_ready

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


def sample_postgres_names(url: str, count: int, seed: int) -> list[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        total = conn.execute(text("SELECT max(id) FROM domains")).scalar_one()
        rng = random.Random(seed)
        ids = [rng.randint(1, total) for _ in range(count * 2)]
        names = [
            r[0]
            for r in conn.execute(
                text("SELECT ldh_name FROM domains WHERE id = ANY(:ids)"), {"ids": ids}
            )
        ]
    engine.dispose()
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
    parser = benchmark_parser(__doc__)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--names", type=int, default=20000)
    parser.add_argument("--token", help="bearer token to send (measures an authenticated tier)")
    parser.add_argument("--ratelimit", action="store_true", help="keep rate limiting on")
    parser.add_argument("--postgres", help="serve this PostgreSQL database (loaded already)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk")

    workdir = Path(tempfile.mkdtemp(prefix="rdapd-bench-"))
    names_file = workdir / "names.txt"
    if args.postgres:
        db_url = args.postgres
        names = sample_postgres_names(db_url, args.names, args.seed)
    else:
        db_path = database(args)
        db_url = f"sqlite:///{db_path}"
        names = sample_names(db_path, args.names, args.seed)
    names_file.write_text("\n".join(names) + "\n")

    from rdap.serve import default_workers
    from rdap.settings import Settings

    env = {
        **os.environ,
        "RDAP_DATABASE_URL": db_url,
        "RDAP_ACCESS_LOG": "false",
        "RDAP_RATELIMIT_ENABLED": "true" if args.ratelimit else "false",
        "RDAP_REQUIRE_TLS": "false",
    }
    if args.ratelimit:
        # Limits every request stays under: this measures what the limiter costs, not 429s.
        for tier in ("PUBLIC", "REGISTRAR", "REQUESTER", "LAW_ENFORCEMENT", "STAFF"):
            env.setdefault(f"RDAP_RATELIMIT_{tier}", "100000000/minute")

    def measure(
        module: str, ready_path: str, extra: dict[str, str], path: Path
    ) -> dict[str, float]:
        proc, port = serve(module, {**env, **extra}, path)
        try:
            wait_ready(f"http://127.0.0.1:{port}{ready_path}")
            run_wrk(
                port, names_file, connections=args.connections, duration=3, seed=1, token=args.token
            )
            return run_wrk(
                port,
                names_file,
                connections=args.connections,
                duration=args.duration,
                seed=args.seed,
                token=args.token,
            )
        finally:
            stop(proc)

    # rdapd first; its answer for one name is the bare endpoint's prebuilt body.
    proc, port = serve("wsgi", env, ROOT)
    try:
        wait_ready(f"http://127.0.0.1:{port}/help")
        sample = urllib.request.urlopen(f"http://127.0.0.1:{port}/domain/{names[0]}").read()
    finally:
        stop(proc)
    ours = measure("wsgi", "/help", {}, ROOT)
    body_file = workdir / "body.json"
    body_file.write_bytes(sample)
    bare = measure("bare_app", "/domain/x", {"BARE_BODY_FILE": str(body_file)}, ROOT / "benchmarks")
    shutil.rmtree(workdir, ignore_errors=True)

    report = {
        "database": db_url,
        "body_bytes": len(sample),
        "workers": Settings.from_env(env).workers or default_workers(Settings.from_env(env)),
        "connections": args.connections,
        "rdapd": ours,
        "bare": bare,
        "ratio_rps": round(ours["rps"] / bare["rps"], 3),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
