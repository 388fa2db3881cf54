"""Response headers: CORS preflight is answered 204 with the methods and headers allowed."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/domain/example.post", "GET"),
        ("/domains", "GET"),
        ("/complaints", "POST"),
        ("/oauth/token", "POST"),
        ("/registrar/complaints/abc/close", "POST"),
        ("/no/such/path", "GET"),
    ],
)
def test_cors_preflight(client, path, method) -> None:  # type: ignore[no-untyped-def]
    response = client.options(
        path,
        headers={
            "Origin": "https://client.example",
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 204
    assert response.get_data() == b""
    allowed = {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
    assert method in allowed
    assert allowed == {m.strip() for m in response.headers["Allow"].split(",")}
    requested = {h.strip() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"Authorization", "Content-Type"} <= requested
    assert int(response.headers["Access-Control-Max-Age"]) > 0
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_preflight_needs_no_credential_and_ignores_a_bad_one(client) -> None:  # type: ignore[no-untyped-def]
    response = client.options("/domain/example.post", headers={"Authorization": "Bearer x"})
    assert response.status_code == 204
