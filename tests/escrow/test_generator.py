"""The deposit generator: valid RFC 8909/9022 XML, deterministic, realistic, with PII markers."""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path

import idna
import pytest
from lxml import etree

from rdap.escrow import parser as p
from rdap.escrow.generator import (
    GeneratedDeposit,
    generate_deposit,
    generate_records,
    write_deposit,
)
from rdap.settings import PROJECT_ROOT
from tests.escrow.conftest import EXT_XSD, RDE_XSD, rde_schemas

XS = "http://www.w3.org/2001/XMLSchema"


@pytest.fixture(scope="module")
def deposit(tmp_path_factory: pytest.TempPathFactory) -> GeneratedDeposit:
    path = tmp_path_factory.mktemp("gen") / "post.xml"
    return generate_deposit(path, size=400, seed=7, markers=True)


@pytest.fixture(scope="module")
def parsed(deposit: GeneratedDeposit) -> list[p.Record]:
    assert deposit.path is not None
    return list(p.parse_deposit(deposit.path))


def of(items: list[p.Record], kind: type) -> list:  # type: ignore[type-arg]
    return [r for r in items if isinstance(r, kind)]


def test_validates_against_rde_schemas_and_our_extension(
    deposit: GeneratedDeposit, rde_schema: etree.XMLSchema, rde_ext_schema: etree.XMLSchema
) -> None:
    assert deposit.path is not None
    tree = etree.parse(str(deposit.path))
    rde_ext_schema.assertValid(tree)
    # Without our extension objects it is a plain RFC 9022 deposit.
    contents = tree.getroot().find(f"{{{p.RDE}}}contents")
    for elem in list(contents):
        if elem.tag.startswith(f"{{{p.RDAPD}}}"):
            contents.remove(elem)
    rde_schema.assertValid(tree)


def test_rde_schemas_ship_inside_the_project() -> None:
    """Schema validation must run on any checkout: every schema it loads is in the repository."""
    assert RDE_XSD.is_relative_to(PROJECT_ROOT)
    seen: set[Path] = set()
    todo = [RDE_XSD / "all-rde.xsd", RDE_XSD / "rde.xsd", EXT_XSD]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        assert path.is_file(), path
        for ref in etree.parse(str(path)).getroot().iter(f"{{{XS}}}import", f"{{{XS}}}include"):
            location = ref.get("schemaLocation")
            if location is not None:
                assert "://" not in location, f"{path.name} fetches {location}"
                todo.append(path.parent / location)
    assert len(seen) > 15
    rde_schemas(RDE_XSD, EXT_XSD)


def test_a_missing_schema_fails_instead_of_skipping(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"all-rde\.xsd"):
        rde_schemas(tmp_path)


def test_header_counts_match_contents(deposit: GeneratedDeposit, parsed: list[p.Record]) -> None:
    (header,) = of(parsed, p.Header)
    counts = {c.uri: c.count for c in header.counts}
    assert counts == deposit.counts
    for kind, uri in p.OBJECT_URIS.items():
        assert len(of(parsed, kind)) == counts[uri]
    assert counts[p.DOMAIN] == 400


def test_deterministic() -> None:
    def text(seed: int) -> str:
        out = io.StringIO()
        write_deposit(out, size=60, seed=seed)
        return out.getvalue()

    assert text(5) == text(5)
    assert text(5) != text(6)


def test_registry_content_is_realistic(parsed: list[p.Record]) -> None:
    registrars = of(parsed, p.RegistrarRecord)
    assert {r.gurid for r in registrars} >= {9995, 9996, 9997, 9998, 9999}
    facts = of(parsed, p.RegistrarFacts)
    assert all(f.rdap_base_url and f.abuse_email and f.abuse_voice for f in facts)
    assert len(facts) == len(registrars)

    domains = of(parsed, p.DomainRecord)
    tables = {d.idn_table for d in domains if d.unicode_name}
    assert tables == {"ar", "zh", "es"}
    for d in domains:
        assert d.name.endswith(".post")
        assert d.name == d.name.lower()
        if d.unicode_name:
            assert idna.encode(d.unicode_name).decode() == d.name
    variants = [d for d in domains if d.original_name]
    assert variants
    assert all(d.idn_table == "zh" for d in variants)
    originals = {d.name for d in domains}
    assert all(v.original_name in originals for v in variants)

    for d in domains:
        epp = [
            s for s in d.statuses if s not in ("redemptionPeriod", "addPeriod", "autoRenewPeriod")
        ]
        if "ok" in epp:
            assert epp == ["ok"]  # ok never combines with another EPP status
        if "redemptionPeriod" in d.statuses:
            assert "pendingDelete" in epp
        if d.host_objects:
            assert len(d.ds_data) == 1
            (ds,) = d.ds_data
            assert (ds.algorithm, ds.digest_type) == (13, 2)
            assert re.fullmatch(r"[0-9A-F]{64}", ds.digest)
        else:
            assert d.statuses == ["inactive"]
            assert not d.ds_data
    assert len({tuple(d.statuses) for d in domains}) >= 6

    hosts = of(parsed, p.HostRecord)
    in_bailiwick = [h for h in hosts if h.name.endswith(".post")]
    outside = [h for h in hosts if not h.name.endswith(".post")]
    assert in_bailiwick
    assert outside
    assert all({a.version for a in h.addresses} == {"v4", "v6"} for h in in_bailiwick)
    assert all(not h.addresses for h in outside)

    contact_facts = {f.handle: f for f in of(parsed, p.ContactFacts)}
    registrants = {d.registrant for d in domains}
    kinds = [contact_facts[r].person_kind for r in registrants]
    assert kinds.count("legal") > 0.9 * len(kinds)
    assert "natural" in kinds
    assert all(contact_facts[r].community_id for r in registrants)
    assert any(f.consents for f in contact_facts.values())
    assert {f.verification_status for f in contact_facts.values()} >= {
        "verified",
        "pending",
        "unverified",
    }

    nndn = of(parsed, p.NndnRecord)
    assert {n.state for n in nndn} == {"withheld", "blocked"}
    reasons = {r.name for r in of(parsed, p.ProtectedName)}
    assert reasons == {n.name for n in nndn}


def test_markers_cover_every_personal_value(
    deposit: GeneratedDeposit, parsed: list[p.Record]
) -> None:
    assert deposit.path is not None
    text = deposit.path.read_text(encoding="utf-8")
    values = deposit.marker_values
    assert len(values) == len(set(values))
    for value in values:
        assert text.count(value) == 1, value
    facts = {f.handle: f for f in of(parsed, p.ContactFacts)}
    natural = [c for c in of(parsed, p.ContactRecord) if facts[c.handle].person_kind == "natural"]
    assert len(values) == 7 * len(natural)
    by_contact: dict[str, set[str]] = {}
    for m in deposit.markers:
        by_contact.setdefault(m.contact, set()).add(m.kind)
    for contact in natural:
        assert by_contact[contact.handle] == {
            "name",
            "street",
            "city",
            "pc",
            "voice",
            "fax",
            "email",
        }
        info = contact.postal_infos[0]
        for value in (info.name, *info.address.street, info.address.city, info.address.postal_code,
                      contact.email):  # fmt: skip
            assert value is not None
            assert "PII-" in value
        assert contact.voice is not None
        assert re.fullmatch(r"\+\d{1,3}\.8801\d{8}", contact.voice.number)
        assert contact.fax is not None
        assert re.fullmatch(r"\+\d{1,3}\.8802\d{8}", contact.fax.number)
    # Legal persons carry no markers.
    legal = [c for c in of(parsed, p.ContactRecord) if facts[c.handle].person_kind == "legal"]
    assert legal
    assert not any("PII-" in str(c) for c in legal)


def test_without_markers_no_marker_appears(tmp_path: Path) -> None:
    result = generate_deposit(tmp_path / "plain.xml", size=50, seed=2)
    assert result.markers == ()
    assert "PII-" not in (tmp_path / "plain.xml").read_text(encoding="utf-8")


def test_other_tld_and_bad_arguments(tmp_path: Path) -> None:
    result = generate_deposit(tmp_path / "t.xml", tld="Example", size=30)
    assert result.tld == "example"
    assert all(d.name.endswith(".example") for d in p.parse_deposit(tmp_path / "t.xml")
               if isinstance(d, p.DomainRecord))  # fmt: skip
    with pytest.raises(ValueError, match="single-label"):
        generate_deposit(tmp_path / "x.xml", tld="a.b")
    with pytest.raises(ValueError, match="at least 1"):
        generate_deposit(tmp_path / "x.xml", size=0)


def _without_lines(record: p.Record) -> p.Record:
    if isinstance(record, p.Header):
        counts = [dataclasses.replace(c, line=0) for c in record.counts]
        return dataclasses.replace(record, counts=counts, line=0)
    return dataclasses.replace(record, line=0)


@pytest.mark.parametrize(
    "arguments",
    [
        {"size": 400, "seed": 7, "markers": True},
        {"size": 1500, "seed": 3},
        {"tld": "xn--p1ai", "size": 120, "seed": 5},  # an IDN TLD: every name has a U-label form
    ],
)
def test_records_are_what_the_parser_reads_from_the_deposit(arguments: dict[str, object]) -> None:
    """generate_records (which the bulk loader of the benchmarks loads) and the deposit
    write_deposit writes are the same registry, object for object."""
    out = io.StringIO()
    write_deposit(out, **arguments)  # type: ignore[arg-type]
    parsed = [_without_lines(r) for r in p.parse_deposit(io.BytesIO(out.getvalue().encode()))]
    assert list(generate_records(**arguments)) == parsed  # type: ignore[arg-type]
