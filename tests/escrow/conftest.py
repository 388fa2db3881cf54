"""Escrow test helpers: sample deposits, a dump of every registry table, the XSD validator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import select

from rdap.db import Database
from rdap.models import Base
from rdap.settings import PROJECT_ROOT

DATA = Path(__file__).resolve().parent.parent / "data" / "rde"
# The RFC 8909/9022 and EPP schemas ship with the tests (tests/data/xsd/README.md).
RDE_XSD = Path(__file__).resolve().parent.parent / "data" / "xsd"
EXT_XSD = PROJECT_ROOT / "rdap" / "escrow" / "rdapd-ext.xsd"


def dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, ordered: equal dumps mean an unchanged database."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = [tuple(row) for row in rows]
    return out


def rde_schemas(directory: Path, *extra: Path) -> etree.XMLSchema:
    """The RDE schemas of `directory` (plus `extra` rdapd schemas) as one validator. A missing
    schema is an error, never a skip: validation must always run."""
    for path in (directory / "all-rde.xsd", directory / "rde.xsd", *extra):
        if not path.is_file():
            raise FileNotFoundError(f"schema {path} is missing")
    imports = [
        ("urn:ietf:params:xml:ns:rdeAllDriver-1.0", directory / "all-rde.xsd"),
        ("urn:ietf:params:xml:ns:rde-1.0", directory / "rde.xsd"),
    ]
    imports += [("urn:rdapd:params:xml:ns:registration-data-1.0", path) for path in extra]
    driver = (
        '<schema xmlns="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:rdapd:test:driver">'
        + "".join(f'<import namespace="{ns}" schemaLocation="{p.as_uri()}"/>' for ns, p in imports)
        + "</schema>"
    )
    return etree.XMLSchema(etree.fromstring(driver.encode()))


@pytest.fixture(scope="session")
def rde_schema() -> etree.XMLSchema:
    """RFC 8909/9022 schemas only (what another registry's deposit must satisfy)."""
    return rde_schemas(RDE_XSD)


@pytest.fixture(scope="session")
def rde_ext_schema() -> etree.XMLSchema:
    """RFC 8909/9022 schemas plus our extension (rdapd-ext.xsd)."""
    return rde_schemas(RDE_XSD, EXT_XSD)
