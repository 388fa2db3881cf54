"""Benchmark: first and last page of `/domains?name=<prefix>*` over a large database.

Keyset pagination should make the last page cost what the first costs. The script finds a
prefix with a few thousand matches (or takes --prefix), walks the cursor chain to the deepest
full page (a short final page would flatter the comparison), then loads the first-page URL and
that page's URL with wrk (same connections, same duration)
and prints requests/s, p50 and p99 of each and the ratio last/first.

    python benchmarks/search.py --size 1000000
    python benchmarks/search.py --postgres postgresql+psycopg://u@127.0.0.1/db   # loaded already
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request

from harness import (
    ROOT,
    benchmark_parser,
    database,
    deepest_full_page,
    parse_wrk,
    serve,
    stop,
    wait_ready,
    wrk_output,
)
from sqlalchemy import create_engine, text


def pick_prefix(db_url: str, low: int, high: int) -> tuple[str, int]:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT substr(ldh_name, 1, 3) AS p, count(*) FROM domains"
                " GROUP BY p ORDER BY count(*) DESC"
            )
        ).all()
    engine.dispose()
    for prefix, count in rows:
        if low <= count <= high and prefix.isalpha():
            return prefix, count
    prefix, count = rows[0]
    return prefix, count


def wrk(url: str, connections: int, duration: int) -> dict[str, float]:
    out = wrk_output(
        url,
        threads=1,
        connections=connections,
        duration=duration,
        options=("-H", "Accept: application/rdap+json"),
    )
    return parse_wrk(out)


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--prefix", help="search prefix (default: one with 2k-20k matches)")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure first and last page this many times, alternating, so host drift shows"
        " and each ratio compares pages measured back to back",
    )
    parser.add_argument(
        "--field-set", choices=["id", "brief", "full"], help="RFC 8982 fieldSet to ask for"
    )
    parser.add_argument("--postgres", help="serve this PostgreSQL database (loaded already)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk")
    db_url = args.postgres or f"sqlite:///{database(args)}"
    if args.prefix:
        prefix, matches = args.prefix, -1
    else:
        prefix, matches = pick_prefix(db_url, 2_000, 20_000)

    env = {
        **os.environ,
        "RDAP_DATABASE_URL": db_url,
        "RDAP_RATELIMIT_ENABLED": "false",
        "RDAP_SECRET_KEY": "benchmark-secret",
    }
    proc, port = serve("wsgi", env, ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{base}/help")
        first = f"{base}/domains?name={prefix}*"
        if args.field_set:
            first += f"&fieldSet={args.field_set}"
        last, last_number, pages, size = deepest_full_page(
            first, lambda url: json.load(urllib.request.urlopen(url))
        )
        wrk(first, args.connections, 3)
        rounds = []
        for _ in range(args.rounds):
            first_stats = wrk(first, args.connections, args.duration)
            last_stats = wrk(last, args.connections, args.duration)
            rounds.append(
                {
                    "first_page": first_stats,
                    "last_page": last_stats,
                    "ratio_p50_last_first": round(last_stats["p50"] / first_stats["p50"], 3),
                    "ratio_p99_last_first": round(last_stats["p99"] / first_stats["p99"], 3),
                }
            )
    finally:
        stop(proc)
    report = {
        "database": db_url,
        "prefix": prefix,
        "matches": matches,
        "pages": pages,
        "page_size": size,
        "field_set": args.field_set or "server default (full)",
        "measured_last_page": last_number,
        "connections": args.connections,
        **rounds[0],
    }
    if len(rounds) > 1:
        report = {
            **{k: v for k, v in report.items() if k not in rounds[0]},
            "rounds": rounds,
            "worst_p99": max(max(r["first_page"]["p99"], r["last_page"]["p99"]) for r in rounds),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
