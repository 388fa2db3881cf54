"""Disclosure records name domains by name and ROID: a full deposit import is never blocked by
them, and a name deleted and registered again is another domain (no grant carries over)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from rdap.db import Database
from rdap.escrow.loader import import_deposit
from rdap.models import DisclosureGrant, DisclosureRequest, Domain
from tests import factories
from tests.disclosure_fixtures import Accredit, Api, Caller, MakeCaller

DATA = Path(__file__).resolve().parent.parent / "data" / "rde"
PURPOSE = "criminalInvestigationAndDNSAbuseMitigation"
PATH = f"/domain/target.post?farv1_qp={PURPOSE}"


@pytest.fixture
def requester(db: Database, accredit: Accredit, caller: MakeCaller) -> Caller:
    with db.session_scope() as session:
        factories.full_domain(session, name="target.post", registrant_kind="natural")
    return caller(accreditation=accredit())


def _disclosed(api: Api, requester: Caller) -> bool:
    body = api.client.get(PATH, headers=requester.headers).get_json()
    return any(n["title"] == "Disclosure" for n in body.get("notices", []))


def test_a_re_registered_name_is_another_domain(
    api: Api, db: Database, requester: Caller, caller: MakeCaller
) -> None:
    staff = caller("staff")
    granted = api.submit(requester).get_json()["id"]
    api.decide(granted, staff, action="approve", valid_days=7)
    pending = api.submit(requester, data_elements=["registrant.email"]).get_json()["id"]
    assert _disclosed(api, requester)
    with db.session_scope() as session:
        session.execute(
            update(Domain).where(Domain.ldh_name == "target.post").values(roid="D999-POST")
        )
    assert not _disclosed(api, requester)
    refused = api.decide(pending, staff, action="approve", valid_days=7)
    assert refused.status_code == 409
    assert "registered anew" in refused.get_json()["description"][0]


def test_a_full_import_is_not_blocked_by_disclosure_records(
    api: Api, db: Database, requester: Caller, caller: MakeCaller
) -> None:
    request_id = api.submit(requester).get_json()["id"]
    api.decide(request_id, caller("staff"), action="approve", valid_days=7)
    # Replaces every table of the TLD (forced: the test registry's deposit is newer).
    import_deposit(db, DATA / "small-valid.xml", force=True)
    with db.read_scope() as session:
        assert session.scalar(select(func.count()).select_from(DisclosureRequest)) == 1
        assert session.scalar(select(func.count()).select_from(DisclosureGrant)) == 1
        assert (
            session.scalars(select(Domain.ldh_name).where(Domain.ldh_name == "target.post")).first()
            is None
        )
    mine = api.get(f"/disclosure/requests/{request_id}", requester).get_json()
    assert mine["domain"] == "target.post"
    assert mine["status"] == "approved"
    assert api.client.get(PATH, headers=requester.headers).status_code == 404
