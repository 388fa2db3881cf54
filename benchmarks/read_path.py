"""Benchmark: what each optimisation of the read path saves on a cold lookup, in CPU time.

With the answer cache carrying repeated answers, what remains of the read path is paid on a
miss. This serves `/domain/{name}` in process (Flask test client, answer cache off, so every
request runs the whole pipeline) for a fixed sample of names, once as built and once with each
optimisation switched off (`lookup_instructions.WITHOUT`), in interleaved rounds; each variant's
figure is its fastest round (CPU seconds of this process, less disturbed by a busy host than
wall time). `--engine-from COMMIT` also times `redact()` alone for the same documents with the
redaction engine of another commit against this one's.

    python benchmarks/read_path.py --db out/lookup-100000-7.sqlite3
    python benchmarks/read_path.py --db out/lookup-100000-7.sqlite3 --engine-from 675f4b8
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import ROOT, benchmark_parser, database, in_process_misses


def cpu(run: Any) -> float:
    started = time.process_time()
    run()
    return time.process_time() - started


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.set_defaults(size=100_000)
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--without", nargs="*", help="optimisations to weigh (default: all)")
    parser.add_argument("--engine-from", help="a commit whose redaction engine to time too")
    args = parser.parse_args()
    db_path = database(args)
    in_process_misses(db_path)
    import lookup_instructions

    conn = sqlite3.connect(db_path)
    names = [r[0] for r in conn.execute("SELECT ldh_name FROM domains ORDER BY id")]
    conn.close()
    sample = random.Random(args.seed).sample(names, args.lookups)
    from wsgi import app

    client = app.test_client()

    def lookups() -> None:
        for name in sample:
            if client.get(f"/domain/{name}").status_code != 200:
                raise SystemExit(f"{name}: not 200")

    lookups()  # warm-up: imports, compiled statements, policy plans
    results: dict[str, Any] = {}
    switched = args.without if args.without is not None else list(lookup_instructions.WITHOUT)
    # Each switch patches module attributes; undo it by restoring what it replaced.
    import rdap.prepared
    import rdap.redaction.engine as engine

    saved = {
        "prepared": (rdap.prepared.Prepared.rows, rdap.prepared.PreparedBatch.rows),
        "outcome": engine._outcome,
    }

    def restore() -> None:
        rdap.prepared.Prepared.rows, rdap.prepared.PreparedBatch.rows = saved["prepared"]  # type: ignore[method-assign]
        engine._outcome = saved["outcome"]

    best: dict[str, float] = {}
    for _ in range(args.rounds):
        for variant in ["as built", *switched]:
            if variant != "as built":
                lookup_instructions.WITHOUT[variant]()
            spent = cpu(lookups)
            restore()
            best[variant] = min(best.get(variant, spent), spent)
    base = best["as built"] / args.lookups
    results["cold_lookup_us"] = round(base * 1e6, 1)
    for variant in switched:
        each = best[variant] / args.lookups
        results[f"without {variant}"] = {
            "cold_lookup_us": round(each * 1e6, 1),
            "gain_us": round((each - base) * 1e6, 1),
            "gain_pct": round(100 * (each - base) / each, 1),
        }
    print(json.dumps(results, indent=2), flush=True)
    if args.engine_from:
        print(json.dumps(time_engines(args.engine_from, sample, args.rounds), indent=2))


def time_engines(commit: str, sample: list[str], rounds: int) -> dict[str, float]:
    """redact() alone, this engine against `commit`'s, on the same full documents."""
    from rdap.app import runtime_of
    from rdap.lookup import LookupContext, full_document
    from rdap.principal import Principal
    from rdap.query import parse_path
    from rdap.repository import Repository
    from wsgi import app

    rt = runtime_of(app)
    ctx = LookupContext(base_url="http://x", request_url="http://x/", now=dt.datetime.now(dt.UTC))
    with rt.db.read_connection() as connection:
        repo = Repository(connection)
        documents = [full_document(parse_path(["domain", n]), repo, ctx) for n in sample]
    source = subprocess.run(
        ["git", "show", f"{commit}:rdap/redaction/engine.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "engine_then.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("rdap.redaction.engine_then", path)
    assert spec is not None
    assert spec.loader is not None
    then = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = then  # dataclasses look their module up while it is built
    spec.loader.exec_module(then)
    import rdap.redaction.engine as now

    public = Principal()
    best: dict[str, float] = {}
    for _ in range(rounds):
        for label, module in (("now", now), ("then", then)):

            def run(module: Any = module) -> None:
                for document in documents:
                    module.redact(document, public, rt.policy, now=ctx.now)

            spent = cpu(run)
            best[label] = min(best.get(label, spent), spent)
    return {
        "redact_us_now": round(best["now"] / len(sample) * 1e6, 1),
        f"redact_us_{commit}": round(best["then"] / len(sample) * 1e6, 1),
    }


if __name__ == "__main__":
    main()
