"""The RDAP clients people use read our domain answers unchanged, over real HTTP.

A small generated registry is served by the app under werkzeug on 127.0.0.1 (a free port, one
server per test, always shut down). Each client is pointed at that server the way its users would
point it at a registry without IANA bootstrap:

- whoisit: bootstrap data loaded with `load_bootstrap_data` (http allowed), `.post` → our URL;
  `follow_related=False`, as the registrar servers of the generated data do not exist.
- whodap: a `DNSClient` built on our own httpx2 client, its TLD map set to our URL. whodap
  always follows the registrar's `related` link (ICANN profile); a transport that answers 404 for
  any host but ours stands in for a registrar that does not know the name, and keeps the test off
  the network.
- the 20c `rdap` client: its import package is also called `rdap`, so it cannot share a
  virtualenv with rdapd. Set TEST_20C_PYTHON to an interpreter of a separate virtualenv that has
  it (`python3 -m venv /tmp/venv-20c && /tmp/venv-20c/bin/pip install rdap`); the check is
  skipped otherwise.

What each client is asked for is read from the database, not from our own JSON.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
import whodap
import whoisit
from sqlalchemy import select
from werkzeug.serving import make_server
from whodap.utils import WHOISKeys

from rdap.db import Database
from rdap.document import rdap_statuses
from rdap.escrow.commands import load_demo
from rdap.models import Domain
from rdap.settings import Settings

TLD = "post"
REGISTRY_SIZE = 80  # enough for an ASCII name and an IDN in each of Arabic, Chinese and Spanish


@dataclasses.dataclass(frozen=True)
class Expected:
    query: str  # what the user types: the U-label for an IDN
    ldh_name: str
    unicode_name: str | None
    registrar_name: str
    iana_id: str
    nameservers: list[str]
    statuses: list[str]
    expires: dt.datetime  # UTC, whole seconds
    signed: bool


@dataclasses.dataclass(frozen=True)
class LiveServer:
    url: str
    names: list[Expected]


def _expected(domain: Domain) -> Expected:
    assert domain.expires_at is not None
    assert domain.registrar.iana_id is not None
    return Expected(
        query=domain.unicode_name or domain.ldh_name,
        ldh_name=domain.ldh_name,
        unicode_name=domain.unicode_name,
        registrar_name=domain.registrar.name,
        iana_id=str(domain.registrar.iana_id),
        nameservers=[ns.ldh_name for ns in domain.nameservers],
        statuses=rdap_statuses(domain.statuses),
        expires=domain.expires_at.astimezone(dt.UTC).replace(microsecond=0),
        signed=bool(domain.delegation_signed or domain.ds_records or domain.dns_keys),
    )


def _pick_names(db: Database) -> list[Expected]:
    """The first ASCII name and the first IDN of each script."""
    picked: list[Expected] = []
    scripts: set[str] = set()
    with db.read_scope() as session:
        for domain in session.scalars(select(Domain).order_by(Domain.id)):
            if domain.registrar.iana_id is None or not domain.nameservers:
                continue
            script = _script(domain.unicode_name)
            if script not in scripts:
                scripts.add(script)
                picked.append(_expected(domain))
    assert scripts == {"ascii", "arabic", "han", "latin"}, scripts
    return picked


def _script(name: str | None) -> str:
    if name is None:
        return "ascii"
    if any("\u0600" <= ch <= "\u06ff" for ch in name):
        return "arabic"
    if any("\u4e00" <= ch <= "\u9fff" for ch in name):
        return "han"
    return "latin"


@pytest.fixture
def live_server(settings: Settings, db: Database) -> Iterator[LiveServer]:
    from rdap import create_app

    load_demo(db, tld=TLD, size=REGISTRY_SIZE, seed=1)
    names = _pick_names(db)
    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", names=names)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["rdapd"].db.dispose()


# --- whoisit ----------------------------------------------------------------------------------
def _whoisit_bootstrap(base: str) -> str:
    unused = ["https://unused.invalid/"]
    return json.dumps(
        {
            "timestamp": int(time.time()),
            "asn": {"services": [[["64496-64511"], unused]]},
            "dns": {"services": [[[TLD], [base + "/"]]]},
            "ipv4": {"services": [[["192.0.2.0/24"], unused]]},
            "ipv6": {"services": [[["2001:db8::/32"], unused]]},
            "object": {"services": [[["EXAMPLE"], unused]]},
        }
    )


@pytest.fixture
def whoisit_at(live_server: LiveServer) -> Iterator[LiveServer]:
    whoisit.clear_bootstrapping()
    whoisit.load_bootstrap_data(_whoisit_bootstrap(live_server.url), allow_insecure=True)
    try:
        yield live_server
    finally:
        whoisit.clear_bootstrapping()


def test_whoisit_reads_domains(whoisit_at: LiveServer) -> None:
    for want in whoisit_at.names:
        got = whoisit.domain(want.query, follow_related=False)
        assert got["name"] == want.ldh_name
        assert (got["unicode_name"] or None) == want.unicode_name
        registrars = got["entities"]["registrar"]
        assert [r["name"] for r in registrars] == [want.registrar_name]
        assert registrars[0]["handle"] == want.iana_id
        assert registrars[0]["public_ids"] == [
            {"type": "IANA Registrar ID", "identifier": want.iana_id}
        ]
        assert got["nameservers"] == want.nameservers
        assert got["status"] == want.statuses
        assert got["expiration_date"].astimezone(dt.UTC) == want.expires
        assert got["dnssec"] is want.signed
        assert got["entities"]["abuse"][0]["email"]
        # redactions are read by name (RFC 9537 `name.type` / `name.description`)
        assert any(name.startswith("Registrant ") for name in got["redacted"])


def test_whoisit_misses_and_registrar_entity(whoisit_at: LiveServer) -> None:
    with pytest.raises(whoisit.errors.ResourceDoesNotExist):
        whoisit.domain(f"no-such-name.{TLD}", follow_related=False)
    # whoisit.entity() only knows RIR servers; its lower-level Query takes any URL.
    want = whoisit_at.names[0]
    url = f"{whoisit_at.url}/entity/{want.iana_id}"
    raw = whoisit.query.Query(whoisit.utils.get_session(None), "GET", url).request()
    entity = whoisit.parser.parse(whoisit._bootstrap, "entity", want.iana_id, raw)
    assert entity["name"] == want.registrar_name
    assert entity["handle"] == want.iana_id


# --- whodap -----------------------------------------------------------------------------------
class _OnlyThisServer(httpx2.AsyncBaseTransport):
    """Pass requests for the test server on; answer 404 for any other host, off the network."""

    def __init__(self, base: str) -> None:
        self.origin = httpx2.URL(base)
        self.inner = httpx2.AsyncHTTPTransport()
        self.refused: list[str] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if (request.url.host, request.url.port) == (self.origin.host, self.origin.port):
            return await self.inner.handle_async_request(request)
        self.refused.append(str(request.url))
        return httpx2.Response(404, request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def _whodap_lookups(base: str, names: list[Expected]) -> tuple[list[object], list[str]]:
    transport = _OnlyThisServer(base)
    client = whodap.DNSClient(httpx2.AsyncClient(transport=transport, timeout=10))
    client.iana_dns_server_map = {TLD: base + "/"}
    try:
        results = []
        for want in names:
            label, tld = want.query.rsplit(".", 1)
            results.append(await client.aio_lookup(label, tld))
        missing: object = None
        try:
            await client.aio_lookup("no-such-name", TLD)
        except whodap.errors.NotFoundError as exc:
            missing = exc
        results.append(missing)
    finally:
        await client.aio_close()
    return results, transport.refused


def test_whodap_reads_domains(live_server: LiveServer) -> None:
    results, refused = asyncio.run(_whodap_lookups(live_server.url, live_server.names))
    assert isinstance(results.pop(), whodap.errors.NotFoundError)
    for want, response in zip(live_server.names, results, strict=True):
        assert isinstance(response, whodap.DomainResponse)
        flat = response.to_whois_dict()
        assert flat[WHOISKeys.DOMAIN_NAME] == want.ldh_name
        assert flat[WHOISKeys.REGISTRAR_NAME] == want.registrar_name
        assert flat[WHOISKeys.NAMESERVERS] == want.nameservers
        assert flat[WHOISKeys.STATUS] == want.statuses
        expires = flat[WHOISKeys.EXPIRES_DATE]
        assert expires.replace(tzinfo=dt.UTC) == want.expires
        assert flat[WHOISKeys.DNSSEC] == ("signed" if want.signed else "unsigned")
        assert flat[WHOISKeys.REGISTRANT_NAME] == "REDACTED FOR PRIVACY"
        registrar = next(e for e in response.entities if "registrar" in e.roles)
        assert registrar.publicIds[0].identifier == want.iana_id
    # each answer's `related` link named the registrar's RDAP server; only it was refused
    assert refused
    assert all(url.startswith("https://rdap.") for url in refused)


def _client_output(argv: list[str], cwd: Path) -> Any:
    """Run a client of another runtime over our server; the JSON it prints."""
    done = subprocess.run(
        argv,
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", ""), "NO_PROXY": "127.0.0.1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


# --- the 20c `rdap` client, from its own virtualenv --------------------------------------------
_TWENTYC_SCRIPT = """
import json, sys
import rdap
client = rdap.RdapClient({"bootstrap_url": sys.argv[1], "timeout": 10, "recurse_roles": []})
out = []
for name in sys.argv[2:]:
    domain = client.get_domain(name)
    out.append({"data": domain.data, "parsed": domain.parsed(), "normalized": domain.normalized})
print(json.dumps(out))
"""


def test_20c_rdap_client(live_server: LiveServer, tmp_path: Path) -> None:
    python = os.environ.get("TEST_20C_PYTHON")
    if not python:
        pytest.skip("TEST_20C_PYTHON not set (an interpreter with PyPI `rdap` installed)")
    names = [want.query for want in live_server.names]
    # cwd: not the project, whose own `rdap` package must not shadow the client's
    answers = _client_output(
        [python, "-c", _TWENTYC_SCRIPT, live_server.url + "/", *names], tmp_path
    )
    for want, got in zip(live_server.names, answers, strict=True):
        assert got["data"]["ldhName"] == want.ldh_name
        normalized = got["normalized"]
        assert normalized["name"] == want.ldh_name
        assert [ns["host"] for ns in normalized["nameservers"]] == want.nameservers
        assert normalized["dns_sec"] == ("secure" if want.signed else "insecure")
        # the 20c normalizer files the registrar under "registrant" (its RIR-oriented mapping)
        assert want.registrar_name in [c["name"] for c in normalized["contacts"]]
        assert got["parsed"]["emails"]
    assert sys.executable != python


# --- npm `rdapper`, in Node.js ------------------------------------------------------------------
# rdapper takes the bootstrap data as an argument (`customBootstrapData`) and is asked for RDAP
# only (`rdapOnly`). It follows the registrar's `related` link; its `customFetch` answers 404 for
# any host but ours (a registrar that does not know the name), as for whodap, so the test stays
# off the network.
_RDAPPER_SCRIPT = """
import { lookup } from "rdapper";
const [base, tld, ...names] = process.argv.slice(2);
const boot = {version: "1.0", publication: new Date().toISOString(), services: [[[tld], [base]]]};
const origin = new URL(base).origin;
const onlyOurs = async (input, init) => {
  const url = typeof input === "string" ? input : (input.url ?? String(input));
  return new URL(url).origin === origin ? fetch(input, init) : new Response("", {status: 404});
};
const out = [];
for (const name of names) {
  out.push(await lookup(name, {rdapOnly: true, customBootstrapData: boot, customFetch: onlyOurs}));
}
console.log(JSON.stringify(out));
"""


def test_rdapper_reads_domains(live_server: LiveServer) -> None:
    modules = os.environ.get("TEST_RDAPPER_DIR")
    if not modules:
        pytest.skip("TEST_RDAPPER_DIR not set (a folder where `npm install rdapper` was run)")
    script = Path(modules) / "read_domains.mjs"  # beside its node_modules, so `import` finds it
    script.write_text(_RDAPPER_SCRIPT)
    # rdapper's own input check refuses U-labels ("Input does not look like a domain"): its
    # users type the A-label, and it shows the U-label our answer carries.
    names = [want.ldh_name for want in live_server.names]
    answers = _client_output(
        ["node", str(script), live_server.url + "/", TLD, *names], Path(modules)
    )
    for want, got in zip(live_server.names, answers, strict=True):
        assert got["ok"], got.get("error")
        record = got["record"]
        assert record["punycodeName"] == want.ldh_name
        assert record["isIDN"] == (want.unicode_name is not None)
        if want.unicode_name is not None:
            assert record["unicodeName"] == want.unicode_name
        assert record["registrar"]["name"] == want.registrar_name
        assert record["registrar"]["ianaId"] == want.iana_id
        assert [ns["host"] for ns in record["nameservers"]] == want.nameservers
        assert record["dnssec"]["enabled"] == want.signed
        assert dt.datetime.fromisoformat(record["expirationDate"]) == want.expires
        assert sorted(s["raw"] for s in record["statuses"]) == sorted(want.statuses)
        assert record["source"] == "rdap"
        assert "registrant" in [contact["type"] for contact in record["contacts"]]
