"""Benchmark: instructions per search page, counted by valgrind's callgrind.

Wall-clock figures on a shared host drift with its speed; an instruction count does not (the
same build, data and request give the same count whatever else the machine is doing). Each
figure comes from two runs of one child process under callgrind that differ only in how many
requests they make after the same warm-up, so start-up and warm-up cancel out:

    instructions per request = (count with --pages requests - count with none) / --pages

It measures `/domains?name=<prefix>*` (first page, and the deepest full page of its cursor
chain) in process, through the Flask test client, and the bare Flask app of `bare_app.py`
returning that page's body, as a baseline in the same run: rdapd/bare is how far a page is
above the cost of serving its bytes at all. Needs `valgrind` (Debian package); takes minutes.

    python benchmarks/search_instructions.py --db out/lookup-1000000-7.sqlite3 --prefix pri
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness import ROOT, benchmark_parser, callgrind_instructions, database, deepest_full_page

SECRET = "benchmark-secret"  # cursors minted by the parent must verify in the children
BARE_FACTOR = 50  # a bare request costs some 1000x less: measure more of them


def _environment(db_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONHASHSEED": "0",  # hash randomisation would change counts from run to run
        "RDAP_DATABASE_URL": f"sqlite:///{db_path}",
        "RDAP_RATELIMIT_ENABLED": "false",
        "RDAP_SECRET_KEY": SECRET,
    }


def child(app_name: str, warm_urls: str, url: str, count: int) -> None:
    """Runs under callgrind: build the app, warm it up on every URL measured (comma-separated),
    then make `count` requests of `url`."""
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
    if app_name == "bare":
        from bare_app import app
    else:
        from wsgi import app
    client = app.test_client()
    for warm_url in warm_urls.split(","):
        for _ in range(3):
            if client.get(warm_url).status_code != 200:
                raise SystemExit(f"{warm_url}: not 200")
    for _ in range(count):
        client.get(url)


def instructions(env: dict[str, str], app_name: str, warm_urls: str, url: str, count: int) -> int:
    argv = [
        __file__,
        "--child",
        app_name,
        warm_urls,
        url,
        str(count),
    ]
    return callgrind_instructions(argv, env)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return
    parser = benchmark_parser(__doc__)
    parser.add_argument("--prefix", default="pri")
    parser.add_argument("--pages", type=int, default=5, help="requests measured per figure")
    parser.add_argument("--field-set", choices=["id", "brief", "full"])
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind not found: apt-get install valgrind")
    db_path = database(args)
    env = _environment(db_path)
    os.environ.update(env)
    sys.path[:0] = [str(ROOT)]
    from wsgi import app

    client = app.test_client()
    first = f"/domains?name={args.prefix}*"
    if args.field_set:
        first += f"&fieldSet={args.field_set}"
    deep, deep_number, pages, size = deepest_full_page(first, lambda u: client.get(u).get_json())
    deep = deep.removeprefix("http://localhost")
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as body:
        body.write(client.get(first).data)
    bare_env = {**env, "BARE_BODY_FILE": body.name}
    both = f"{first},{deep}"
    runs = {
        "rdapd_warm": (env, "rdapd", both, first, 0),
        "rdapd_first": (env, "rdapd", both, first, args.pages),
        "rdapd_deep": (env, "rdapd", both, deep, args.pages),
        "bare_warm": (bare_env, "bare", "/domain/x", "/domain/x", 0),
        "bare": (bare_env, "bare", "/domain/x", "/domain/x", args.pages * BARE_FACTOR),
    }
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:  # one valgrind per CPU
            found = pool.map(lambda r: instructions(*r), runs.values())
            counts = dict(zip(runs, found, strict=True))
    finally:
        Path(body.name).unlink()
    per_page = {
        name: (counts[name] - counts[warm]) / requests
        for name, warm, requests in (
            ("rdapd_first", "rdapd_warm", args.pages),
            ("rdapd_deep", "rdapd_warm", args.pages),
            ("bare", "bare_warm", args.pages * BARE_FACTOR),
        )
    }
    print(
        json.dumps(
            {
                "database": str(db_path),
                "prefix": args.prefix,
                "field_set": args.field_set or "server default (full)",
                "pages": pages,
                "page_size": size,
                "measured_deep_page": deep_number,
                "requests_per_figure": args.pages,
                "instructions_first_page": round(per_page["rdapd_first"]),
                "instructions_deep_page": round(per_page["rdapd_deep"]),
                "instructions_bare": round(per_page["bare"]),
                "ratio_deep_first": round(per_page["rdapd_deep"] / per_page["rdapd_first"], 3),
                "ratio_first_bare": round(per_page["rdapd_first"] / per_page["bare"], 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
