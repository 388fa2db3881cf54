"""The answer cache behind RDAP over HTTP: for every pair of callers, the second one gets the
bytes the pipeline would give it, whatever the first one left in the cache; imports invalidate;
answers that disclose are never kept."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from rdap import principal as principal_module
from rdap.answer_cache import AnswerCache
from rdap.app import runtime_of
from rdap.db import Database
from rdap.escrow.generator import generate_deposit
from rdap.escrow.loader import import_deposit
from rdap.models import Contact, Domain, Registrar
from rdap.oauth import service
from rdap.principal import Grant
from rdap.repository import FactsCache
from rdap.settings import Settings
from tests import factories
from tests.oauth_fixtures import MakeClient


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Read the data version on every request: a write shows on the next one."""
    return dataclasses.replace(settings, data_version_ttl=0)


@pytest.fixture
def registry(db: Database, registrar: Registrar) -> dict[str, str]:
    """A domain of the test registrar (natural-person registrant), one of another registrar."""
    with db.session_scope() as session:
        own = factories.full_domain(
            session,
            name="own.post",
            registrant_kind="natural",
            registrar=session.get(Registrar, registrar.id),
        )
        other = Registrar(
            client_id="reg-b", iana_id=8888, name="Registrar B", status="ok", street=[]
        )
        session.add(other)
        session.flush()
        factories.full_domain(
            session, name="foreign.post", registrant_kind="natural", registrar=other
        )
        assert own.registrant is not None
        return {"registrant": own.registrant.handle}


@pytest.fixture
def callers(
    db: Database, registry: dict[str, str], make_client: MakeClient, token_for: Callable[..., str]
) -> dict[str, dict[str, str]]:
    """Request headers per kind of caller."""

    def bearer(client_id: str, secret: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(client_id, secret)}"}

    with db.session_scope() as session:
        client, secret = service.create_client(
            session,
            role="registrar",
            name="registrar B",
            registrar_iana_id=8888,
            purposes=(),
            now=dt.datetime.now(dt.UTC),
        )
        other_id, other_secret = client.client_id, secret
    return {
        "public": {},
        "sponsor": bearer(*make_client(role="registrar")),
        "other-registrar": bearer(other_id, other_secret),
        "requester": bearer(*make_client(role="requester")),
        "law-enforcement": bearer(*make_client(role="law-enforcement")),
        "staff": bearer(*make_client(role="staff", purposes=())),
    }


def _paths(registry: dict[str, str]) -> list[str]:
    return [
        "/domain/own.post",
        "/domain/foreign.post",
        f"/entity/{registry['registrant']}",
        "/nameserver/ns1.own.post",
        "/entity/9999",
        "/help",
        "/domain/absent.post",
    ]


def _fresh_cache(app: Flask) -> AnswerCache:
    cache = AnswerCache(1 << 22)
    runtime_of(app).answers = cache
    return cache


def test_every_pair_of_callers_gets_its_own_answer(  # type: ignore[no-untyped-def]
    app, client, registry, callers
) -> None:
    rt = runtime_of(app)
    rt.answers = None  # the pipeline's own answers, nothing kept
    expected = {
        (path, who): client.get(path, headers=headers).get_data()
        for path in _paths(registry)
        for who, headers in callers.items()
    }
    # The sponsor sees what the public does not; without that the pairs would prove nothing.
    assert expected[("/domain/own.post", "sponsor")] != expected[("/domain/own.post", "public")]
    assert b"registrant@mail.example" in expected[("/domain/own.post", "sponsor")]
    assert b"registrant@mail.example" not in expected[("/domain/own.post", "public")]
    for path in _paths(registry):
        for first, first_headers in callers.items():
            for then, then_headers in callers.items():
                cache = _fresh_cache(app)
                client.get(path, headers=first_headers)
                assert cache.bytes_used > 0, f"{path} was not kept for {first}"
                got = client.get(path, headers=then_headers).get_data()
                assert got == expected[(path, then)], f"{path}: {first} then {then}"


def test_the_same_path_anonymous_after_authorized(  # type: ignore[no-untyped-def]
    app, client, registry, callers
) -> None:
    _fresh_cache(app)
    own = client.get("/domain/own.post", headers=callers["sponsor"]).get_data()
    assert b"registrant@mail.example" in own
    again = client.get("/domain/own.post", headers=callers["sponsor"]).get_data()
    assert again == own  # kept, and handed back to the same outcome
    public = client.get("/domain/own.post").get_data()
    assert b"registrant@mail.example" not in public
    assert public != own


def test_kept_answers_are_served_without_the_pipeline(  # type: ignore[no-untyped-def]
    app, client, registry, db: Database
) -> None:
    """A second ask is a hit: proven by removing the data underneath (no write bumped the
    version, as no real write path would), which only a kept answer survives."""
    _fresh_cache(app)
    first = client.get("/domain/own.post")
    with db.engine.begin() as conn:  # behind the application's back: no data version bump
        conn.execute(
            Domain.__table__.update()
            .where(Domain.__table__.c.ldh_name == "own.post")
            .values(ldh_name="renamed.post")
        )
    second = client.get("/domain/own.post")
    assert second.status_code == 200
    assert second.get_data() == first.get_data()


def _import(db: Database, path: Path, seed: int) -> list[str]:
    generate_deposit(path, size=30, seed=seed)
    import_deposit(db, path)
    with db.read_scope() as session:
        return list(session.scalars(select(Domain.ldh_name).order_by(Domain.ldh_name)))


def test_an_import_is_visible_on_the_next_request(  # type: ignore[no-untyped-def]
    app, client, db: Database, tmp_path: Path
) -> None:
    _fresh_cache(app)
    before = _import(db, tmp_path / "one.xml", seed=1)
    after_names = set(_import_preview(tmp_path / "two.xml", seed=2))
    gone = next(n for n in before if n not in after_names)
    coming = next(n for n in sorted(after_names) if n not in before)
    assert client.get(f"/domain/{gone}").status_code == 200
    assert client.get(f"/domain/{coming}").status_code == 404  # a 404 is kept too
    import_deposit(db, tmp_path / "two.xml")
    assert client.get(f"/domain/{gone}").status_code == 404
    assert client.get(f"/domain/{coming}").status_code == 200


def _import_preview(path: Path, seed: int) -> list[str]:
    """Names a deposit will bring, generated into `path` without importing it."""
    generate_deposit(path, size=30, seed=seed)
    return re.findall(r"<rdeDomain:name>([^<]+)<", path.read_text(encoding="utf-8"))


def test_a_process_sees_an_import_within_the_data_version_ttl(  # type: ignore[no-untyped-def]
    app, client, db: Database, tmp_path: Path
) -> None:
    """The documented bound: with data_version_ttl = 5, answers kept under the old version may
    be served for up to 5 s after the import's commit, never after."""
    _fresh_cache(app)
    clock = [1000.0]
    runtime_of(app).facts = FactsCache(ttl=5, clock=lambda: clock[0])
    before = _import(db, tmp_path / "one.xml", seed=1)
    after_names = set(_import_preview(tmp_path / "two.xml", seed=2))
    gone = next(n for n in before if n not in after_names)
    assert client.get(f"/domain/{gone}").status_code == 200
    import_deposit(db, tmp_path / "two.xml")
    clock[0] += 4.9
    assert client.get(f"/domain/{gone}").status_code == 200  # within the bound
    clock[0] += 0.2
    assert client.get(f"/domain/{gone}").status_code == 404


def test_answers_that_disclose_are_never_kept(  # type: ignore[no-untyped-def]
    app, client, db: Database, registry, callers, make_client: MakeClient, token_for, monkeypatch
) -> None:
    """A requester holding a grant gets the granted element, every time computed for it; the
    requester's answer kept for others never shows it."""
    with db.read_scope() as session:
        email = session.scalars(
            select(Contact.email).where(Contact.handle == registry["registrant"])
        ).one()
    grant = Grant(
        grant_id="g1",
        domain="own.post",
        elements=frozenset({"registrant.email"}),
        purpose="legalActions",
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )
    granted_token = token_for(*make_client(role="requester"))
    monkeypatch.setattr(
        principal_module,
        "grants_for",
        lambda claims, connection: (grant,) if _is(claims, granted_token) else (),
    )
    cache = _fresh_cache(app)
    granted = {"Authorization": f"Bearer {granted_token}"}
    first = client.get("/domain/own.post", headers=granted).get_data()
    assert email.encode() in first
    assert cache.bytes_used == 0  # nothing kept for an answer that discloses
    plain = client.get("/domain/own.post", headers=callers["requester"]).get_data()
    assert email.encode() not in plain
    assert cache.bytes_used > 0  # the plain requester answer is kept
    again = client.get("/domain/own.post", headers=granted).get_data()
    assert email.encode() in again  # the grant holder never gets the kept plain answer


def _is(claims: object, token: str) -> bool:
    """Whether verified claims came from `token` (its jti is in the token's payload)."""
    import base64
    import json

    payload = token.split(".")[1]
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return bool(data.get("jti") == getattr(claims, "token_id", None))


def test_a_requester_stating_a_purpose_is_never_answered_from_the_cache(  # type: ignore[no-untyped-def]
    app, client, registry, callers, make_client: MakeClient, token_for
) -> None:
    """Such a caller may hold a grant for the queried domain, found only once the domain is
    read: nothing is read from the cache for it, nor kept from its answers."""
    cache = _fresh_cache(app)
    url = "/domain/own.post?farv1_qp=legalActions"
    stating = {"Authorization": f"Bearer {token_for(*make_client(role='requester'))}"}
    first = client.get(url, headers=stating)
    assert first.status_code == 200
    assert cache.bytes_used == 0
    client.get("/domain/own.post", headers=callers["requester"])  # no purpose: kept
    assert cache.bytes_used > 0
    assert client.get(url, headers=stating).get_data() == first.get_data()
