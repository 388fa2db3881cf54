"""Query parsing: names in every accepted form normalise; everything else is a QueryError."""

from __future__ import annotations

import pytest

from rdap.errors import NotImplementedQuery, QueryError
from rdap.query import (
    DomainLookup,
    EntityLookup,
    HelpQuery,
    NameserverLookup,
    RegistrarLookup,
    parse_domain_name,
    parse_path,
    parse_whois,
)


def _a(name: str) -> str:
    """A-label form by the standard library's (IDNA 2003) codec: an independent oracle."""
    return name.encode("idna").decode("ascii")


@pytest.mark.parametrize(
    ("raw", "ldh", "unicode", "as_unicode"),
    [
        ("example.post", "example.post", None, False),
        ("EXAMPLE.Post", "example.post", None, False),
        ("example.post.", "example.post", None, False),
        ("correos-españa.post", _a("correos-españa.post"), "correos-españa.post", True),
        ("CORREOS-ESPAÑA.post", _a("correos-españa.post"), "correos-españa.post", True),
        (_a("correos-españa.post"), _a("correos-españa.post"), "correos-españa.post", False),
        (
            _a("correos-españa.post").upper(),
            _a("correos-españa.post"),
            "correos-españa.post",
            False,
        ),
        ("邮政.post", _a("邮政.post"), "邮政.post", True),
        ("بريد.post", _a("بريد.post"), "بريد.post", True),
    ],
)
def test_names_normalise(raw: str, ldh: str, unicode: str | None, as_unicode: bool) -> None:
    name, used_unicode = parse_domain_name(raw)
    assert (name.ldh, name.unicode, used_unicode) == (ldh, unicode, as_unicode)
    assert name.tld == "post"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        ".",
        "a..post",
        ".example.post",
        "example.post..",
        "exa_mple.post",
        "-example.post",
        "example-.post",
        "ab--cd.post",  # reserved R-LDH form that is not xn--
        "xn--zz.post",  # invalid punycode
        "xn--example-.post",
        "a" * 64 + ".post",
        ".".join(["a" * 63] * 4) + ".post",  # > 253 octets
        "exam\u200bple.post",  # zero-width space
        "exam\x00ple.post",
        "exam\u202eple.post",  # bidi override
        "exam\ud800ple.post",  # lone surrogate
        "example .post",
        "ex'ample.post",
        "' OR 1=1--.post",
        "<script>.post",
        "\ufffd.post",
        "a\r\nb.post",
    ],
)
def test_bad_names_are_query_errors(raw: str) -> None:
    with pytest.raises(QueryError):
        parse_domain_name(raw)


def test_error_messages_do_not_echo_input() -> None:
    with pytest.raises(QueryError) as info:
        parse_domain_name("<script>alert(1)</script>.post")
    assert "<script>" not in info.value.description


def test_paths() -> None:
    assert isinstance(parse_path(["help"]), HelpQuery)
    assert isinstance(parse_path(["domain", "example.post"]), DomainLookup)
    assert isinstance(parse_path(["nameserver", "ns1.example.post"]), NameserverLookup)
    assert parse_path(["entity", "C00001-POST"]) == EntityLookup("C00001-POST")


@pytest.mark.parametrize(
    "segments",
    [
        [""],
        ["domain"],
        ["domain", ""],
        ["domain", "a", "b"],
        ["domain", "post"],
        ["help", "x"],
        ["entity", "bad handle"],
        ["entity", "x" * 200],
        ["entity", "C1;DROP"],
        ["nonsense"],
        ["domain", "..", "..", "etc"],
    ],
)
def test_bad_paths(segments: list[str]) -> None:
    with pytest.raises(QueryError):
        parse_path(segments)


@pytest.mark.parametrize("kind", ["ip", "autnum"])
def test_unsupported_lookups_are_501(kind: str) -> None:
    with pytest.raises(NotImplementedQuery):
        parse_path([kind, "192.0.2.1"])


# --- port 43 --------------------------------------------------------------------------------
def test_whois_names_are_domains_then_nameservers() -> None:
    queries = parse_whois("  Correos-España.POST.  ")
    name = parse_domain_name("correos-españa.post")[0]
    assert queries == (DomainLookup(name, True), NameserverLookup(name, True))
    assert parse_whois(_a("correos-españa.post")) == (
        DomainLookup(name, False),
        NameserverLookup(name, False),
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("domain EXAMPLE.post", (DomainLookup(parse_domain_name("example.post")[0], False),)),
        (
            "NAMESERVER ns1.example.post",
            (NameserverLookup(parse_domain_name("ns1.example.post")[0], False),),
        ),
        ("9999", (RegistrarLookup(iana_id=9999),)),
        ("registrar 9999", (RegistrarLookup(iana_id=9999),)),
        ("Registrar A", (RegistrarLookup(name="A"), RegistrarLookup(name="Registrar A"))),
        (
            "registrar   Good \t Registrar ",
            (
                RegistrarLookup(name="Good Registrar"),
                RegistrarLookup(name="registrar Good Registrar"),
            ),
        ),
        ("PostReg", (RegistrarLookup(name="PostReg"),)),
        ("domain", (RegistrarLookup(name="domain"),)),
    ],
)
def test_whois_keywords_and_registrars(line: str, expected: tuple[object, ...]) -> None:
    assert parse_whois(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "",
        " \t ",
        "bad_name.post",
        "post.",
        "domain a.post b.post",
        "domain post",
        "exa\x00mple.post",
        "1234567890",
        "Registrar " + "x" * 300,
        "xn--zz.post",
        "a..post",
    ],
)
def test_bad_whois_lines_are_query_errors(line: str) -> None:
    with pytest.raises(QueryError):
        parse_whois(line)
