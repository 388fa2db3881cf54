"""The OpenAPI document is valid OpenAPI 3.1, served at /openapi.json, and covers every route."""

from __future__ import annotations

import re

from openapi_spec_validator import validate


def test_served_and_valid(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_route_is_documented(app, client) -> None:  # type: ignore[no-untyped-def]
    paths = client.get("/openapi.json").get_json()["paths"]
    documented = {re.sub(r"\{[^}]+\}", "{}", p): p for p in paths}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "<path:" in rule.rule or rule.rule == "/":
            continue  # the RDAP catch-all is documented path by path below
        template = re.sub(r"<[^>]+>", "{}", rule.rule)
        assert template in documented, f"{rule.rule} is not in openapi.json"
        methods = {m.lower() for m in rule.methods or ()} - {"head", "options"}
        assert methods <= set(paths[documented[template]]), rule.rule


def test_rdap_paths_are_documented(client) -> None:  # type: ignore[no-untyped-def]
    paths = client.get("/openapi.json").get_json()["paths"]
    for path in (
        "/domain/{name}",
        "/nameserver/{name}",
        "/entity/{handle}",
        "/help",
        "/domains",
        "/nameservers",
        "/entities",
        "/domains/reverse_search/entity",
    ):
        assert "get" in paths[path]
    search = {p["name"] for p in paths["/domains"]["get"]["parameters"] if "name" in p}
    search |= {
        p["$ref"].rsplit("/", 1)[1] for p in paths["/domains"]["get"]["parameters"] if "$ref" in p
    }
    assert {"name", "nsLdhName", "nsIp", "count", "sort", "cursor", "fieldSet"} <= search
