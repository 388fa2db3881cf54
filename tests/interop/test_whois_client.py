"""The Debian `whois` client (package whois; .ci/run installs it) against our port-43 server.

A small generated registry is served by the real WhoisServer on 127.0.0.1 (a free port, one
server per test module run, always stopped) and queried as people do:
`whois -h 127.0.0.1 -p PORT NAME`. What is asked and expected is read from the database.

In a UTF-8 locale the client converts U-labels to A-labels itself (libidn2); in the C locale it
sends the bytes it is given, so the U-label reaches the server as UTF-8. Both are run.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from rdap.db import Database
from rdap.escrow.commands import load_demo
from rdap.models import Domain, Host, Registrar
from rdap.settings import Settings
from tests.live_whois import LiveWhois, live_whois

TLD = "post"
WHOIS = shutil.which("whois")


@dataclasses.dataclass(frozen=True)
class Registry:
    server: LiveWhois
    ascii_name: str
    idn_ldh: str
    idn_unicode: str
    host: str
    host_addresses: list[str]
    registrar_name: str
    iana_id: int


@pytest.fixture
def registry(settings: Settings, db: Database) -> Iterator[Registry]:
    if WHOIS is None:
        pytest.fail("the Debian whois client is missing: apt-get install whois (.ci/run does)")
    load_demo(db, tld=TLD, size=60, seed=1)
    with db.read_scope() as session:
        ascii_name = session.scalars(
            select(Domain.ldh_name).where(Domain.unicode_name.is_(None)).order_by(Domain.id)
        ).first()
        idn = session.execute(
            select(Domain.ldh_name, Domain.unicode_name)
            .where(Domain.unicode_name.like("%í%"))
            .order_by(Domain.id)
        ).first()
        host = session.scalars(select(Host).order_by(Host.id)).first()
        registrar = session.scalars(
            select(Registrar).where(Registrar.iana_id.is_not(None)).order_by(Registrar.id)
        ).first()
        assert ascii_name is not None
        assert idn is not None
        assert host is not None
        assert registrar is not None
        facts = {
            "ascii_name": ascii_name,
            "idn_ldh": idn[0],
            "idn_unicode": idn[1],
            "host": host.ldh_name,
            "host_addresses": [a.address for a in host.addresses],
            "registrar_name": registrar.name,
            "iana_id": registrar.iana_id,
        }
    with live_whois(settings) as server:
        yield Registry(server=server, **facts)


def whois(registry: Registry, name: str, *, locale: str = "C.UTF-8") -> str:
    assert WHOIS is not None
    env = {**os.environ, "LC_ALL": locale, "LANG": locale}
    done = subprocess.run(
        [WHOIS, "-h", "127.0.0.1", "-p", str(registry.server.port), name],
        env=env,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.decode("utf-8")


def fields(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(": ")
        if sep:
            found.setdefault(key, []).append(value.rstrip("\r"))
    return found


def test_an_ascii_domain(registry: Registry) -> None:
    got = fields(whois(registry, registry.ascii_name.upper() + "."))
    assert got["Domain Name"] == [registry.ascii_name]
    assert "Internationalized Domain Name" not in got
    assert got["Registrar"]
    assert got["Registrar IANA ID"][0].isdigit()
    assert all(s.split(" ")[1].startswith("https://icann.org/epp#") for s in got["Domain Status"])
    assert got["Registrant Name"] == ["REDACTED FOR PRIVACY"]
    assert got["Registrant Email"][0].startswith("https://rdap.example/contact?domain=")
    assert got["Name Server"]
    assert got["DNSSEC"] in (["signedDelegation"], ["unsigned"])
    assert ">>> Last update of WHOIS database: " in whois(registry, registry.ascii_name)


@pytest.mark.parametrize("locale", ["C.UTF-8", "C"])
def test_an_idn_as_u_label(registry: Registry, locale: str) -> None:
    got = fields(whois(registry, registry.idn_unicode, locale=locale))
    assert got["Domain Name"] == [registry.idn_ldh]
    assert got["Internationalized Domain Name"] == [registry.idn_unicode]


def test_an_idn_as_a_label(registry: Registry) -> None:
    got = fields(whois(registry, registry.idn_ldh.upper()))
    assert got["Domain Name"] == [registry.idn_ldh]
    assert got["Internationalized Domain Name"] == [registry.idn_unicode]


def test_a_nameserver(registry: Registry) -> None:
    got = fields(whois(registry, registry.host))
    assert got["Server Name"] == [registry.host]
    assert sorted(got["IP Address"]) == sorted(registry.host_addresses)
    assert got["Registrar"]


def test_a_registrar_by_iana_id_and_by_name(registry: Registry) -> None:
    by_id = whois(registry, str(registry.iana_id))
    assert fields(by_id)["Registrar"] == [registry.registrar_name]
    assert fields(by_id)["Registrar IANA ID"] == [str(registry.iana_id)]
    assert whois(registry, registry.registrar_name.lower()) == by_id


def test_an_unknown_name(registry: Registry) -> None:
    assert whois(registry, f"no-such-name.{TLD}") == (
        f"Not Found: no domain no-such-name.{TLD} in this registry\n"
    )


def test_an_invalid_name(registry: Registry) -> None:
    assert whois(registry, f"bad_name.{TLD}") == (
        "Bad Request: a label is not a valid LDH label (letters, digits, inner hyphens)\n"
    )
