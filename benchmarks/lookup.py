"""Benchmark: /domain/{name} lookups (cold, hot, Zipf) against a bare Flask endpoint.

Three traffic shapes over a generated registry (100k domains by default):

- cold: every request asks a name never asked before in the run (each wrk thread walks its own
  slice of a shuffled list of all names; the 500 names of the warm-up are kept apart), so every
  request misses any answer cache;
- hot: random names from 1,000 popular ones, after a warm-up that asked each of them ten times
  (requests land on either worker: each worker has seen every one);
- zipf: names drawn with a Zipf distribution (s = 1.1) over all names (rank = a random
  permutation), after a warm-up of 20,000 draws from the same distribution.

Warm-ups are counted in requests, not seconds, so a slow stretch of the host does not leave a
run colder than intended.

Each shape runs for the public (no credential) and for the registrar tier (a real token of a
registrar client created in the database, obtained from /oauth/token), with rate limiting on
and limits lifted so no request is refused. Every rdapd measurement starts a fresh server
(empty caches) and is followed in the same run by the bare Flask app (`bare_app.py`) serving a
prebuilt body of the same size from the same route under the same gunicorn settings, with the
same connections and headers; the ratio rdapd/bare compares runs measured back to back.

    python benchmarks/lookup.py                               # 100k domains, all shapes, both tiers
    python benchmarks/lookup.py --modes hot --tiers public --duration 10
    python benchmarks/lookup.py --answer-cache-url redis://127.0.0.1:6379/5   # shared cache on
    python benchmarks/lookup.py --postgres postgresql+psycopg://u@127.0.0.1/db   # loaded already
    python benchmarks/lookup.py --postgres URL --sample 200000   # names drawn from a large db
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from harness import (
    ROOT,
    benchmark_parser,
    database,
    parse_wrk,
    serve,
    stop,
    wait_ready,
    wrk_output,
)

# Each wrk thread cycles through its own file of names (<prefix>.<thread number>) and counts
# how often it had to start its file again: for the cold shape that must stay 0.
LUA = """
local threads = {}
local count = 0
function setup(thread)
  thread:set("id", count)
  table.insert(threads, thread)
  count = count + 1
end
function init(args)
  names = {}
  for line in io.lines("%(prefix)s." .. id) do names[#names + 1] = line end
  position = 0
  wrapped = 0
end
function request()
  position = position + 1
  if position > #names then
    position = 1
    wrapped = wrapped + 1
  end
  return wrk.format("GET", "/domain/" .. names[position], {%(headers)s})
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("wrapped") end
  io.write(string.format("wrapped: %%d\\n", total))
end
"""

THREADS = 2
POPULAR = 1000
ZIPF_S = 1.1
TOKEN_TTL = 7200  # seconds: outlives the run


def _query(db_url: str, sql: str) -> list[Any]:
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(sql))]
    engine.dispose()
    return rows


def all_names(db_url: str, seed: int) -> list[str]:
    """Every domain name, shuffled."""
    names = [r[0] for r in _query(db_url, "SELECT ldh_name FROM domains ORDER BY id")]
    random.Random(seed).shuffle(names)
    return names


def zipf_draws(ranked: list[str], count: int, rng: random.Random) -> list[str]:
    """`count` names drawn with P(rank k) proportional to k^-s."""
    weights = itertools.accumulate(1.0 / k**ZIPF_S for k in range(1, len(ranked) + 1))
    return rng.choices(ranked, cum_weights=list(weights), k=count)


def write_threads(prefix: Path, per_thread: list[list[str]]) -> None:
    for number, names in enumerate(per_thread):
        Path(f"{prefix}.{number}").write_text("\n".join(names) + "\n")


def wrk(
    port: int, prefix: Path, *, connections: int, duration: int, headers: dict[str, str]
) -> dict[str, float]:
    header_lua = ", ".join(f'["{k}"] = "{v}"' for k, v in headers.items())
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % {"prefix": prefix, "headers": header_lua})
    try:
        out = wrk_output(
            f"http://127.0.0.1:{port}",
            threads=THREADS,
            connections=connections,
            duration=duration,
            options=("-s", script.name),
        )
    finally:
        os.unlink(script.name)
    result = parse_wrk(out)
    wrapped = [line for line in out.splitlines() if line.startswith("wrapped:")]
    result["wrapped"] = float(wrapped[-1].split()[1]) if wrapped else -1.0
    return result


HOT_REPEAT = 10  # each popular name asked this often in the warm-up: every worker keeps it
ZIPF_WARMUP = 20_000  # draws asked before a Zipf run
COLD_WARMUP = 500  # names asked before a cold run (the process warms; no name repeats)


class Shapes:
    """Each shape's warm-up (names asked before the run, through a pool of connections, so every
    worker sees them) and measured requests (one file per wrk thread)."""

    def __init__(self, names: list[str], workdir: Path, seed: int, per_thread: int) -> None:
        self.names = names
        self.workdir = workdir
        self.rng = random.Random(seed)
        self.per_thread = per_thread

    def cold(self) -> tuple[list[str], Path]:
        # Disjoint: a few names warm the process up, the rest is split between threads.
        warm, measured = self.names[:COLD_WARMUP], self.names[COLD_WARMUP:]
        return warm, self._files("cold", [measured[i::THREADS] for i in range(THREADS)])

    def hot(self) -> tuple[list[str], Path]:
        popular = self.names[-POPULAR:]
        warm = popular * HOT_REPEAT
        self.rng.shuffle(warm)
        measured = [self.rng.choices(popular, k=self.per_thread) for _ in range(THREADS)]
        return warm, self._files("hot", measured)

    def zipf(self) -> tuple[list[str], Path]:
        ranked = self.names[:]
        self.rng.shuffle(ranked)
        warm = zipf_draws(ranked, ZIPF_WARMUP, self.rng)
        measured = [zipf_draws(ranked, self.per_thread, self.rng) for _ in range(THREADS)]
        return warm, self._files("zipf", measured)

    def _files(self, name: str, measured: list[list[str]]) -> Path:
        prefix = self.workdir / name
        write_threads(prefix, measured)
        return prefix


def warm_up(port: int, names: list[str], headers: dict[str, str], connections: int = 8) -> None:
    """Ask every name in `names`, over `connections` concurrent connections."""

    def ask(chunk: list[str]) -> None:
        for name in chunk:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            conn.request("GET", f"/domain/{name}", headers=headers)
            conn.getresponse().read()
            conn.close()

    with ThreadPoolExecutor(max_workers=connections) as pool:
        list(pool.map(ask, [names[i::connections] for i in range(connections)]))


def registrar_token(env: dict[str, str], port: int, iana_id: int) -> str:
    """A real access token: a registrar client created in the database, then /oauth/token."""
    created = subprocess.run(
        [
            *(sys.executable, "-m", "rdap", "client", "create", "--role", "registrar"),
            *("--name", "benchmark", "--registrar", str(iana_id), "--json"),
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    client = json.loads(created.stdout)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/oauth/token",
        data=b"grant_type=client_credentials&client_id="
        + client["client_id"].encode()
        + b"&client_secret="
        + client["client_secret"].encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    token: str = json.load(urllib.request.urlopen(request))["access_token"]
    return token


def first_registrar(db_url: str) -> int:
    sql = "SELECT iana_id FROM registrars WHERE iana_id IS NOT NULL ORDER BY id LIMIT 1"
    return int(_query(db_url, sql)[0][0])


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.set_defaults(size=100_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3, help="seconds of the bare app's warm-up")
    parser.add_argument("--modes", nargs="+", default=["cold", "hot", "zipf"])
    parser.add_argument("--tiers", nargs="+", default=["public", "registrar"])
    parser.add_argument("--no-ratelimit", action="store_true", help="switch rate limiting off")
    parser.add_argument(
        "--answer-cache-url", help="RDAP_ANSWER_CACHE_URL for rdapd (flushed before each run)"
    )
    parser.add_argument("--postgres", help="serve this PostgreSQL database (loaded already)")
    parser.add_argument(
        "--sample",
        type=int,
        help="use only this many names, drawn at random from the database (default: all)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk")

    db_url = args.postgres or f"sqlite:///{database(args)}"
    workdir = Path(tempfile.mkdtemp(prefix="rdapd-bench-"))
    names = all_names(db_url, args.seed)
    if args.sample:  # a random sample: the shuffled list's head
        names = names[: args.sample]
    # Enough requests per thread for the fastest server over the whole run.
    shapes = Shapes(names, workdir, args.seed, per_thread=(args.duration + args.warmup) * 4000)
    files = {mode: getattr(shapes, mode)() for mode in args.modes}

    from rdap.serve import default_workers
    from rdap.settings import Settings

    env = {
        **os.environ,
        "RDAP_DATABASE_URL": db_url,
        "RDAP_ACCESS_LOG": "false",
        "RDAP_RATELIMIT_ENABLED": "false" if args.no_ratelimit else "true",
        "RDAP_REQUIRE_TLS": "false",
        "RDAP_SECRET_KEY": "benchmark-secret",
        "RDAP_OAUTH_TOKEN_TTL": str(TOKEN_TTL),
    }
    if args.answer_cache_url:
        env["RDAP_ANSWER_CACHE_URL"] = args.answer_cache_url
    # Limits every request stays under: this measures what the limiter costs, not 429s.
    for tier in ("PUBLIC", "REGISTRAR", "REQUESTER", "LAW_ENFORCEMENT", "STAFF"):
        env.setdefault(f"RDAP_RATELIMIT_{tier}", "100000000/minute")

    headers_of: dict[str, dict[str, str]] = {}
    bodies: dict[str, Path] = {}
    proc, port = serve("wsgi", env, ROOT)
    try:
        wait_ready(f"http://127.0.0.1:{port}/help")
        for tier in args.tiers:
            headers = {"Accept": "application/rdap+json"}
            if tier == "registrar":
                token = registrar_token(env, port, first_registrar(db_url))
                headers["Authorization"] = f"Bearer {token}"
            headers_of[tier] = headers
            # The bare endpoint serves this tier's answer for a name no run asks first.
            sample = urllib.request.Request(
                f"http://127.0.0.1:{port}/domain/{names[len(names) // 2]}", headers=headers
            )
            bodies[tier] = workdir / f"body-{tier}.json"
            bodies[tier].write_bytes(urllib.request.urlopen(sample).read())
    finally:
        stop(proc)

    def measure(
        module: str, extra: dict[str, str], path: Path, tier: str, mode: str
    ) -> dict[str, float]:
        if args.answer_cache_url and module == "wsgi":
            flush_redis(args.answer_cache_url)
        warm, measured = files[mode]
        proc, port = serve(module, {**env, **extra}, path)
        try:
            wait_ready(f"http://127.0.0.1:{port}/domain/x")
            run: dict[str, Any] = {"connections": args.connections, "headers": headers_of[tier]}
            if module == "wsgi":
                warm_up(port, warm, headers_of[tier])
            else:  # the bare app serves one body: a short run warms it
                wrk(port, measured, duration=args.warmup, **run)
            return wrk(port, measured, duration=args.duration, **run)
        finally:
            stop(proc)

    results: dict[str, Any] = {}
    for tier in args.tiers:
        for mode in args.modes:
            ours = measure("wsgi", {}, ROOT, tier, mode)
            bare_env = {"BARE_BODY_FILE": str(bodies[tier])}
            bare = measure("bare_app", bare_env, ROOT / "benchmarks", tier, mode)
            results[f"{tier}/{mode}"] = {
                "rdapd": ours,
                "bare": bare,
                "ratio_rps": round(ours["rps"] / bare["rps"], 3),
            }
            print(f"{tier}/{mode}: {json.dumps(results[f'{tier}/{mode}'])}", file=sys.stderr)
    body_bytes = {tier: bodies[tier].stat().st_size for tier in args.tiers}
    shutil.rmtree(workdir, ignore_errors=True)

    settings = Settings.from_env(env)
    report = {
        "database": db_url,
        "domains": len(names),
        "body_bytes": body_bytes,
        "workers": settings.workers or default_workers(settings),
        "connections": args.connections,
        "ratelimit": not args.no_ratelimit,
        "answer_cache_url": args.answer_cache_url or "",
        "results": results,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
