"""Benchmark: what rendering every public domain answer ahead, at import, would cost.

The alternative to an answer cache is to precompute the public answers while importing a
deposit. This measures that work with the read path's own batch loaders (pages of 50 domains,
as searches read them): read, build, redact for the public, render, for every domain of a
generated database, in one process, and prints the CPU seconds per answer and the figure
extrapolated to 1M domains, to be added to the import's (benchmarks/import_deposit.py; target
1M domains in 300 s). Run both back to back: the host's speed drifts.

    python benchmarks/precompute.py --db out/lookup-100000-7.sqlite3
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import sys
import time

from harness import ROOT, benchmark_parser, database

BATCH = 50


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.set_defaults(size=100_000)
    parser.add_argument("--limit", type=int, help="render only this many domains")
    args = parser.parse_args()
    db_path = database(args)
    os.environ["RDAP_DATABASE_URL"] = f"sqlite:///{db_path}"
    sys.path[:0] = [str(ROOT)]

    from rdap import document as doc
    from rdap.lookup import LookupContext, redact_for, verification_for
    from rdap.principal import ANONYMOUS
    from rdap.render import rdap_json
    from rdap.repository import Repository
    from rdap.runtime import Runtime
    from rdap.settings import Settings

    rt = Runtime.build(Settings.from_env())
    conn = sqlite3.connect(db_path)
    ids = [r[0] for r in conn.execute("SELECT id FROM domains ORDER BY id")]
    conn.close()
    if args.limit:
        ids = ids[: args.limit]
    base = "https://rdap.example"
    verification = verification_for(rt.policy, ANONYMOUS)
    rendered = 0
    size = 0
    started = time.process_time()
    with rt.db.read_connection() as connection:
        repo = Repository(connection, rt.facts)
        stamp = repo.database_updated_at()
        for start in range(0, len(ids), BATCH):
            for record in repo.domains_by_ids(ids[start : start + BATCH]):
                url = f"{base}/domain/{record.ldh_name}"
                ctx = LookupContext(
                    base_url=base,
                    request_url=url,
                    now=dt.datetime.now(dt.UTC),
                    contact_uri_template=rt.profile.contact_uri,
                )
                full = doc.domain_document(
                    record, ctx.links, verification=verification(record.registrar.id)
                )
                stamped = doc.stamp_database_update(full, stamp)
                redacted = redact_for(stamped, ANONYMOUS, rt.policy, ctx)
                body = rdap_json.render(
                    redacted,
                    profile=rt.profile,
                    base_url=base,
                    request_url=url,
                    extra_conformance=rt.extra_conformance,
                )
                rendered += 1
                size += len(body)
    cpu = time.process_time() - started
    print(
        json.dumps(
            {
                "database": str(db_path),
                "answers": rendered,
                "bytes": size,
                "cpu_seconds": round(cpu, 1),
                "cpu_us_per_answer": round(cpu / rendered * 1e6, 1),
                "cpu_seconds_for_1M": round(cpu / rendered * 1_000_000, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
