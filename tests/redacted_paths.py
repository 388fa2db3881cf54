"""RFC 9537 declarations checked against the answer that carries them, with an independent
RFC 9535 JSONPath implementation (jsonpath-rfc9535), not the server's own evaluator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonpath_rfc9535

RESULT_MEMBERS = ("domainSearchResults", "entitySearchResults", "nameserverSearchResults")


def declarations(answer: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every declaration of a lookup answer, and of each result of a search answer (their
    paths are absolute in the whole answer)."""
    yield from answer.get("redacted", [])
    for member in RESULT_MEMBERS:
        for result in answer.get(member, []):
            yield from result.get("redacted", [])


def check(answer: dict[str, Any]) -> int:
    """An emptied value's postPath selects only "", a shortened phone's postPath selects the
    numbers without their extension, a removed element's prePath selects nothing. Returns how
    many declarations were checked."""
    count = 0
    for entry in declarations(answer):
        count += 1
        method = entry["method"]
        if method == "removal":
            assert jsonpath_rfc9535.find(entry["prePath"], answer).values() == [], entry
            continue
        values = jsonpath_rfc9535.find(entry["postPath"], answer).values()
        assert values, entry
        if method == "emptyValue":
            assert set(values) == {""}, entry
        else:
            assert method == "partialValue", entry
            assert not any(";ext=" in value for value in values), entry
    return count
