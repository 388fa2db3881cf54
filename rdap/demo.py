"""Demo: migrate the embedded database, load a generated registry, say what to try, and run
WHOIS beside RDAP."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

from sqlalchemy import select

from rdap import migrate
from rdap.escrow.commands import load_demo
from rdap.escrow.loader import ImportResult
from rdap.models import Domain, Host, Registrar
from rdap.runtime import Runtime
from rdap.settings import PREFIX as SETTINGS_PREFIX


def prepare(runtime: Runtime, *, tld: str, size: int, seed: int) -> ImportResult:
    migrate.upgrade(runtime.settings.effective_database_url)
    return load_demo(runtime.db, tld=tld, size=size, seed=seed)


def examples(runtime: Runtime, base_url: str) -> list[str]:
    """A few URLs worth a first look: an ASCII name, one IDN per script, a host, a registrar."""
    urls: list[str] = []
    with runtime.db.read_scope() as session:
        ascii_name = session.scalar(
            select(Domain.ldh_name).where(Domain.unicode_name.is_(None)).order_by(Domain.id)
        )
        if ascii_name:
            urls.append(f"{base_url}/domain/{ascii_name}")
        idns = session.scalars(
            select(Domain.unicode_name).where(Domain.unicode_name.is_not(None)).order_by(Domain.id)
        ).all()
        seen_scripts: set[str] = set()
        for name in idns:
            script = _script(name or "")
            if name and script not in seen_scripts:
                seen_scripts.add(script)
                urls.append(f"{base_url}/domain/{name}")
        host = session.scalar(select(Host.ldh_name).order_by(Host.id))
        if host:
            urls.append(f"{base_url}/nameserver/{host}")
        iana_id = session.scalar(
            select(Registrar.iana_id).where(Registrar.iana_id.is_not(None)).order_by(Registrar.id)
        )
        if iana_id is not None:
            urls.append(f"{base_url}/entity/{iana_id}")
    urls.append(f"{base_url}/help")
    return urls


def whois_examples(runtime: Runtime, bind: str) -> list[str]:
    """`whois` commands for the same first look over port 43."""
    host, _, port = bind.rpartition(":")
    with runtime.db.read_scope() as session:
        names = [
            session.scalar(
                select(Domain.ldh_name).where(Domain.unicode_name.is_(None)).order_by(Domain.id)
            ),
            session.scalar(
                select(Domain.unicode_name)
                .where(Domain.unicode_name.is_not(None))
                .order_by(Domain.id)
            ),
            session.scalar(select(Host.ldh_name).order_by(Host.id)),
            session.scalar(
                select(Registrar.iana_id)
                .where(Registrar.iana_id.is_not(None))
                .order_by(Registrar.id)
            ),
        ]
    return [f"whois -h {host} -p {port} '{name}'" for name in names if name is not None]


@contextlib.contextmanager
def whois_beside(
    bind: str, base_url: str, ratelimit_storage_uri: str
) -> Iterator[subprocess.Popen[bytes]]:
    """`rdapd whois --bind BIND` in a child process (same settings, counting rate limits in
    `ratelimit_storage_uri`) for as long as the block runs; stopped with SIGTERM, as in
    production, when it ends."""
    env = dict(os.environ)
    env.setdefault("RDAP_BASE_URL", base_url)
    env[f"{SETTINGS_PREFIX}RATELIMIT_STORAGE_URI"] = ratelimit_storage_uri
    child = subprocess.Popen(  # noqa: S603 - our own command line, no shell
        [sys.executable, "-m", "rdap", "whois", "--bind", bind], env=env
    )
    try:
        yield child
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def _script(name: str) -> str:
    label = name.split(".", 1)[0]
    if any("\u0600" <= ch <= "\u06ff" for ch in label):
        return "arabic"
    if any("\u4e00" <= ch <= "\u9fff" for ch in label):
        return "han"
    return "latin"
