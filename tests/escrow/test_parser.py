"""The deposit parser: RFC 9022 objects to records, safe against hostile XML, errors with lines."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest

from rdap.errors import DepositError
from rdap.escrow import parser as p
from tests.escrow.conftest import DATA


def records(source: object) -> list[p.Record]:
    return list(p.parse_deposit(source))  # type: ignore[arg-type]


def by_type(items: list[p.Record], kind: type) -> list:  # type: ignore[type-arg]
    return [r for r in items if isinstance(r, kind)]


WRAP = """<?xml version="1.0" encoding="UTF-8"?>
<rde:deposit type="{type}" id="T1" xmlns:rde="urn:ietf:params:xml:ns:rde-1.0"
  xmlns:rdeDomain="urn:ietf:params:xml:ns:rdeDomain-1.0"
  xmlns:rdeNNDN="urn:ietf:params:xml:ns:rdeNNDN-1.0"
  xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"
  xmlns:rdapd="urn:rdapd:params:xml:ns:registration-data-1.0"
  xmlns:other="urn:example:other">
<rde:watermark>2026-01-01T00:00:00Z</rde:watermark>
<rde:rdeMenu><rde:version>1.0</rde:version><rde:objURI>x</rde:objURI></rde:rdeMenu>
<rde:contents>
{body}
</rde:contents>
</rde:deposit>
"""


def wrap(body: str, deposit_type: str = "FULL") -> io.BytesIO:
    return io.BytesIO(WRAP.format(body=body, type=deposit_type).encode())


def test_rfc9022_example_parses_every_object() -> None:
    items = records(DATA / "rfc9022-example.xml")
    info = items[0]
    assert isinstance(info, p.DepositInfo)
    assert (info.deposit_type, info.deposit_id, info.resend) == ("FULL", "20191017001", 0)
    assert info.watermark == dt.datetime(2019, 10, 17, tzinfo=dt.UTC)
    (header,) = by_type(items, p.Header)
    assert header.tld == "example"
    assert {c.uri: c.count for c in header.counts}[p.DOMAIN] == 3
    domains = by_type(items, p.DomainRecord)
    assert [d.name for d in domains] == [
        "example1.example",
        "example2.example",  # upper case in the file, lower-cased A-label here
        "xn--exampl-gva.example",
    ]
    first, second, idn = domains
    assert first.registrant == "jd1234"
    assert first.contacts == [("admin", "sh8013"), ("tech", "sh8013")]
    assert first.host_objects == ["ns1.example.com", "ns1.example1.example"]
    assert first.created_by == "RegistrarX"
    assert first.expires == dt.datetime(2015, 4, 3, 22, tzinfo=dt.UTC)
    assert second.statuses == ["clientUpdateProhibited", "clientTransferProhibited"]
    assert second.ds_data == [p.DsData(12345, 3, 1, "49FD46E6C4B45C55D4AC")]
    assert second.max_sig_life == 604800
    assert second.transferred == dt.datetime(2018, 2, 1, tzinfo=dt.UTC)
    # The minimal domain: no registrant, contacts, name servers or dates.
    assert idn.unicode_name == "examplé.example"
    assert idn.idn_table == "LATN"
    assert idn.statuses == ["pendingDelete", "redemptionPeriod"]
    assert (idn.registrant, idn.contacts, idn.host_objects, idn.created) == (None, [], [], None)
    host = by_type(items, p.HostRecord)[0]
    assert host.addresses == [
        p.IpAddress("v4", "192.0.2.2"),
        p.IpAddress("v4", "192.0.2.29"),
        p.IpAddress("v6", "1080::8:800:200c:417a"),
    ]
    contact = by_type(items, p.ContactRecord)[0]
    assert contact.voice == p.Phone("+1.7035555555", "1234")
    assert contact.postal_infos[0].address.street == ["123 Example Dr.", "Suite 100"]
    assert contact.disclose == {"flag": False, "elements": ["voice", "email"]}
    registrar = by_type(items, p.RegistrarRecord)[0]
    assert (registrar.client_id, registrar.gurid, registrar.whois_server) == (
        "RegistrarX",
        8,
        "whois.example.test",
    )
    assert registrar.address is not None
    assert registrar.address.country == "US"
    (table,) = by_type(items, p.IdnTableRecord)
    assert table.table_id == "LATN"
    (nndn,) = by_type(items, p.NndnRecord)
    assert (nndn.state, nndn.original_name) == ("blocked", "xn--exampl-gva.example")
    # eppParams and policy objects are not ours to load: ignored, no error.
    assert not by_type(items, p.ContactFacts)


def test_host_attributes_and_extension_objects() -> None:
    body = """
<rdeDomain:domain>
  <rdeDomain:name>attr.post</rdeDomain:name><rdeDomain:roid>D9-POST</rdeDomain:roid>
  <rdeDomain:status s="ok"/>
  <rdeDomain:ns><domain:hostAttr><domain:hostName>ns1.attr.post</domain:hostName>
    <domain:hostAddr ip="v4">192.0.2.53</domain:hostAddr>
    <domain:hostAddr ip="v6">2001:DB8::53</domain:hostAddr></domain:hostAttr>
    <domain:hostAttr><domain:hostName>ns.example.net</domain:hostName></domain:hostAttr>
  </rdeDomain:ns>
  <rdeDomain:clID>reg-a</rdeDomain:clID>
  <other:unknown>ignored</other:unknown>
</rdeDomain:domain>
<other:object><other:x>ignored entirely</other:x></other:object>
<rdapd:contactFacts><rdapd:id>C1</rdapd:id><rdapd:personKind>legal</rdapd:personKind>
  <rdapd:consent element="name" at="2025-01-02T03:04:05Z"/><rdapd:consent element="email"/>
  <rdapd:verification status="verified" date="2025-02-01T00:00:00Z" method="document-check"/>
  <rdapd:eligibility communityId="POST-CH-1" verified="2025-03-01T00:00:00Z" group="g1"/>
</rdapd:contactFacts>
<rdapd:contactFacts><rdapd:id>C2</rdapd:id></rdapd:contactFacts>
<rdapd:registrarFacts><rdapd:id>reg-a</rdapd:id>
  <rdapd:rdapBaseUrl>https://rdap.reg-a.example/</rdapd:rdapBaseUrl>
  <rdapd:abuseContact><rdapd:name>Abuse</rdapd:name><rdapd:email>abuse@reg-a.example</rdapd:email>
  <rdapd:voice>+41.1</rdapd:voice></rdapd:abuseContact>
</rdapd:registrarFacts>
<rdapd:protectedName><rdapd:aName>upu.post</rdapd:aName><rdapd:reason>UPU</rdapd:reason>
</rdapd:protectedName>
"""
    items = records(wrap(body))
    (domain,) = by_type(items, p.DomainRecord)
    assert domain.host_attrs == [
        p.HostAttr(
            "ns1.attr.post", [p.IpAddress("v4", "192.0.2.53"), p.IpAddress("v6", "2001:db8::53")]
        ),
        p.HostAttr("ns.example.net", []),
    ]
    full, bare = by_type(items, p.ContactFacts)
    assert full.person_kind == "legal"
    assert [c.element for c in full.consents] == ["name", "email"]
    assert full.consents[0].at == dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert (full.verification_status, full.verification_method) == ("verified", "document-check")
    assert (full.community_id, full.registrant_group) == ("POST-CH-1", "g1")
    # Absent facts: the safe defaults.
    assert (bare.person_kind, bare.consents, bare.verification_status) == (
        "natural",
        [],
        "unverified",
    )
    (facts,) = by_type(items, p.RegistrarFacts)
    assert (facts.rdap_base_url, facts.abuse_email) == (
        "https://rdap.reg-a.example/",
        "abuse@reg-a.example",
    )
    (protected,) = by_type(items, p.ProtectedName)
    assert (protected.name, protected.reason) == ("upu.post", "UPU")


def test_idn_names_are_checked_both_ways() -> None:
    ok = "<rdeDomain:domain><rdeDomain:name>xn--exampl-gva.post</rdeDomain:name>"
    ok += "<rdeDomain:roid>D1-P</rdeDomain:roid><rdeDomain:status s='ok'/>"
    ok += "<rdeDomain:clID>reg-a</rdeDomain:clID></rdeDomain:domain>"
    (domain,) = by_type(records(wrap(ok)), p.DomainRecord)
    assert domain.unicode_name == "examplé.post"  # derived from the A-label
    mismatch = ok.replace("<rdeDomain:roid>", "<rdeDomain:roid>").replace(
        "</rdeDomain:roid>", "</rdeDomain:roid><rdeDomain:uName>exemple.post</rdeDomain:uName>"
    )
    with pytest.raises(
        DepositError,
        match=r"line \d+: <rdeDomain:domain> xn--exampl-gva.post: "
        r"<rdeDomain:uName> 'exemple.post' does not match",
    ):
        records(wrap(mismatch))
    bad = ok.replace("xn--exampl-gva", "xn--zz-zzzz")
    with pytest.raises(DepositError, match="not a valid IDNA 2008 name"):
        records(wrap(bad))
    unicode_name = ok.replace("xn--exampl-gva", "examplé")
    with pytest.raises(DepositError, match="not a name of lower-case A-labels"):
        records(wrap(unicode_name))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "<rdeDomain:domain><rdeDomain:roid>D1-P</rdeDomain:roid></rdeDomain:domain>",
            r"line 11: <rdeDomain:domain>: missing or empty <rdeDomain:name>",
        ),
        (
            "<rdeDomain:domain><rdeDomain:name>a.post</rdeDomain:name><rdeDomain:roid>D</rdeDomain:roid>"
            "<rdeDomain:status s='ok'/><rdeDomain:clID>r</rdeDomain:clID>"
            "<rdeDomain:crDate>yesterday</rdeDomain:crDate></rdeDomain:domain>",
            r"line 11: <rdeDomain:domain> a.post: <rdeDomain:crDate> is not a dateTime: "
            r"'yesterday'",
        ),
        (
            "<rdeNNDN:NNDN><rdeNNDN:aName>a.post</rdeNNDN:aName><rdeNNDN:nameState>gone"
            "</rdeNNDN:nameState></rdeNNDN:NNDN>",
            r"line 11: <rdeNNDN:NNDN> a.post: nameState 'gone'",
        ),
        (
            "<rdapd:contactFacts><rdapd:id>C1</rdapd:id><rdapd:personKind>robot</rdapd:personKind>"
            "</rdapd:contactFacts>",
            r"line 11: <rdapd:contactFacts> C1: personKind 'robot'",
        ),
    ],
)
def test_bad_objects_name_element_and_line(body: str, message: str) -> None:
    with pytest.raises(DepositError, match=message):
        records(wrap(body))


def test_only_full_deposits_are_read_as_such() -> None:
    (info,) = records(wrap("", deposit_type="DIFF"))
    assert isinstance(info, p.DepositInfo)
    assert info.deposit_type == "DIFF"
    with pytest.raises(DepositError, match=r"line \d+: <rde:deposit>: type 'WEEKLY'"):
        records(wrap("", deposit_type="WEEKLY"))


@pytest.mark.parametrize("name", ["xxe.xml", "billion-laughs.xml"])
def test_doctype_is_refused_before_any_entity_is_used(name: str) -> None:
    with pytest.raises(DepositError) as caught:
        records(DATA / name)
    message = str(caught.value)
    assert re.match(r"line \d+: <rde:deposit>: a DOCTYPE \(DTD, entities\) is not allowed", message)
    assert "root:" not in message
    assert "lol" not in message


# A parameter-entity bomb: libxml2 expands these while it reads the DTD itself, before the
# root element (and any check made on it) is reached.
PARAMETER_BOMB = (
    '<?xml version="1.0"?>\n<!DOCTYPE rde:deposit [\n'
    + f'<!ENTITY % a "{"a" * 30}">\n'
    + "".join(
        f'<!ENTITY % {n} "{("%" + p + ";") * 10}">\n'
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "%i;\n]>\n"
    + WRAP.split("\n", 1)[1].format(body="", type="FULL")
)


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(PARAMETER_BOMB.encode(), id="parameter-entity-bomb"),
        pytest.param(
            (DATA / "billion-laughs.xml").read_text().encode("utf-16"), id="billion-laughs-utf-16"
        ),
        pytest.param(
            b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- a <!DOCTYPE in a comment is text -->\n'
            b"<?pi <!DOCTYPE?>\n<!DOCTYPE rde:deposit SYSTEM 'http://192.0.2.1/x.dtd'>\n"
            + WRAP.split("\n", 1)[1].format(body="", type="FULL").encode(),
            id="after-comment-and-pi",
        ),
    ],
)
def test_doctype_is_refused_in_any_encoding_and_stream(document: bytes) -> None:
    with pytest.raises(DepositError) as caught:
        records(io.BytesIO(document))
    assert re.match(
        r"line \d+: <rde:deposit>: a DOCTYPE \(DTD, entities\) is not allowed", str(caught.value)
    )


def test_doctype_line_is_where_it_stands() -> None:
    with pytest.raises(DepositError, match=r"^line 2: <rde:deposit>: a DOCTYPE"):
        records(DATA / "billion-laughs.xml")


class OneWay:
    """A stream that cannot seek: what the prolog check read must be replayed to the parser."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._data.read(size)


def test_a_stream_parses_as_its_file_does() -> None:
    data = (DATA / "rfc9022-example.xml").read_bytes()
    from_file = records(DATA / "rfc9022-example.xml")
    assert records(OneWay(data)) == from_file
    utf16 = data.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    assert records(OneWay(utf16)) == from_file


@pytest.mark.parametrize(
    ("document", "pattern"),
    [
        pytest.param(
            b"<?xml version='1.0'?>\nstray text<rde:deposit/>",
            r"^line 2: malformed XML: content",
            id="text",
        ),
        pytest.param(
            b"<?xml version='1.0'?>\n<![CDATA[x]]><rde:deposit/>",
            r"^line 2: malformed XML: a markup",
            id="cdata",
        ),
        pytest.param(
            b"<!--" + b" " * (2 * 1024 * 1024),
            r"^line 1: more than 1048576 bytes before the root",
            id="endless-comment",
        ),
    ],
)
def test_prolog_holds_only_what_xml_allows(document: bytes, pattern: str) -> None:
    with pytest.raises(DepositError, match=pattern):
        records(io.BytesIO(document))


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("truncated.xml", r"^line \d+: malformed XML: "),
        ("malformed.xml", r"^line 49: malformed XML: Opening and ending tag mismatch"),
    ],
)
def test_broken_xml_is_one_clear_error(name: str, pattern: str) -> None:
    with pytest.raises(DepositError, match=pattern):
        records(DATA / name)


def test_not_a_deposit() -> None:
    with pytest.raises(DepositError, match="line 1: malformed XML"):
        records(io.BytesIO(b""))
    with pytest.raises(DepositError, match="empty or has no <rde:deposit>"):
        records(io.BytesIO(b"<html><body/></html>"))
