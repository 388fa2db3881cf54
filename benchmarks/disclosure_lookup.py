"""Benchmark: /domain/{name} for an accredited requester with grants, against the public lookup
of the same names in the same run.

A copy of the generated registry gets one accreditation, one requester client and an approved
request (through the disclosure service, audit entries and all) for each of --grants sampled
names. One gunicorn server (the options `rdapd serve` uses) is then loaded by wrk (Debian
package `wrk`) three times, same connections and duration:

  public     no token, the granted names
  granted    the requester's token and farv1_qp=<purpose>, the granted names: every answer
             reads its grants, discloses, and commits an audit entry before it is sent
  no-grant   the same token and purpose, names without a grant: the grant read only

and prints requests/s, p50 and p99 of each and the ratios granted/public, no-grant/public.

With --cpu it measures instead the CPU time (time.process_time: SQLite runs in the same
process) of each kind of request in process, through the Flask test client, in --rounds rounds
that take the three kinds in turn, and prints the median per request of each: a host's load
barely moves CPU time, while wall-clock figures under load mostly measure the queue.

With --instructions it counts instead the instructions one request of each kind costs, in
process (Flask test client) under valgrind's callgrind, as benchmarks/search_instructions.py
does: (count after --requests requests - count after none) / --requests, every run after the
same warm-up. A count does not drift with a shared host's load; wall-clock figures do.

    python benchmarks/disclosure_lookup.py --size 100000          # generate + import once, cached
    python benchmarks/disclosure_lookup.py --db out/lookup-1000000-7.sqlite3 --duration 15
    python benchmarks/disclosure_lookup.py --size 100000 --cpu --rounds 15 --requests 50
    python benchmarks/disclosure_lookup.py --size 100000 --instructions --requests 20
"""

from __future__ import annotations

import datetime as dt
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

from harness import (
    ROOT,
    benchmark_parser,
    callgrind_instructions,
    database,
    parse_wrk,
    serve,
    stop,
    wait_ready,
    wrk_output,
)

PURPOSE = "criminalInvestigationAndDNSAbuseMitigation"
LUA = """
local names = {}
for line in io.lines("%(names)s") do names[#names + 1] = line end
math.randomseed(%(seed)d)
request = function()
  local headers = {["Accept"] = "application/rdap+json"%(auth)s}
  return wrk.format("GET", "/domain/" .. names[math.random(#names)] .. "%(query)s", headers)
end
"""


def sample_names(db_path: Path, count: int, seed: int) -> list[str]:
    """2 × count distinct random domain names (the first half gets grants)."""
    conn = sqlite3.connect(db_path)
    total = conn.execute("SELECT max(id) FROM domains").fetchone()[0]
    rng = random.Random(seed)
    ids = sorted(set(rng.sample(range(1, total + 1), min(total, count * 3))))
    names: list[str] = []
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        marks = ",".join("?" * len(part))
        query = f"SELECT ldh_name FROM domains WHERE id IN ({marks})"
        names += [r[0] for r in conn.execute(query, part)]
    conn.close()
    rng.shuffle(names)
    if len(names) < 2 * count:
        raise SystemExit(f"the database has too few domains for --grants {count}")
    return names[: 2 * count]


def prepare(env: dict[str, str], granted: list[str]) -> tuple[str, str]:
    """Accredit, create the requester, approve a request per name; returns (client_id, secret)."""
    from rdap import audit, create_app
    from rdap.disclosure import service
    from rdap.principal import Affiliation, Principal
    from rdap.settings import Settings

    app = create_app(Settings.from_env(env))
    rt = app.extensions["rdapd"]
    operator = service.operator("benchmark")

    def ctx(session):  # type: ignore[no-untyped-def]
        return service.Context(session, dt.datetime.now(dt.UTC), rt.sla, rt.policy)

    with audit.writing(rt.db) as session:
        accreditation = service.create_accreditation(
            ctx(session),
            org="Benchmark CERT",
            org_type="cybersecurity",
            jurisdiction="CH",
            purposes=[PURPOSE],
            actor=operator,
        )
        client, secret = service.create_client(
            ctx(session),
            role="requester",
            name="benchmark requester",
            actor=operator,
            accreditation_id=accreditation.id,
        )
        staff, _ = service.create_client(ctx(session), role="staff", name="bench", actor=operator)
        requester = Principal(
            role="requester",
            client_id=client.client_id,
            subject=client.client_id,
            purposes=frozenset({PURPOSE}),
            affiliation=Affiliation(
                accreditation.organisation_id, accreditation.id, "cybersecurity"
            ),
        )
        reviewer = Principal(role="staff", client_id=staff.client_id, subject=staff.client_id)
        client_id = client.client_id
    body = {
        "purpose": PURPOSE,
        "legal_basis": "GDPR 6(1)(f)",
        "rationale": "Benchmark: the registrant's name and email identify the operator.",
        "data_elements": ["registrant.name", "registrant.email"],
        "good_faith_affirmation": True,
    }
    for name in granted:
        with audit.writing(rt.db) as session:
            request = service.submit(ctx(session), requester, {**body, "domain": name})
            service.decide(
                ctx(session), reviewer, request.request.id, {"action": "approve", "valid_days": 90}
            )
    rt.db.dispose()
    return client_id, secret


KINDS = ("public", "granted", "no-grant")


def child(names_dir: str, token_value: str, kind: str, count: int) -> None:
    """Runs under callgrind: build the app, make the same warm-up requests of every kind, then
    `count` requests of `kind`, each for another name."""
    sys.path[:0] = [str(ROOT)]
    from wsgi import app

    client = app.test_client()
    auth = {"Authorization": f"Bearer {token_value}"}
    plans = {
        "public": ("granted", {}, ""),
        "granted": ("granted", auth, f"?farv1_qp={PURPOSE}"),
        "no-grant": ("other", auth, f"?farv1_qp={PURPOSE}"),
    }
    lists = {
        label: Path(names_dir, f"{label}.txt").read_text().split() for label in ("granted", "other")
    }
    for label in KINDS:
        source, headers, query = plans[label]
        for name in lists[source][-3:]:  # warm-up names are never measured
            if client.get(f"/domain/{name}{query}", headers=headers).status_code != 200:
                raise SystemExit(f"{label} warm-up failed")
    source, headers, query = plans[kind]
    for name in lists[source][:count]:
        client.get(f"/domain/{name}{query}", headers=headers)


def instructions(env: dict[str, str], names_dir: Path, token_value: str, kind: str, n: int) -> int:
    argv = [
        __file__,
        "--child",
        str(names_dir),
        token_value,
        kind,
        str(n),
    ]
    return callgrind_instructions(argv, {**env, "PYTHONHASHSEED": "0"})


def count_instructions(
    env: dict[str, str], names_dir: Path, client_id: str, secret: str, requests: int
) -> dict[str, object]:
    from rdap import create_app
    from rdap.settings import Settings

    app = create_app(Settings.from_env(env))
    reply = app.test_client().post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic " + _basic(client_id, secret)},
    )
    token_value = reply.get_json()["access_token"]
    app.extensions["rdapd"].db.dispose()
    # Every child makes the same warm-up, whatever its kind: one run without requests is the
    # baseline of all three.
    runs = [("public", 0), *((kind, requests) for kind in KINDS)]
    with ThreadPoolExecutor(max_workers=2) as pool:  # one valgrind per CPU
        found = list(pool.map(lambda r: instructions(env, names_dir, token_value, *r), runs))
    baseline, *measured = found
    per = {kind: (count - baseline) / requests for kind, count in zip(KINDS, measured, strict=True)}
    return {
        "requests_per_figure": requests,
        **{f"instructions_{kind.replace('-', '_')}": round(per[kind]) for kind in KINDS},
        "ratio_granted_public": round(per["granted"] / per["public"], 3),
        "ratio_no_grant_public": round(per["no-grant"] / per["public"], 3),
    }


def measure_cpu(
    env: dict[str, str], names_dir: Path, client_id: str, secret: str, rounds: int, requests: int
) -> dict[str, object]:
    """Median CPU seconds per request of each kind, rounds interleaved; each request another
    name (a round's names repeat in the next round, as popular names do)."""
    import statistics
    import time

    from rdap import create_app
    from rdap.settings import Settings

    app = create_app(Settings.from_env(env))
    client = app.test_client()
    reply = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic " + _basic(client_id, secret)},
    )
    auth = {"Authorization": f"Bearer {reply.get_json()['access_token']}"}
    lists = {n: Path(names_dir, f"{n}.txt").read_text().split() for n in ("granted", "other")}
    plans = {
        "public": (lists["granted"], {}, ""),
        "granted": (lists["granted"], auth, f"?farv1_qp={PURPOSE}"),
        "no-grant": (lists["other"], auth, f"?farv1_qp={PURPOSE}"),
    }
    samples: dict[str, list[float]] = {kind: [] for kind in KINDS}
    sizes: dict[str, int] = {}
    for round_number in range(rounds + 1):  # round 0 warms up
        for kind in KINDS:
            names, headers, query = plans[kind]
            chosen = names[:requests]
            started = time.process_time()
            for name in chosen:
                response = client.get(f"/domain/{name}{query}", headers=headers)
                if response.status_code != 200:
                    raise SystemExit(f"{kind}: {response.status_code}")
            spent = (time.process_time() - started) / len(chosen)
            sizes[kind] = len(response.data)
            if round_number:
                samples[kind].append(spent)
    app.extensions["rdapd"].db.dispose()
    median = {kind: statistics.median(values) for kind, values in samples.items()}
    return {
        "rounds": rounds,
        "requests_per_round": requests,
        **{f"cpu_ms_{k.replace('-', '_')}": round(v * 1000, 3) for k, v in median.items()},
        **{f"body_bytes_{k.replace('-', '_')}": v for k, v in sizes.items()},
        "ratio_granted_public": round(median["granted"] / median["public"], 3),
        "ratio_no_grant_public": round(median["no-grant"] / median["public"], 3),
        "spread_public_ms": [
            round(min(samples["public"]) * 1000, 3),
            round(max(samples["public"]) * 1000, 3),
        ],
        "spread_granted_ms": [
            round(min(samples["granted"]) * 1000, 3),
            round(max(samples["granted"]) * 1000, 3),
        ],
    }


def _basic(client_id: str, secret: str) -> str:
    import base64

    return base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def token(port: int, client_id: str, secret: str) -> str:
    out = subprocess.run(
        [
            "curl",
            "-sS",
            "-u",
            f"{client_id}:{secret}",
            "-d",
            "grant_type=client_credentials",
            f"http://127.0.0.1:{port}/oauth/token",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    value: str = json.loads(out)["access_token"]
    return value


def run_wrk(
    port: int, names: Path, *, connections: int, duration: int, seed: int, auth: str, query: str
) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % {"names": names, "seed": seed, "auth": auth, "query": query})
    out = wrk_output(
        f"http://127.0.0.1:{port}",
        threads=2,
        connections=connections,
        duration=duration,
        options=("-s", script.name),
    )
    os.unlink(script.name)
    return parse_wrk(out)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return
    parser = benchmark_parser(__doc__)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--grants", type=int, default=2000, help="names with a grant")
    parser.add_argument("--rounds", type=int, default=1, help="measure the three loads N times")
    parser.add_argument("--cpu", action="store_true", help="CPU time in process")
    parser.add_argument("--instructions", action="store_true", help="count, under callgrind")
    parser.add_argument("--requests", type=int, default=20, help="requests per count or round")
    args = parser.parse_args()
    needed: tuple[str, ...] = ("wrk", "curl")
    if args.instructions:
        needed = ("valgrind",)
    elif args.cpu:
        needed = ()
    if any(shutil.which(tool) is None for tool in needed):
        raise SystemExit(f"needs {' and '.join(needed)} (Debian packages)")

    source = database(args)
    workdir = Path(tempfile.mkdtemp(prefix="rdapd-bench-disclosure-"))
    db_path = workdir / "registry.sqlite3"
    shutil.copyfile(source, db_path)  # the cached registry stays free of disclosure records
    env = {
        **os.environ,
        "RDAP_DATABASE_URL": f"sqlite:///{db_path}",
        "RDAP_RATELIMIT_ENABLED": "false",
        "RDAP_REQUIRE_TLS": "false",
        "RDAP_OAUTH_TOKEN_TTL": "3600",
        "RDAP_INSTANCE_PATH": str(workdir / "instance"),
    }
    subprocess.run([sys.executable, "-m", "rdap", "db", "upgrade"], check=True, env=env)
    names = sample_names(db_path, args.grants, args.seed)
    granted, other = names[: args.grants], names[args.grants :]
    client_id, secret = prepare(env, granted)
    files = {}
    for label, chosen in (("granted", granted), ("other", other)):
        files[label] = workdir / f"{label}.txt"
        files[label].write_text("\n".join(chosen) + "\n")
    if args.cpu:
        measured = measure_cpu(env, workdir, client_id, secret, args.rounds, args.requests)
        shutil.rmtree(workdir, ignore_errors=True)
        print(json.dumps({"database": str(source), "grants": args.grants, **measured}, indent=2))
        return
    if args.instructions:
        counted = count_instructions(env, workdir, client_id, secret, args.requests)
        shutil.rmtree(workdir, ignore_errors=True)
        print(json.dumps({"database": str(source), "grants": args.grants, **counted}, indent=2))
        return

    proc, port = serve("wsgi", env, ROOT)
    results: list[dict[str, dict[str, float]]] = []
    try:
        wait_ready(f"http://127.0.0.1:{port}/help")
        bearer = token(port, client_id, secret)
        auth = f', ["Authorization"] = "Bearer {bearer}"'
        loads = {
            "public": (files["granted"], "", ""),
            "granted": (files["granted"], auth, f"?farv1_qp={PURPOSE}"),
            "no-grant": (files["other"], auth, f"?farv1_qp={PURPOSE}"),
        }
        for names_file, header, query in loads.values():  # warm-up
            run_wrk(
                port,
                names_file,
                connections=args.connections,
                duration=3,
                seed=1,
                auth=header,
                query=query,
            )
        for _ in range(args.rounds):
            results.append(
                {
                    label: run_wrk(
                        port,
                        names_file,
                        connections=args.connections,
                        duration=args.duration,
                        seed=args.seed,
                        auth=header,
                        query=query,
                    )
                    for label, (names_file, header, query) in loads.items()
                }
            )
    finally:
        stop(proc)
    entries = sqlite3.connect(db_path).execute("SELECT count(*) FROM audit_entries").fetchone()[0]
    shutil.rmtree(workdir, ignore_errors=True)
    report = {
        "database": str(source),
        "grants": args.grants,
        "connections": args.connections,
        "audit_entries_after": entries,
        "rounds": [
            {
                **r,
                "ratio_granted_public": round(r["granted"]["rps"] / r["public"]["rps"], 3),
                "ratio_no_grant_public": round(r["no-grant"]["rps"] / r["public"]["rps"], 3),
            }
            for r in results
        ],
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
