"""HTTP framing in the app: an oversized request target is a 414 and oversized header fields a
431, both RDAP bodies; a body the server cannot read is a 400 wherever it is read (JSON, forms).
tests/test_serve.py sends the same through a real gunicorn."""

from __future__ import annotations

import io

import pytest

from rdap.views.framing import MAX_FIELD, MAX_FIELDS, MAX_TARGET

RDAP = "application/rdap+json"


def _error(response, status: int) -> dict:  # type: ignore[no-untyped-def, type-arg]
    assert response.status_code == status
    assert response.content_type == RDAP
    body: dict = response.get_json()  # type: ignore[type-arg]
    assert body["errorCode"] == status
    return body


@pytest.mark.parametrize(
    "path",
    [
        "/domain/" + "a" * MAX_TARGET,
        "/domains?name=" + "b" * MAX_TARGET,
        "/complaints/" + "c" * MAX_TARGET,
    ],
)
def test_an_oversized_request_target_is_414(client, path) -> None:  # type: ignore[no-untyped-def]
    body = _error(client.get(path), 414)
    assert "aaaa" not in str(body)
    assert body["description"] == ["the request URI is longer than this server accepts"]


def test_a_target_at_the_limit_is_read(client) -> None:  # type: ignore[no-untyped-def]
    path = "/domain/" + "a" * (MAX_TARGET - len("/domain/"))
    assert client.get(path).status_code == 400  # read, and refused as a name (too long)


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Big": "x" * MAX_FIELD},
        {"Authorization": "Bearer " + "t" * MAX_FIELD},
        {f"X-Header-{i}": "v" for i in range(MAX_FIELDS + 1)},
    ],
    ids=["one-big", "big-token", "many"],
)
def test_oversized_header_fields_are_431(client, headers) -> None:  # type: ignore[no-untyped-def]
    body = _error(client.get("/help", headers=headers), 431)
    assert body["description"] == [
        "the request's header fields are larger than this server accepts"
    ]


def test_headers_within_the_limits_are_answered(client) -> None:  # type: ignore[no-untyped-def]
    headers = {f"X-Header-{i}": "v" * 100 for i in range(MAX_FIELDS - 10)}
    headers["X-Big"] = "x" * (MAX_FIELD - len("X_BIG") - 10)
    assert client.get("/help", headers=headers).status_code == 200


class BrokenChunks(io.RawIOBase):
    """A server's input stream that fails the way gunicorn's does on a malformed chunk."""

    def read(self, size: int = -1) -> bytes:
        raise ValueError("Invalid chunk size: 'zz'")

    def readline(self, size: int | None = -1) -> bytes:
        raise ValueError("Invalid chunk size: 'zz'")


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/complaints", "application/json"),
        ("/registrar/complaints/abcdefghijklmnopqrstuvwx/close", "application/json"),
        ("/oauth/token", "application/x-www-form-urlencoded"),
        ("/oauth/revoke", "application/x-www-form-urlencoded"),
    ],
)
@pytest.mark.parametrize("terminated", [True, False], ids=["chunked", "content-length"])
def test_an_unreadable_body_is_400_wherever_it_is_read(  # type: ignore[no-untyped-def]
    client, path, content_type, terminated
) -> None:
    environ: dict[str, object] = {"wsgi.input": BrokenChunks()}
    if terminated:
        environ["wsgi.input_terminated"] = True  # as gunicorn sets for chunked bodies
    else:
        environ["CONTENT_LENGTH"] = "20"
    response = client.post(path, content_type=content_type, environ_overrides=environ)
    body = _error(response, 400)
    assert body["description"] == ["the request body is malformed or incomplete"]
