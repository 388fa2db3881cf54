"""Searches over HTTP: every form, wildcard rule, sort key and cursor; paging; partial response."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event

from rdap.db import Database
from rdap.models import Domain, Registrar
from rdap.query import FIELD_SET_MEMBERS
from tests import factories
from tests.snapshot import Snapshot, built_once, restored

RDAP = "application/rdap+json"


def _build_registry(db: Database) -> dict[str, list[str]]:
    """Twelve domains `shop<n>.post` with distinct dates, two IDNs, shared name servers."""
    names = []
    with db.session_scope() as session:
        registrar = factories.RegistrarFactory.build()
        factories.bind(session)
        registrar = factories.RegistrarFactory(name="Alpha Registrar AG")
        for n in range(12):
            domain = factories.full_domain(
                session, name=f"shop{n:02d}.post", registrant_kind="legal", registrar=registrar
            )
            domain.created_at = factories.NOW - dt.timedelta(days=100 + (n * 7) % 12)
            domain.expires_at = factories.NOW + dt.timedelta(days=300 - n)
            names.append(domain.ldh_name)
        idn = "correos-españa.post"
        factories.full_domain(
            session, name=idn.encode("idna").decode(), unicode_name=idn, registrar=registrar
        )
    return {"shop": names}


@pytest.fixture(scope="module")
def _registry(migrated_url: str) -> Snapshot[dict[str, list[str]]]:
    return built_once(migrated_url, _build_registry)


@pytest.fixture
def registry(db: Database, _registry: Snapshot[dict[str, list[str]]]) -> dict[str, list[str]]:
    return restored(db, _registry)


def _get(client, path, status=200, **kw):  # type: ignore[no-untyped-def]
    response = client.get(path, **kw)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == RDAP
    return response.get_json()


def _crawl(client, path, member="domainSearchResults"):  # type: ignore[no-untyped-def]
    pages, seen = 0, []
    while path:
        body = _get(client, path)
        pages += 1
        seen += [r.get("ldhName") or r.get("handle") for r in body[member]]
        links = body["paging_metadata"].get("links", [])
        path = links[0]["href"].replace("http://localhost", "") if links else None
        assert pages < 50
    return pages, seen


def test_exact_and_prefix_name_search(client, registry, app) -> None:  # type: ignore[no-untyped-def]
    body = _get(client, "/domains?name=shop03.post")
    assert [d["ldhName"] for d in body["domainSearchResults"]] == ["shop03.post"]
    assert {"paging", "sorting", "subsetting"} <= set(body["rdapConformance"])
    app.extensions["rdapd"].settings = app.extensions["rdapd"].settings.__class__(
        **{**app.extensions["rdapd"].settings.__dict__, "search_page_size": 5}
    )
    pages, seen = _crawl(client, "/domains?name=shop*")
    assert seen == sorted(registry["shop"])
    assert pages == 3
    assert _crawl(client, "/domains?name=SHOP1*.post")[1] == ["shop10.post", "shop11.post"]


def test_count_sort_and_descending(client, registry, app) -> None:  # type: ignore[no-untyped-def]
    body = _get(client, "/domains?name=shop*&count=true&sort=expirationDate")
    assert body["paging_metadata"]["totalCount"] == 12
    got = [d["ldhName"] for d in body["domainSearchResults"]]
    assert got == sorted(registry["shop"], reverse=True)  # expiry falls as n grows
    body = _get(client, "/domains?name=shop*&sort=expirationDate:d")
    assert [d["ldhName"] for d in body["domainSearchResults"]] == sorted(registry["shop"])
    assert body["sorting_metadata"]["currentSort"] == "expirationDate:d"
    props = {s["property"] for s in body["sorting_metadata"]["availableSorts"]}
    assert props == {"name", "registrationDate", "expirationDate", "lastChangedDate"}


@pytest.mark.parametrize(
    "sort",
    [
        "name",
        "registrationDate",
        "expirationDate",
        "lastChangedDate",
        "name:d",
        "registrationDate:d",
        "lastChangedDate:d",
    ],
)
def test_every_sort_pages_through_every_result_once(  # type: ignore[no-untyped-def]
    client, registry, app, sort
) -> None:
    settings = app.extensions["rdapd"].settings
    app.extensions["rdapd"].settings = settings.__class__(
        **{**settings.__dict__, "search_page_size": 5}
    )
    pages, seen = _crawl(client, f"/domains?name=shop*&sort={sort}")
    assert sorted(seen) == sorted(registry["shop"])
    assert len(seen) == len(set(seen))
    assert pages == 3


def test_idn_search_by_u_label_prefix(client, registry) -> None:  # type: ignore[no-untyped-def]
    body = _get(client, "/domains?name=correos-esp*")
    assert [d["unicodeName"] for d in body["domainSearchResults"]] == ["correos-españa.post"]
    body = _get(client, "/domains?name=CORREOS-ESPAÑ*")
    assert [d["unicodeName"] for d in body["domainSearchResults"]] == ["correos-españa.post"]


def test_nameserver_searches(client, registry) -> None:  # type: ignore[no-untyped-def]
    body = _get(client, "/nameservers?name=ns1.shop0*")
    names = [n["ldhName"] for n in body["nameserverSearchResults"]]
    assert names == [f"ns1.shop{n:02d}.post" for n in range(10)]
    body = _get(client, "/nameservers?ip=2001:db8:0::1")
    assert len(body["nameserverSearchResults"]) >= 1
    assert all("2001:db8::1" in n["ipAddresses"]["v6"] for n in body["nameserverSearchResults"])


def test_domains_by_nameserver_name_and_ip(client, registry) -> None:  # type: ignore[no-untyped-def]
    body = _get(client, "/domains?nsLdhName=ns2.shop04.post")
    assert [d["ldhName"] for d in body["domainSearchResults"]] == ["shop04.post"]
    body = _get(client, "/domains?nsLdhName=ns2.shop0*&count=true")
    assert body["paging_metadata"]["totalCount"] == 10
    body = _get(client, "/domains?nsIp=192.0.2.2&count=true")
    assert body["paging_metadata"]["totalCount"] == 13  # every factory domain uses 192.0.2.2


def test_entity_search_finds_registrars(client, registry) -> None:  # type: ignore[no-untyped-def]
    body = _get(client, "/entities?fn=Alpha*")
    assert [e["roles"] for e in body["entitySearchResults"]] == [["registrar"]]
    iana = body["entitySearchResults"][0]["handle"]
    body = _get(client, f"/entities?handle={iana}")
    assert [e["handle"] for e in body["entitySearchResults"]] == [iana]


def test_field_sets(client, registry) -> None:  # type: ignore[no-untyped-def]
    ids = _get(client, "/domains?name=shop01.post&fieldSet=id")
    assert ids["domainSearchResults"] == [
        {
            "objectClassName": "domain",
            "handle": ids["domainSearchResults"][0]["handle"],
            "ldhName": "shop01.post",
        }
    ]
    assert ids["subsetting_metadata"]["currentFieldSet"] == "id"
    brief = _get(client, "/domains?name=shop01.post&fieldSet=brief")["domainSearchResults"][0]
    assert "status" in brief
    assert "entities" not in brief
    assert "redacted" not in brief
    full = _get(client, "/domains?name=shop01.post")["domainSearchResults"][0]
    assert "entities" in full
    for entry in full["redacted"]:
        path = entry.get("prePath") or entry.get("postPath")
        assert path.startswith("$.domainSearchResults[0].")


@pytest.mark.parametrize("role", [None, "registrar", "staff"])
@pytest.mark.parametrize("field_set", ["id", "brief"])
def test_partial_field_sets_are_exactly_the_full_answer_cut_down(  # type: ignore[no-untyped-def]
    client, registry, make_client, token_for, role, field_set
) -> None:
    # "id" and "brief" pages are built without contacts, name servers or DNSSEC rows; what they
    # show must still be exactly the full answer's members of that field set.
    headers = {"Authorization": f"Bearer {token_for(*make_client(role=role))}"} if role else {}
    members = FIELD_SET_MEMBERS[field_set]
    full = _get(client, "/domains?name=shop*&sort=name", headers=headers)
    part = _get(client, f"/domains?name=shop*&sort=name&fieldSet={field_set}", headers=headers)
    assert part["domainSearchResults"]
    expected = []
    for result in full["domainSearchResults"]:
        cut = {k: v for k, v in result.items() if k in members}
        kept = [
            entry
            for entry in result.get("redacted", [])
            if (entry.get("prePath") or entry.get("postPath") or "").split(".")[2].split("[")[0]
            in members
        ]
        if kept:
            cut["redacted"] = kept
        expected.append(cut)
    # Link objects carry the URL of the request they answer ("value"), which differs.
    here = "http://localhost/domains?name=shop*&sort=name"
    expected_text = json.dumps(expected).replace(f'"{here}"', f'"{here}&fieldSet={field_set}"')
    assert part["domainSearchResults"] == json.loads(expected_text)
    assert part["paging_metadata"]["pageSize"] == full["paging_metadata"]["pageSize"]


def test_cursor_is_tamper_proof_and_bound(  # type: ignore[no-untyped-def]
    client, registry, app, make_client, token_for
) -> None:
    settings = app.extensions["rdapd"].settings
    app.extensions["rdapd"].settings = settings.__class__(
        **{**settings.__dict__, "search_page_size": 5}
    )
    body = _get(client, "/domains?name=shop*")
    href = body["paging_metadata"]["links"][0]["href"]
    cursor = parse_qs(urlsplit(href).query)["cursor"][0]
    assert (
        _get(client, f"/domains?name=shop*&cursor={cursor}")["paging_metadata"]["pageNumber"] == 2
    )
    payload, _, mac = cursor.partition(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + mac
    for bad in (forged, cursor + "x", "garbage", cursor.replace(".", "")):
        error = _get(client, f"/domains?name=shop*&cursor={bad}", status=400)
        assert error["errorCode"] == 400
    # the same cursor on another query, or by another caller, is refused
    _get(client, f"/domains?name=shop1*&cursor={cursor}", status=400)
    _get(client, f"/domains?name=shop*&sort=registrationDate&cursor={cursor}", status=400)
    token = token_for(*make_client(role="requester"))
    _get(
        client,
        f"/domains?name=shop*&cursor={cursor}",
        status=400,
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.mark.parametrize(
    "query",
    [
        "/domains",
        "/domains?name=",
        "/domains?name=*",
        "/domains?name=s*",
        "/domains?name=*shop",
        "/domains?name=sh*op*",
        "/domains?name=sh*op",
        "/domains?name=shop*&name=x*",
        "/domains?name=shop*&nsIp=192.0.2.1",
        "/domains?nsIp=300.1.1.1",
        "/domains?nsIp=not-an-ip",
        "/domains?name=shop*&sort=color",
        "/domains?name=shop*&sort=name:x",
        "/domains?name=shop*&sort=name,registrationDate",
        "/domains?name=shop*&count=maybe",
        "/domains?name=shop*&fieldSet=tiny",
        "/domains?name=shop*&bogus=1",
        "/domains?name=" + "a" * 300 + "*",
        "/domains?name=ex%00*",
        "/nameservers?name=ns*&ip=192.0.2.1",
        "/entities?fn=*",
        "/entities?fn=J*o",
        "/entities?handle=bad handle",
        "/entities",
    ],
)
def test_malformed_searches_are_400(client, registry, query) -> None:  # type: ignore[no-untyped-def]
    body = _get(client, query, status=400)
    assert body["errorCode"] == 400
    assert body["description"]


def test_reverse_search_is_refused_for_the_public_and_requesters(  # type: ignore[no-untyped-def]
    client, registry, make_client, token_for
) -> None:
    response = client.get("/domains/reverse_search/entity?fn=Registrant*")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    token = token_for(*make_client(role="requester"))
    body = _get(
        client,
        "/domains/reverse_search/entity?fn=Registrant*",
        status=403,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert body["errorCode"] == 403


def test_reverse_search_matches_only_what_the_role_sees(  # type: ignore[no-untyped-def]
    client, db, registry, registrar, make_client, token_for
) -> None:
    with db.session_scope() as session:
        own = session.get(Registrar, registrar.id)
        factories.full_domain(session, name="mine.post", registrant_kind="natural", registrar=own)
    token = token_for(*make_client(role="registrar"))
    headers = {"Authorization": f"Bearer {token}"}
    body = _get(
        client, "/domains/reverse_search/entity?fn=Registrant*&role=registrant", headers=headers
    )
    assert [d["ldhName"] for d in body["domainSearchResults"]] == ["mine.post"]
    assert "reverse_search" in body["rdapConformance"]
    staff = token_for(*make_client(role="staff", purposes=()))
    body = _get(
        client,
        "/domains/reverse_search/entity?fn=Registrant*&role=registrant",
        headers={"Authorization": f"Bearer {staff}"},
    )
    assert len(body["domainSearchResults"]) == 14
    body = _get(
        client,
        "/domains/reverse_search/entity?email=REGISTRANT@mail.example",
        headers={"Authorization": f"Bearer {staff}"},
    )
    assert len(body["domainSearchResults"]) == 14
    _get(client, "/domains/reverse_search/entity?role=registrant", status=400, headers=headers)
    _get(client, "/domains/reverse_search/entity?fn=X*&role=owner", status=400, headers=headers)


def test_help_lists_search_extensions(client) -> None:  # type: ignore[no-untyped-def]
    body = _get(client, "/help")
    assert {"paging", "sorting", "subsetting", "reverse_search"} <= set(body["rdapConformance"])
    props = {p["property"] for p in body["reverse_search_properties"]}
    assert props == {"fn", "handle", "email", "role"}


@pytest.mark.parametrize("sort", ["name", "registrationDate:d"])
def test_ascii_prefix_pages_across_a_labels_and_u_labels(  # type: ignore[no-untyped-def]
    client, db, registry, app, sort
) -> None:
    with db.session_scope() as session:
        for n in range(3):
            factories.full_domain(session, name=f"correos{n}.post")
    settings = app.extensions["rdapd"].settings
    app.extensions["rdapd"].settings = settings.__class__(
        **{**settings.__dict__, "search_page_size": 1}
    )
    pages, seen = _crawl(client, f"/domains?name=correos*&sort={sort}")
    expected = {
        "correos0.post",
        "correos1.post",
        "correos2.post",
        "correos-españa.post".encode("idna").decode(),
    }
    assert set(seen) == expected
    assert len(seen) == len(expected)
    assert pages == 4


def test_a_deep_page_reads_no_more_than_the_first(app, client, db) -> None:  # type: ignore[no-untyped-def]
    """Keyset paging seeks to the cursor: SQLite's work for page 60 is that of page 1 (counted
    in virtual-machine steps, so the check does not depend on the machine's speed)."""
    engine = app.extensions["rdapd"].db.read_engine
    if engine.dialect.name != "sqlite":
        pytest.skip("counts SQLite virtual-machine steps")
    with db.session_scope() as session:
        factories.bind(session)
        registrar_id = factories.RegistrarFactory().id
    with db.engine.begin() as connection:
        connection.execute(
            Domain.__table__.insert(),
            [
                {"roid": f"DEEP{n}-POST", "ldh_name": f"deep{n:05d}.post", "tld": "post",
                 "registrar_id": registrar_id, "statuses": []}
                for n in range(3000)
            ],
        )  # fmt: skip
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0  # 0: carry on

    def watch(dbapi_connection, _record, _proxy):  # type: ignore[no-untyped-def]
        dbapi_connection.set_progress_handler(count, 50)

    event.listen(engine, "checkout", watch)
    try:
        path, pages, cost = "/domains?name=deep*&fieldSet=id", [], []
        while path:
            steps[0] = 0
            body = _get(client, path)
            cost.append(steps[0])
            pages.append(len(body["domainSearchResults"]))
            links = body["paging_metadata"].get("links", [])
            path = links[0]["href"].replace("http://localhost", "") if links else None
    finally:
        event.remove(engine, "checkout", watch)
    assert pages == [50] * 60
    assert cost[-1] <= 1.5 * cost[0], cost


def test_search_results_declare_what_lookups_declare(client, registry) -> None:  # type: ignore[no-untyped-def]
    """A result carries the redacted[] entries its lookup carries, paths rebased into the
    response; even those for members redaction removed entirely (RFC 9537 removal)."""
    domain = _get(client, "/domain/shop01.post")
    handle = next(e for e in domain["entities"] if e["roles"] == ["registrant"])["handle"]
    pairs = [
        ("/domain/shop01.post", "/domains?name=shop01.post", "domainSearchResults"),
        (f"/entity/{handle}", f"/entities?handle={handle}", "entitySearchResults"),
    ]
    for lookup_path, search_path, member in pairs:
        looked_up = _get(client, lookup_path)["redacted"]
        (result,) = _get(client, search_path)[member]

        def rebased(entry: dict, head: str = f"$.{member}[0]") -> dict:  # type: ignore[type-arg]
            return {k: head + v[1:] if k.endswith("Path") else v for k, v in entry.items()}

        assert result["redacted"] == [rebased(entry) for entry in looked_up]
        assert any(e["name"].get("description", "").endswith(" Verification") for e in looked_up)
