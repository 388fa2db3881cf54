"""Benchmark: instructions per lookup, counted by valgrind's callgrind.

The companion of `search_instructions.py` for `/domain/{name}`: counts do not drift with the
host's speed, so builds can be compared from runs hours apart, and one optimisation at a time
can be weighed. Each figure is the difference between two runs of one child process that make
the same warm-up and differ only in the requests measured, divided by their number:

- cold: `--lookups` names never asked before in the process (a miss of any answer cache);
- hot: one name asked `--lookups` times after it was asked once (a hit, where answers are
  cached);
- bare: the bare Flask app of `bare_app.py` returning the cold answer's body, the baseline.

The public tier runs without credentials; `--registrar` adds a registrar's token (a client
created in the database) to every request. Rate limiting is off unless `--ratelimit`.
Needs `valgrind` (Debian package); a few minutes.

    python benchmarks/lookup_instructions.py --db out/lookup-100000-7.sqlite3
    python benchmarks/lookup_instructions.py --db out/lookup-100000-7.sqlite3 --registrar
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from harness import ROOT, benchmark_parser, callgrind_instructions, database

BARE_FACTOR = 10  # a bare request costs some 10x less: measure more of them


def _without_prepared() -> None:
    """Prepared reads run through `Connection.execute` instead (SQLAlchemy types the rows)."""
    from sqlalchemy import bindparam

    from rdap import prepared

    def rows(self: Any, connection: Any, **params: Any) -> list[dict[str, Any]]:
        return [dict(r) for r in connection.execute(self._build([]), params).mappings()]

    def batch_rows(self: Any, connection: Any, values: Any, **params: Any) -> list[dict[str, Any]]:
        in_list = [bindparam(f"in_list_{i}") for i in range(len(values))]
        params.update({f"in_list_{i}": v for i, v in enumerate(values)})
        statement = self._build(in_list)
        return [dict(r) for r in connection.execute(statement, params).mappings()]

    prepared.Prepared.rows = rows  # type: ignore[method-assign]
    prepared.PreparedBatch.rows = batch_rows  # type: ignore[method-assign]


def _without_outcome_cache() -> None:
    """Each contact's decisions and ops decided again for every entity."""
    from rdap.redaction import engine

    engine._outcome = engine._outcome.__wrapped__  # type: ignore[assignment]


# Optimisations of the read path that `--without` switches off one at a time, to weigh each.
WITHOUT = {"prepared": _without_prepared, "outcome-cache": _without_outcome_cache}


def child(app_name: str, urls_file: str, warm: int, count: int, token: str) -> None:
    """Runs under callgrind: build the app, ask the first `warm` URLs of the file, then the
    next `count` ones."""
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
    for name in filter(None, os.environ.get("BENCH_WITHOUT", "").split(",")):
        WITHOUT[name]()
    if app_name == "bare":
        from bare_app import app
    else:
        from wsgi import app
    urls = Path(urls_file).read_text().split()
    headers = {"Accept": "application/rdap+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    client = app.test_client()
    for url in urls[:warm]:
        if client.get(url, headers=headers).status_code != 200:
            raise SystemExit(f"{url}: not 200")
    for url in urls[warm : warm + count]:
        client.get(url, headers=headers)


def instructions(
    env: dict[str, str], app_name: str, urls: Path, warm: int, count: int, token: str
) -> int:
    argv = [
        __file__,
        "--child",
        app_name,
        str(urls),
        str(warm),
        str(count),
        token,
    ]
    return callgrind_instructions(argv, env)


def registrar_token(env: dict[str, str]) -> str:
    """A registrar client created in the database, and a token from /oauth/token."""
    import base64

    conn = sqlite3.connect(env["RDAP_DATABASE_URL"].removeprefix("sqlite:///"))
    (iana_id,) = conn.execute(
        "SELECT iana_id FROM registrars WHERE iana_id IS NOT NULL ORDER BY id LIMIT 1"
    ).fetchone()
    conn.close()
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
    from wsgi import app

    basic = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode())
    response = app.test_client().post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic.decode()}"},
    )
    token: str = response.get_json()["access_token"]
    return token


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
        return
    parser = benchmark_parser(__doc__)
    parser.set_defaults(size=100_000)
    parser.add_argument("--lookups", type=int, default=40, help="requests measured per figure")
    parser.add_argument("--registrar", action="store_true", help="a registrar token on each")
    parser.add_argument("--ratelimit", action="store_true", help="keep rate limiting on")
    parser.add_argument(
        "--without",
        choices=sorted(WITHOUT),
        action="append",
        default=[],
        help="switch this optimisation off (repeatable); only the cold figure is measured",
    )
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind not found: apt-get install valgrind")
    db_path = database(args)
    env = {
        **os.environ,
        "PYTHONHASHSEED": "0",  # hash randomisation would change counts from run to run
        "RDAP_DATABASE_URL": f"sqlite:///{db_path}",
        "RDAP_RATELIMIT_ENABLED": "true" if args.ratelimit else "false",
        "RDAP_SECRET_KEY": "benchmark-secret",
        "RDAP_OAUTH_TOKEN_TTL": "7200",
        "BENCH_WITHOUT": ",".join(args.without),
    }
    for tier in ("PUBLIC", "REGISTRAR", "REQUESTER", "LAW_ENFORCEMENT", "STAFF"):
        env.setdefault(f"RDAP_RATELIMIT_{tier}", "100000000/minute")
    os.environ.update(env)
    sys.path[:0] = [str(ROOT)]
    token = registrar_token(env) if args.registrar else ""

    conn = sqlite3.connect(db_path)
    names = [r[0] for r in conn.execute("SELECT ldh_name FROM domains ORDER BY id")]
    conn.close()
    rng = random.Random(args.seed)
    chosen = rng.sample(names, 10 + args.lookups)
    warm_names, cold_names = chosen[:10], chosen[10:]
    workdir = Path(tempfile.mkdtemp(prefix="rdapd-instr-"))
    cold = workdir / "cold.txt"
    cold.write_text("\n".join(f"/domain/{n}" for n in warm_names + cold_names))
    hot = workdir / "hot.txt"  # the warm-up asks the hot name once; then it is asked again
    hot_names = [*warm_names, *[cold_names[0]] * (args.lookups + 1)]
    hot.write_text("\n".join(f"/domain/{n}" for n in hot_names))

    from wsgi import app

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = workdir / "body.json"
    body.write_bytes(app.test_client().get(f"/domain/{cold_names[0]}", headers=headers).data)
    bare_urls = workdir / "bare.txt"
    bare_urls.write_text("\n".join(["/domain/x"] * (10 + args.lookups * BARE_FACTOR)))
    bare_env = {**env, "BARE_BODY_FILE": str(body)}
    n = args.lookups
    runs = {
        "cold_base": (env, "rdapd", cold, 10, 0, token),
        "cold": (env, "rdapd", cold, 10, n, token),
        "hot_base": (env, "rdapd", hot, 11, 0, token),
        "hot": (env, "rdapd", hot, 11, n, token),
        "bare_base": (bare_env, "bare", bare_urls, 10, 0, ""),
        "bare": (bare_env, "bare", bare_urls, 10, n * BARE_FACTOR, ""),
    }
    if args.without:
        runs = {k: v for k, v in runs.items() if k.startswith("cold")}
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:  # one valgrind per CPU
            found = pool.map(lambda r: instructions(*r), runs.values())
            counts = dict(zip(runs, found, strict=True))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    cold_each = (counts["cold"] - counts["cold_base"]) / n
    if args.without:
        print(json.dumps({"without": args.without, "instructions_cold": round(cold_each)}))
        return
    hot_each = (counts["hot"] - counts["hot_base"]) / n
    bare_each = (counts["bare"] - counts["bare_base"]) / (n * BARE_FACTOR)
    print(
        json.dumps(
            {
                "database": str(db_path),
                "tier": "registrar" if token else "public",
                "ratelimit": args.ratelimit,
                "lookups_per_figure": n,
                "instructions_cold": round(cold_each),
                "instructions_hot": round(hot_each),
                "instructions_bare": round(bare_each),
                "ratio_bare_cold": round(bare_each / cold_each, 3),
                "ratio_bare_hot": round(bare_each / hot_each, 3),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
