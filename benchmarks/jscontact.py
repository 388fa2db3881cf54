"""Benchmark: what a JSContact answer costs against the jCard answer of the same lookup.

Serves `/domain/{name}` and `/entity/{handle}` in process (Flask test client, answer cache
off, so every request runs the whole pipeline: read, build, redact, write), each round for a
sample of names and contacts not asked before, once asking for jCard and once for JSContact
(Accept: application/rdap+json;exts_list="jscontact"), the order alternating between rounds.
Each format's figure is its
fastest round in CPU seconds of this process (less disturbed by a busy host than wall time);
the ratio JSContact / jCard is printed beside them, with the answers' sizes. Then the same
sample from the answer cache; through the pipeline without HTTP (read, build, redact, write:
`lookup()` and `document_json`); its stages for the sample's domains from records read once;
and the floor under any design that writes cards per answer: writing and serializing the
same cards (the values of every card of those answers) in each format.

    python benchmarks/jscontact.py                      # 10k domains, 300 lookups, 7 rounds
    python benchmarks/jscontact.py --db out/lookup-100000-7.sqlite3 --lookups 500
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable
from typing import Any

import orjson
from harness import benchmark_parser, database, in_process_misses

JCARD = {"Accept": "application/rdap+json"}
JSCONTACT = {"Accept": 'application/rdap+json;exts_list="jscontact"'}


def cpu(run: Callable[[], Any]) -> float:
    started = time.process_time()
    run()
    return time.process_time() - started


def fastest(runs: dict[str, Callable[[int], Any]], rounds: int) -> dict[str, float]:
    """The fastest of `rounds` interleaved rounds of each run (given the round's number), in
    CPU seconds; the order of the runs alternates between rounds."""
    best = dict.fromkeys(runs, float("inf"))
    for number in range(rounds):
        order = list(runs) if number % 2 == 0 else list(reversed(runs))
        for name in order:
            best[name] = min(best[name], cpu(lambda: runs[name](number)))  # noqa: B023
    return best


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.set_defaults(size=10_000)
    parser.add_argument("--lookups", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    db_path = database(args)
    in_process_misses(db_path)
    conn = sqlite3.connect(db_path)
    names = [r[0] for r in conn.execute("SELECT ldh_name FROM domains ORDER BY id")]
    handles = [r[0] for r in conn.execute("SELECT handle FROM contacts ORDER BY id")]
    conn.close()
    rng = random.Random(args.seed)
    contacts = args.lookups // 3
    rounds = args.rounds + 1  # the first is a warm-up: imports, compiled statements, plans
    if len(names) < rounds * args.lookups or len(handles) < rounds * contacts:
        raise SystemExit("the database is too small for that many rounds and lookups")
    drawn_names = rng.sample(names, rounds * args.lookups)
    drawn_handles = rng.sample(handles, rounds * contacts)
    samples = [
        [f"/domain/{n}" for n in drawn_names[r * args.lookups : (r + 1) * args.lookups]]
        + [f"/entity/{h}" for h in drawn_handles[r * contacts : (r + 1) * contacts]]
        for r in range(rounds)
    ]
    paths = samples[0]
    from wsgi import app

    client = app.test_client()
    sizes = {"jcard": 0, "jscontact": 0}

    def lookups(headers: dict[str, str], name: str) -> Callable[[int], None]:
        def run(number: int) -> None:
            total = 0
            for path in samples[number]:
                response = client.get(path, headers=headers)
                if response.status_code != 200:
                    raise SystemExit(f"{path}: {response.status_code}")
                total += len(response.get_data())
            sizes[name] += total

        return run

    runs = {"jcard": lookups(JCARD, "jcard"), "jscontact": lookups(JSCONTACT, "jscontact")}
    for run in runs.values():
        run(0)
    lookup = fastest(
        {name: lambda n, run=run: run(n + 1) for name, run in runs.items()}, args.rounds
    )

    # As served: the answer cache on, the same sample asked again (answers kept per format).
    from rdap.answer_cache import AnswerCache
    from rdap.app import runtime_of

    cold_sizes = dict(sizes)
    runtime_of(app).answers = AnswerCache(256 * 1024 * 1024, None)
    for run in runs.values():
        run(0)  # fills the cache: each answer is kept in its format
    hot = fastest({name: lambda _n, run=run: run(0) for name, run in runs.items()}, args.rounds)
    runtime_of(app).answers = None
    sizes.update(cold_sizes)

    # The pipeline without HTTP (read, build, redact, write) on the first sample: both
    # formats read the same rows, so this isolates what the format changes.
    from rdap.document import Links
    from rdap.lookup import LookupContext
    from rdap.lookup import lookup as run_lookup
    from rdap.principal import Principal
    from rdap.query import parse_path
    from rdap.redaction import json_bytes
    from rdap.render.rdap_json import document_json
    from rdap.repository import Repository, read_registry_facts

    rt = runtime_of(app)
    queries = [parse_path(path.strip("/").split("/")) for path in paths]

    def pipeline(contact_format: str) -> Callable[[int], None]:
        def run(_number: int) -> None:
            ctx = LookupContext(
                now=rt.clock(),
                links=Links("https://rdap.example", "https://rdap.example/x", contact_format),
                contact_uri_template=rt.profile.contact_uri,
            )
            with rt.db.read_connection() as connection:
                repo = Repository(connection, read_registry_facts(connection))
                for query in queries:
                    document = run_lookup(
                        query,
                        Principal(),
                        repo=repo,
                        policy=rt.policy,
                        ctx=ctx,
                        disclosure=rt.disclosure,
                    )
                    json_bytes(
                        document_json(
                            document,
                            profile=rt.profile,
                            base_url="https://rdap.example",
                            request_url="https://rdap.example/x",
                        )
                    )

        return run

    written = fastest({"jcard": pipeline("jcard"), "jscontact": pipeline("jscontact")}, args.rounds)

    # Where the difference is: the stages of the sample's domain answers from records read
    # once (build, redact, write), and the floor under any design that writes cards per
    # answer: writing and serializing the same cards in each format (the values every card
    # of those answers is written from, collected while building).
    from rdap import cards
    from rdap import document as doc
    from rdap.lookup import redact_for

    domains = [p.removeprefix("/domain/") for p in paths if p.startswith("/domain/")]
    with rt.db.read_connection() as connection:
        repo = Repository(connection, read_registry_facts(connection))
        records = [r for r in map(repo.domain, domains) if r is not None]
    values: list[cards.CardValues] = []
    write = cards.write

    def collect(contact_format: str, card: cards.CardValues) -> Any:
        values.append(card)
        return write(contact_format, card)

    cards.write = collect  # type: ignore[assignment]
    doc._card.cache_clear()
    for record in records:
        doc.domain_document(record, Links("", "", "jcard"))
    cards.write = write  # type: ignore[assignment]
    stage_names = ("build", "redact", "write")
    per_stage: dict[str, dict[str, float]] = {name: {} for name in stage_names}

    def stages(contact_format: str) -> Callable[[int], None]:
        def run(_number: int) -> None:
            links = Links("https://rdap.example", "https://rdap.example/x", contact_format)
            ctx = LookupContext(
                now=rt.clock(), links=links, contact_uri_template=rt.profile.contact_uri
            )
            times = [time.process_time()]
            built = [doc.domain_document(r, links) for r in records]
            times.append(time.process_time())
            redacted = [redact_for(full, Principal(), rt.policy, ctx) for full in built]
            times.append(time.process_time())
            for document in redacted:
                json_bytes(document_json(document, profile=rt.profile, base_url="", request_url=""))
            times.append(time.process_time())
            for name, start, end in zip(stage_names, times, times[1:], strict=False):
                best = per_stage[name].get(contact_format, float("inf"))
                per_stage[name][contact_format] = min(best, end - start)

        return run

    fastest({"jcard": stages("jcard"), "jscontact": stages("jscontact")}, args.rounds)

    def floor(contact_format: str) -> Callable[[int], None]:
        def run(_number: int) -> None:
            for card in values:
                orjson.dumps(write(contact_format, card))

        return run

    card_floor = fastest({"jcard": floor("jcard"), "jscontact": floor("jscontact")}, args.rounds)
    card_bytes = {
        f: sum(len(orjson.dumps(write(f, card))) for card in values) / len(values)
        for f in ("jcard", "jscontact")
    }
    count = len(paths)
    served = sum(len(sample) for sample in samples)
    print(
        f"{count} lookups ({args.lookups} domains, {count - args.lookups} contacts), "
        f"fastest of {args.rounds} interleaved rounds, CPU time of this process"
    )
    print(f"{'':24}{'jCard':>12}{'JSContact':>12}{'ratio':>8}")
    print(
        f"{'cold lookup µs/answer':24}{lookup['jcard'] / count * 1e6:12.1f}"
        f"{lookup['jscontact'] / count * 1e6:12.1f}{lookup['jscontact'] / lookup['jcard']:8.3f}"
    )
    print(
        f"{'cached answer µs/answer':24}{hot['jcard'] / count * 1e6:12.1f}"
        f"{hot['jscontact'] / count * 1e6:12.1f}{hot['jscontact'] / hot['jcard']:8.3f}"
    )
    print(
        f"{'pipeline µs/answer':24}{written['jcard'] / count * 1e6:12.1f}"
        f"{written['jscontact'] / count * 1e6:12.1f}"
        f"{written['jscontact'] / written['jcard']:8.3f}"
    )
    for name in stage_names:
        times = per_stage[name]
        print(
            f"{'  ' + name + ' µs/domain answer':24}{times['jcard'] / len(records) * 1e6:12.1f}"
            f"{times['jscontact'] / len(records) * 1e6:12.1f}"
            f"{times['jscontact'] / times['jcard']:8.3f}"
        )
    print(
        f"{'card write+dump µs':24}{card_floor['jcard'] / len(values) * 1e6:12.2f}"
        f"{card_floor['jscontact'] / len(values) * 1e6:12.2f}"
        f"{card_floor['jscontact'] / card_floor['jcard']:8.3f}"
    )
    print(
        f"{'card bytes':24}{card_bytes['jcard']:12.0f}{card_bytes['jscontact']:12.0f}"
        f"{card_bytes['jscontact'] / card_bytes['jcard']:8.3f}"
    )
    print(
        f"{'bytes/answer':24}{sizes['jcard'] / served:12.0f}{sizes['jscontact'] / served:12.0f}"
        f"{sizes['jscontact'] / sizes['jcard']:8.3f}"
    )


if __name__ == "__main__":
    main()
