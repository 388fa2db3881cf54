"""One redaction, every channel: for each domain of a generated registry, the fields port 43
hides are exactly the elements RDAP declares in `redacted`, and every field it shows has the
value the RDAP answer shows (read here from the RDAP JSON, independently of the renderers).

Natural and legal persons, with and without consent to publish, over A-labels and IDNs."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from rdap import create_app
from rdap.db import Database
from rdap.escrow.generator import generate_deposit
from rdap.escrow.loader import import_deposit
from rdap.models import Domain
from rdap.settings import Settings
from tests.live_whois import BASE_URL, live_whois, query

PLACEHOLDER = "REDACTED FOR PRIVACY"
LABELS = {
    "registrant": "Registrant",
    "administrative": "Admin",
    "technical": "Tech",
    "billing": "Billing",
}


def _declared(rdap: dict[str, Any]) -> set[str]:
    return {e["name"].get("type") or e["name"]["description"] for e in rdap.get("redacted", [])}


def _whois_fields(text: str) -> list[tuple[str, str]]:
    pairs = []
    for line in text.split("\r\n"):
        key, sep, value = line.partition(": ")
        if sep or line.endswith(":"):
            pairs.append((key.removesuffix(":"), value))
    return pairs


def _card(entity: dict[str, Any]) -> dict[str, list[str]]:
    """RDAP contact values under their port-43 field names (a plain reading of the jCard)."""
    values: dict[str, list[str]] = {}
    if "handle" in entity:
        values["ID"] = [entity["handle"]]
    for name, params, _type, value in entity["vcardArray"][1]:
        if name == "fn":
            values["Name"] = [value]
        elif name == "org":
            values["Organization"] = [value]
        elif name == "adr":
            street = value[2] if isinstance(value[2], list) else [value[2]]
            values["Street"] = [s for s in street if s] or [""]
            values["City"], values["State/Province"], values["Postal Code"] = [
                [value[3]],
                [value[4]],
                [value[5]],
            ]
            if "cc" in params:
                values["Country"] = [params["cc"]]
        elif name == "tel":
            key = "Fax" if params.get("type") == "fax" else "Phone"
            number, _, ext = value.removeprefix("tel:").partition(";ext=")
            values[key] = [number]
            if ext:
                values[f"{key} Ext"] = [ext]
        elif name == "email":
            values["Email"] = [value]
        elif name == "contact-uri":
            values["contact-uri"] = [value]
    return values


def _compare(rdap: dict[str, Any], whois: str) -> None:
    fields = _whois_fields(whois)
    hidden = {key for key, value in fields if value == PLACEHOLDER}
    contacts = {e["roles"][0]: _card(e) for e in rdap["entities"] if e["roles"][0] in LABELS}
    for role, card in contacts.items():
        email_key = f"{LABELS[role]} Email"
        shown = [value for key, value in fields if key == email_key]
        if "contact-uri" in card:  # the hidden email shows RDAP's contact method in its place
            assert shown == card["contact-uri"]
            hidden.add(email_key)
    assert hidden == _declared(rdap)
    for role, card in contacts.items():
        label = LABELS[role]
        for field, want in card.items():
            if field == "contact-uri":
                continue
            key = f"Registry {label} ID" if field == "ID" else f"{label} {field}"
            got = [value for k, value in fields if k == key]
            if key in hidden:
                continue
            assert got == (want if any(want) else [""]), key


@pytest.fixture
def registry(db: Database, tmp_path: Path) -> list[str]:
    generate_deposit(tmp_path / "parity.xml", size=150, seed=23, markers=True)
    import_deposit(db, tmp_path / "parity.xml")
    with db.read_scope() as session:
        rows = session.execute(
            select(Domain.ldh_name, Domain.unicode_name).order_by(Domain.id)
        ).all()
    return [unicode_name or ldh for ldh, unicode_name in rows]


def test_port_43_hides_exactly_what_rdap_declares(settings: Settings, registry: list[str]) -> None:
    settings = dataclasses.replace(settings, base_url=BASE_URL)
    app = create_app(settings)
    http = app.test_client()
    kinds: set[tuple[bool, bool]] = set()
    try:
        with live_whois(settings) as server:
            for name in registry:
                response = http.get(f"/domain/{name}")
                assert response.status_code == 200
                rdap = response.get_json()
                whois = query(server.port, name)
                _compare(rdap, whois)
                registrant = next(e for e in rdap["entities"] if e["roles"][0] == "registrant")
                kinds.add(("org" in str(registrant["vcardArray"]), bool(_declared(rdap))))
    finally:
        app.extensions["rdapd"].db.dispose()
    assert (True, True) in kinds  # organisations shown, persons hidden: both kinds compared
    assert (False, True) in kinds
