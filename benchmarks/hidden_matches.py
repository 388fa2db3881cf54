"""Benchmark: does a search cost more when it matches data the caller may not see?

Searches on fields policy may hide must cost the same whether the hidden data holds many
matches or none, or their time tells what they hide. On a generated registry (100k domains
by default) this times, in process (Flask test client, rate limits off), alternating:

- anonymous `/entities?fn=<many>*`, a prefix that many hidden names start with and no visible
  one, against `/entities?fn=<none>*`, a prefix nothing starts with;
- a registrar's `/domains/reverse_search/entity?email=<hidden>`, the undisclosed email of
  another registrar's registrant with the most domains, against an email nobody has.

It prints the median and p90 of each and the ratio many/none (1.0: time tells nothing).

    python benchmarks/hidden_matches.py --size 100000
    python benchmarks/hidden_matches.py --db /tmp/registry.sqlite3 --rounds 400
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import benchmark_parser, database

from rdap import create_app
from rdap.settings import Settings


def pick_many_prefix(conn: sqlite3.Connection) -> tuple[str, int]:
    """The three-letter prefix with the most names nobody may see (no consent to publish)."""
    row = conn.execute(
        "SELECT substr(p.name, 1, 3) AS prefix, count(*) FROM contact_postal_infos p"
        " JOIN contacts c ON c.id = p.contact_id"
        " WHERE c.publish_consent NOT LIKE '%\"name\"%' GROUP BY prefix ORDER BY 2 DESC LIMIT 1"
    ).fetchone()
    prefix = str(row[0])
    visible = conn.execute(
        "SELECT count(*) FROM contact_postal_infos p JOIN contacts c ON c.id = p.contact_id"
        " WHERE c.publish_consent LIKE '%\"name\"%' AND p.name LIKE ?",
        (prefix + "%",),
    ).fetchone()[0]
    if visible:
        raise SystemExit(f"prefix {prefix!r} also matches {visible} visible names")
    return prefix, int(row[1])


def pick_hidden_email(conn: sqlite3.Connection) -> tuple[str, int, str]:
    """(email, its domains, a registrar that sponsors none of them): the registrant email with
    the most domains that no registrant consented to publish and one registrar sponsors, and
    another registrar to search for it."""
    email, count, registrar_id = conn.execute(
        "SELECT lower(c.email), count(*), min(d.registrar_id) FROM domains d"
        " JOIN contacts c ON c.id = d.registrant_id WHERE c.email IS NOT NULL"
        " GROUP BY lower(c.email)"
        " HAVING max(c.publish_consent LIKE '%\"email\"%') = 0"
        " AND count(DISTINCT d.registrar_id) = 1 ORDER BY 2 DESC LIMIT 1"
    ).fetchone()
    other = conn.execute(
        "SELECT iana_id FROM registrars WHERE id != ? AND iana_id IS NOT NULL ORDER BY id LIMIT 1",
        (registrar_id,),
    ).fetchone()[0]
    return str(email), int(count), str(other)


def registrar_token(app: Any, iana_id: str) -> str:
    from rdap.app import runtime_of
    from rdap.oauth import service

    with runtime_of(app).db.session_scope() as session:
        client, secret = service.create_client(
            session,
            role="registrar",
            name="benchmark",
            registrar_iana_id=int(iana_id),
            now=dt.datetime.now(dt.UTC),
        )
        client_id = client.client_id
    response = app.test_client().post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    token: str = response.get_json()["access_token"]
    return token


def timed(http: Any, url: str, headers: dict[str, str]) -> tuple[float, Any]:
    started = time.perf_counter()
    response = http.get(url, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url}: {response.status_code} {response.get_data(as_text=True)}")
    return elapsed, response.get_json()


def compare(
    http: Any, label: str, many: str, none: str, headers: dict[str, str], rounds: int
) -> None:
    times: dict[str, list[float]] = {many: [], none: []}
    for url in (many, none):  # warm-up; both must answer with no result
        _, body = timed(http, url, headers)
        results = body.get("entitySearchResults", body.get("domainSearchResults"))
        if results:
            raise SystemExit(f"{url} returned {len(results)} results; pick hidden values")
    for _ in range(rounds):
        for url in (many, none):
            times[url].append(timed(http, url, headers)[0])

    def figures(url: str) -> tuple[float, float]:
        values = sorted(times[url])
        return statistics.median(values), values[int(len(values) * 0.9)]

    (m50, m90), (n50, n90) = figures(many), figures(none)
    print(f"{label}")
    print(f"  many hidden matches  {many}: p50 {m50:.2f} ms, p90 {m90:.2f} ms")
    print(f"  no match at all      {none}: p50 {n50:.2f} ms, p90 {n90:.2f} ms")
    print(f"  ratio many/none: p50 {m50 / n50:.2f}, p90 {m90 / n90:.2f}")


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.set_defaults(size=100_000)
    parser.add_argument("--rounds", type=int, default=200, help="requests per URL")
    args = parser.parse_args()
    source = database(args)
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "registry.sqlite3"  # the token's client is written to a copy
        shutil.copyfile(source, db_path)
        conn = sqlite3.connect(db_path)
        # Signing keys of the source were sealed with another instance's key: start afresh.
        conn.execute("DELETE FROM oauth_signing_keys")
        conn.commit()
        prefix, hidden = pick_many_prefix(conn)
        email, domains, searcher = pick_hidden_email(conn)
        conn.close()
        settings = Settings(
            instance_path=Path(tmp) / "instance",
            database_url=f"sqlite:///{db_path}",
            ratelimit_enabled=False,
            require_tls=False,
            secret_key="benchmark",
        )
        app = create_app(settings)
        http = app.test_client()
        print(f"database {source}")
        compare(
            http,
            f"anonymous entity search by name ({hidden} hidden names start with {prefix!r})",
            f"/entities?fn={prefix}*",
            "/entities?fn=Zq*",
            {},
            args.rounds,
        )
        bearer = {"Authorization": "Bearer " + registrar_token(app, searcher)}
        compare(
            http,
            f"registrar {searcher}: reverse search by another registrar's hidden registrant"
            f" email ({domains} domains)",
            f"/domains/reverse_search/entity?email={email}&role=registrant",
            "/domains/reverse_search/entity?email=nobody@nowhere.invalid&role=registrant",
            bearer,
            args.rounds,
        )


if __name__ == "__main__":
    main()
