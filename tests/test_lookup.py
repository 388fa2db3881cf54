"""The lookup pipeline: skipping work policy would undo changes nothing a caller sees."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from sqlalchemy import select

from rdap import document as doc
from rdap import models
from rdap.db import Database
from rdap.lookup import LookupContext, redact_for, verification_for
from rdap.principal import ANONYMOUS, REGISTRAR, REQUESTER, STAFF, Principal
from rdap.records import DomainRecord
from rdap.redaction import Policy, load_policy, redact
from rdap.repository import Repository
from rdap.settings import Settings
from tests import factories

NOW = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
LINKS = doc.Links(base_url="https://rdap.example", request_url="https://rdap.example/x")


def _record(db: Database, name: str, kind: str) -> DomainRecord:
    with db.session_scope() as session:
        factories.full_domain(session, name=name, registrant_kind=kind)
    with db.read_connection() as connection:
        record = Repository(connection).domain(name)
    assert record is not None
    return record


def _same_either_way(record: DomainRecord, principal: Principal, policy: Policy) -> None:
    """Building the verification remarks and redacting them gives what not building them does."""
    answers = [
        redact(doc.domain_document(record, LINKS, verification=v), principal, policy, now=NOW)
        for v in (True, False)
    ]
    assert answers[0].body == answers[1].body
    assert answers[0].redacted == answers[1].redacted


@pytest.mark.parametrize("kind", ["natural", "legal"])
@pytest.mark.parametrize("principal", [ANONYMOUS, Principal(role=REQUESTER)])
def test_leaving_out_unshowable_verification_remarks_changes_nothing(
    db: Database, kind: str, principal: Principal
) -> None:
    policy = load_policy(Settings().policies_path)
    assert not policy.may_show(principal.role, "verification")
    assert policy.may_show(STAFF, "verification")
    _same_either_way(_record(db, "same.post", kind), principal, policy)


@pytest.mark.parametrize("kind", ["natural", "legal"])
def test_registrars_get_verification_remarks_built_only_for_their_own_domains(
    db: Database, kind: str
) -> None:
    policy = load_policy(Settings().policies_path)
    record = _record(db, "owned.post", kind)
    sponsor_id = record.registrar.id
    sponsor = Principal(role=REGISTRAR, registrar_id=sponsor_id)
    foreign = Principal(role=REGISTRAR, registrar_id=sponsor_id + 1000)
    assert verification_for(policy, sponsor)(sponsor_id)
    assert not verification_for(policy, foreign)(sponsor_id)
    assert verification_for(policy, Principal(role=STAFF))(sponsor_id)
    assert not verification_for(policy, ANONYMOUS)(sponsor_id)

    _same_either_way(record, foreign, policy)
    # The sponsor still sees them.
    own = redact(doc.domain_document(record, LINKS, verification=True), sponsor, policy, now=NOW)
    titles = [r.get("title") for e in own.body["entities"] for r in e.get("remarks", [])]
    assert "Contact verification" in titles


def test_parts_shared_across_a_page_change_no_answer(db: Database) -> None:
    """One registrar, one contact in several roles and one name server in several domains:
    documents built with shared parts redact to what separately built ones do, and redaction
    leaves the shared parts as they were."""
    policy = load_policy(Settings().policies_path)
    with db.session_scope() as session:
        first = factories.full_domain(session, name="first.post", registrant_kind="natural")
        second = factories.full_domain(
            session, name="second.post", registrant_kind="natural", registrar=first.registrar
        )
        # The first domain's registrant is also every contact of the second domain.
        second.registrant_id = first.registrant_id
        for link in second.contacts:
            link.contact_id = first.registrant_id
        second.contacts.append(models.DomainContact(contact_id=first.registrant_id, type="billing"))
        # The second domain is delegated to the first one's ns1 and to a host attribute.
        shared_ns, attribute = second.nameservers
        shared_ns.host_id, shared_ns.ldh_name = first.nameservers[0].host_id, "ns1.first.post"
        attribute.host_id, attribute.ldh_name = None, "ns.example.net"
        attribute.addresses = [{"version": "v4", "address": "198.51.100.7"}]
    with db.read_connection() as connection:
        records = Repository(connection).domains_by_ids([first.id, second.id])
    assert records[0].registrant is records[1].registrant  # read once, shared by the batch
    assert records[0].registrar is records[1].registrar
    assert records[0].nameservers[0].host is records[1].nameservers[0].host
    assert [(n.ldh_name, n.host, n.addresses) for n in records[1].nameservers[1:]] == [
        ("ns.example.net", None, (("v4", "198.51.100.7"),))
    ]
    sponsor = Principal(role=REGISTRAR, registrar_id=records[0].registrar.id)
    for principal in (ANONYMOUS, sponsor, Principal(role=STAFF)):
        shared = doc.SharedParts()
        built = [doc.domain_document(r, LINKS, shared=shared) for r in records]
        before = [orjson.dumps(d.body) for d in built]
        for document, record in zip(built, records, strict=True):
            alone = redact(doc.domain_document(record, LINKS), principal, policy, now=NOW)
            answer = redact(document, principal, policy, now=NOW)
            assert answer.body == alone.body
            assert answer.redacted == alone.redacted
        assert [orjson.dumps(d.body) for d in built] == before
        entities = built[1].body["entities"]
        assert entities[1]["vcardArray"] is entities[2]["vcardArray"]  # shared, not copied
        assert built[0].body["entities"][0] is entities[0]  # the registrar's entity
        assert built[0].body["nameservers"][0] is built[1].body["nameservers"][0]
        assert built[1].body["nameservers"][1] == {
            "objectClassName": "nameserver",
            "ldhName": "ns.example.net",
            "ipAddresses": {"v4": ["198.51.100.7"]},
        }


def test_the_channel_supplies_the_links_and_the_contact_form_base() -> None:
    """Shared parts are keyed by the Links object the channel hands in; the contact form's
    {base_url} is that object's base URL (port 43 has no request URL, only a base)."""
    ctx = LookupContext(
        now=NOW, links=LINKS, contact_uri_template="{base_url}/contact?d={domain}&r={role}"
    )
    assert ctx.links is LINKS
    assert ctx.links.self_link("domain/a.post")["href"] == "https://rdap.example/domain/a.post"
    policy = load_policy(Settings().policies_path)
    full = doc.FullDocument(
        body={
            "objectClassName": "domain",
            "ldhName": "a.post",
            "entities": [
                {
                    "objectClassName": "entity",
                    "roles": ["registrant"],
                    "vcardArray": ["vcard", [["email", {}, "text", "x@example.net"]]],
                }
            ],
        },
        subject=doc.Subject(object_class="domain", key="a.post", registrar_id=1),
        entities=(
            doc.EntityFacts(
                path="$.entities[?(@.roles[0]=='registrant')]",
                role="registrant",
                handle="C1",
                person_kind="natural",
                publish_consent=frozenset(),
                registrar_id=1,
            ),
        ),
    )
    answer = redact_for(full, ANONYMOUS, policy, ctx)
    card = answer.body["entities"][0]["vcardArray"][1]
    assert card == [
        ["contact-uri", {}, "uri", "https://rdap.example/contact?d=a.post&r=registrant"]
    ]


# --- disclosure grants: loaded for the one domain a lookup answers -------------------------------


class _FakeDisclosure:
    """Records what the pipeline asks; grants every element it is asked about for one domain."""

    def __init__(self, grant_domain: str) -> None:
        self.grant_domain = grant_domain
        self.asked: list[tuple[str, str]] = []
        self.recorded: list[frozenset[str]] = []

    def grants(self, principal, domain, roid, now):  # type: ignore[no-untyped-def]
        from rdap.principal import Grant

        self.asked.append((domain, roid))
        if domain != self.grant_domain:
            return ()
        return (
            Grant(
                "G1",
                domain,
                frozenset({"registrant.email"}),
                "legalActions",
                NOW + dt.timedelta(days=1),
                "R1",
            ),
        )

    def disclosed(self, document, principal, ctx):  # type: ignore[no-untyped-def]
        self.recorded.append(document.disclosed)
        return document


def test_grants_are_loaded_for_the_domain_looked_up_only(db: Database) -> None:
    from rdap.errors import NotFound
    from rdap.lookup import lookup
    from rdap.query import parse_path

    record = _record(db, "granted.post", "natural")
    policy = load_policy(Settings().policies_path)
    requester = Principal(role=REQUESTER, purpose="legalActions")
    fake = _FakeDisclosure("granted.post")
    ctx = LookupContext(now=NOW, links=LINKS)
    with db.read_connection() as connection:
        repo = Repository(connection)
        answer = lookup(
            parse_path(["domain", "GRANTED.post"]),
            requester,
            repo=repo,
            policy=policy,
            ctx=ctx,
            disclosure=fake,
        )
        assert fake.asked == [("granted.post", record.roid)]
        assert fake.recorded == [frozenset({"registrant.email"})]
        assert answer.disclosed == {"registrant.email"}
        handle = connection.execute(select(models.Contact.handle)).scalars().first()
        assert handle is not None
        for path in (["entity", handle], ["nameserver", "ns1.granted.post"], ["help"]):
            lookup(parse_path(path), requester, repo=repo, policy=policy, ctx=ctx, disclosure=fake)
        with pytest.raises(NotFound):
            lookup(
                parse_path(["domain", "absent.post"]),
                requester,
                repo=repo,
                policy=policy,
                ctx=ctx,
                disclosure=fake,
            )
    assert len(fake.asked) == 1  # entities, name servers, help and absent names ask nothing
    assert len(fake.recorded) == 1
