"""Fixtures for disclosure tests: a frozen clock, accreditations, accredited clients and their
tokens, and a small JSON client for the disclosure API."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from rdap import audit
from rdap.db import Database
from rdap.disclosure import service
from rdap.disclosure.sla import SlaPolicy

START = dt.datetime.now(dt.UTC).replace(microsecond=0)
OPERATOR = service.operator("tester")
SUBMISSION = {
    "domain": "target.post",
    "purpose": "criminalInvestigationAndDNSAbuseMitigation",
    "legal_basis": "GDPR 6(1)(f): investigation of a phishing campaign",
    "rationale": "The domain hosts a phishing page; the registrant's contact data is needed to "
    "identify the operator and notify them.",
    "data_elements": ["registrant.name", "registrant.email", "registrant.phone"],
    "good_faith_affirmation": True,
}


class FrozenClock:
    """A clock that stands still until told to move (no sleeping in tests)."""

    def __init__(self, start: dt.datetime = START) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture
def clock(app: Any) -> FrozenClock:
    """The app's clock, frozen at START (real time today, so tokens stay valid)."""
    frozen = FrozenClock()
    app.extensions["rdapd"].clock = frozen
    return frozen


def context(db: Database, now: dt.datetime, app: Any = None) -> Any:
    """A service Context in a writing transaction (use as a context manager)."""
    policy = app.extensions["rdapd"].policy if app is not None else None

    class _Ctx:
        def __enter__(self) -> service.Context:
            self._scope = audit.writing(db)
            session = self._scope.__enter__()
            return service.Context(session, now, SlaPolicy(), policy)

        def __exit__(self, *exc: Any) -> Any:
            return self._scope.__exit__(*exc)

    return _Ctx()


Accredit = Callable[..., str]


@pytest.fixture
def accredit(db: Database) -> Accredit:
    """Create an accreditation; returns its id."""

    def make(
        org: str = "CERT Example",
        org_type: str = "cybersecurity",
        purposes: tuple[str, ...] = ("criminalInvestigationAndDNSAbuseMitigation",),
        jurisdiction: str = "CH",
        now: dt.datetime = START,
        valid_until: dt.datetime | None = None,
    ) -> str:
        with context(db, now) as ctx:
            accreditation = service.create_accreditation(
                ctx,
                org=org,
                org_type=org_type,
                jurisdiction=jurisdiction,
                purposes=purposes,
                actor=OPERATOR,
                valid_until=valid_until,
            )
            return accreditation.id

    return make


@dataclasses.dataclass(frozen=True)
class Caller:
    client_id: str
    secret: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


MakeCaller = Callable[..., Caller]


@pytest.fixture
def caller(db: Database, token_for: Callable[[str, str], str]) -> MakeCaller:
    """A disclosure client (requester, law-enforcement or staff) with a fresh token."""

    def make(
        role: str = "requester",
        *,
        accreditation: str | None = None,
        org: str | None = None,
        purposes: tuple[str, ...] = (),
        email: str | None = None,
    ) -> Caller:
        with context(db, START) as ctx:
            client, secret = service.create_client(
                ctx,
                role=role,
                name=f"{role} client",
                actor=OPERATOR,
                accreditation_id=accreditation,
                organisation=org,
                purposes=purposes,
                email=email,
            )
            client_id = client.client_id
        return Caller(client_id, secret, token_for(client_id, secret))

    return make


class Api:
    """JSON calls to the disclosure API with a caller's token."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def post(self, path: str, who: Caller | None, body: Any = None) -> Any:
        headers = who.headers if who else {}
        return self.client.post(path, json=body if body is not None else {}, headers=headers)

    def get(self, path: str, who: Caller | None) -> Any:
        return self.client.get(path, headers=who.headers if who else {})

    def submit(self, who: Caller, **changes: Any) -> Any:
        body = {**SUBMISSION, **changes}
        for name, value in changes.items():
            if value is None:
                body.pop(name)
        return self.post("/disclosure/requests", who, body)

    def decide(self, request_id: str, who: Caller, **body: Any) -> Any:
        return self.post(f"/disclosure/requests/{request_id}/decision", who, body)


@pytest.fixture
def api(client: Any) -> Api:
    return Api(client)
