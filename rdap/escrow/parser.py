"""Escrow parser: streams an RFC 8909 deposit with RFC 9022 objects into plain records."""

# Each object is read by one flat if-chain, one branch per child element: long by nature.
# ruff: noqa: PLR0912, PLR0915

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import ipaddress
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Final, TypedDict

import idna
from lxml import etree

from rdap.errors import DepositError
from rdap.escrow import prolog

# Namespaces, exactly as RFC 8909 and RFC 9022 register them.
RDE: Final = "urn:ietf:params:xml:ns:rde-1.0"
HEADER: Final = "urn:ietf:params:xml:ns:rdeHeader-1.0"
DOMAIN: Final = "urn:ietf:params:xml:ns:rdeDomain-1.0"
HOST: Final = "urn:ietf:params:xml:ns:rdeHost-1.0"
CONTACT: Final = "urn:ietf:params:xml:ns:rdeContact-1.0"
REGISTRAR: Final = "urn:ietf:params:xml:ns:rdeRegistrar-1.0"
IDN: Final = "urn:ietf:params:xml:ns:rdeIDN-1.0"
NNDN: Final = "urn:ietf:params:xml:ns:rdeNNDN-1.0"
EPP_DOMAIN: Final = "urn:ietf:params:xml:ns:domain-1.0"
EPP_CONTACT: Final = "urn:ietf:params:xml:ns:contact-1.0"
EPP_HOST: Final = "urn:ietf:params:xml:ns:host-1.0"
SECDNS: Final = "urn:ietf:params:xml:ns:secDNS-1.1"
RGP: Final = "urn:ietf:params:xml:ns:rgp-1.0"
# Our extension for registration-data facts RFC 9022 has no element for (docs/escrow-extension.md).
RDAPD: Final = "urn:rdapd:params:xml:ns:registration-data-1.0"

PREFIXES: Final = {
    RDE: "rde",
    HEADER: "rdeHeader",
    DOMAIN: "rdeDomain",
    HOST: "rdeHost",
    CONTACT: "rdeContact",
    REGISTRAR: "rdeRegistrar",
    IDN: "rdeIDN",
    NNDN: "rdeNNDN",
    EPP_DOMAIN: "domain",
    EPP_CONTACT: "contact",
    EPP_HOST: "host",
    SECDNS: "secDNS",
    RGP: "rgp",
    RDAPD: "rdapd",
}

PERSON_KINDS: Final = ("natural", "legal")
VERIFICATION_STATES: Final = ("unverified", "pending", "verified", "failed")
CONSENT_ELEMENTS: Final = ("name", "org", "addr", "voice", "fax", "email")
NAME_STATES: Final = ("withheld", "blocked", "mirrored")
DEPOSIT_TYPES: Final = ("FULL", "INCR", "DIFF")

_LDH = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_HEX = re.compile(r"[0-9A-F]+")
_FRACTION = re.compile(r"(\.\d{6})\d+")


def _q(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


def label(tag: str) -> str:
    """`{urn:...rdeDomain-1.0}domain` → `rdeDomain:domain`, our prefix whatever the file used."""
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return f"{PREFIXES.get(ns, ns)}:{local}"
    return tag


# --- records ---------------------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class DepositInfo:
    """The <rde:deposit> attributes and its watermark."""

    deposit_type: str
    deposit_id: str
    prev_id: str | None
    resend: int
    watermark: dt.datetime
    line: int


@dataclasses.dataclass(slots=True)
class HeaderCount:
    uri: str
    count: int
    line: int


@dataclasses.dataclass(slots=True)
class Header:
    """<rdeHeader:header>: the TLD and the number of objects per object URI."""

    tld: str
    counts: list[HeaderCount]
    line: int


@dataclasses.dataclass(slots=True)
class IdnTableRecord:
    table_id: str
    url: str | None
    url_policy: str | None
    line: int


@dataclasses.dataclass(slots=True)
class Address:
    """A postal address (contact:addr or rdeRegistrar:addr)."""

    street: list[str]
    city: str | None
    state: str | None
    postal_code: str | None
    country: str | None


@dataclasses.dataclass(slots=True)
class PostalInfoRecord:
    type: str  # "int" or "loc"
    name: str | None
    org: str | None
    address: Address


@dataclasses.dataclass(slots=True)
class Phone:
    number: str
    ext: str | None


@dataclasses.dataclass(slots=True)
class RegistrarRecord:
    client_id: str
    name: str
    gurid: int | None
    status: str
    address: Address | None
    voice: Phone | None
    fax: Phone | None
    email: str | None
    url: str | None
    whois_server: str | None
    whois_url: str | None
    created: dt.datetime | None
    updated: dt.datetime | None
    line: int


@dataclasses.dataclass(slots=True)
class ContactRecord:
    handle: str
    roid: str
    statuses: list[str]
    postal_infos: list[PostalInfoRecord]
    voice: Phone | None
    fax: Phone | None
    email: str | None
    clid: str
    created_by: str | None
    updated_by: str | None
    created: dt.datetime | None
    updated: dt.datetime | None
    transferred: dt.datetime | None
    # <rdeContact:disclose>: {"flag": bool, "elements": ["name_int", "addr_loc", "voice", ...]}.
    disclose: dict[str, object] | None
    line: int


@dataclasses.dataclass(slots=True)
class IpAddress:
    version: str  # "v4" or "v6"
    address: str  # canonical text form


@dataclasses.dataclass(slots=True)
class HostRecord:
    name: str
    unicode_name: str | None
    roid: str
    statuses: list[str]
    addresses: list[IpAddress]
    clid: str
    created_by: str | None
    updated_by: str | None
    created: dt.datetime | None
    updated: dt.datetime | None
    transferred: dt.datetime | None
    line: int


@dataclasses.dataclass(slots=True)
class HostAttr:
    """A name server given by name and addresses inside the domain (domain:hostAttr)."""

    name: str
    addresses: list[IpAddress]


@dataclasses.dataclass(slots=True)
class DsData:
    key_tag: int
    algorithm: int
    digest_type: int
    digest: str  # upper-case hex


@dataclasses.dataclass(slots=True)
class KeyData:
    flags: int
    protocol: int
    algorithm: int
    public_key: str


@dataclasses.dataclass(slots=True)
class DomainRecord:
    name: str
    unicode_name: str | None
    roid: str
    idn_table: str | None
    original_name: str | None
    statuses: list[str]  # EPP statuses followed by RGP statuses (e.g. "redemptionPeriod")
    registrant: str | None
    contacts: list[tuple[str, str]]  # (type, contact id)
    host_objects: list[str]
    host_attrs: list[HostAttr]
    clid: str
    created_by: str | None
    updated_by: str | None
    created: dt.datetime | None
    expires: dt.datetime | None
    updated: dt.datetime | None
    transferred: dt.datetime | None
    ds_data: list[DsData]
    key_data: list[KeyData]
    max_sig_life: int | None
    line: int

    @property
    def tld(self) -> str:
        return self.name.rsplit(".", 1)[-1]


@dataclasses.dataclass(slots=True)
class NndnRecord:
    name: str
    unicode_name: str | None
    idn_table: str | None
    original_name: str | None
    state: str
    mirroring_ns: bool
    created: dt.datetime | None
    line: int


@dataclasses.dataclass(slots=True)
class Consent:
    element: str
    at: dt.datetime | None


@dataclasses.dataclass(slots=True)
class ContactFacts:
    """<rdapd:contactFacts>: person kind, consent, verification and eligibility of one contact."""

    handle: str
    person_kind: str
    consents: list[Consent]
    verification_status: str
    verified_at: dt.datetime | None
    verification_method: str | None
    community_id: str | None
    eligibility_verified_at: dt.datetime | None
    registrant_group: str | None
    line: int


@dataclasses.dataclass(slots=True)
class RegistrarFacts:
    """<rdapd:registrarFacts>: the registrar's RDAP base URL and abuse contact."""

    client_id: str
    rdap_base_url: str | None
    abuse_name: str | None
    abuse_email: str | None
    abuse_voice: str | None
    line: int


@dataclasses.dataclass(slots=True)
class ProtectedName:
    """<rdapd:protectedName>: why a non-delegated name is withheld or blocked."""

    name: str
    reason: str
    line: int


Record = (
    DepositInfo
    | Header
    | IdnTableRecord
    | RegistrarRecord
    | ContactRecord
    | HostRecord
    | DomainRecord
    | NndnRecord
    | ContactFacts
    | RegistrarFacts
    | ProtectedName
)

# Object URI (as counted in <rdeHeader:count uri=...>) of each record type.
OBJECT_URIS: Final[dict[type, str]] = {
    DomainRecord: DOMAIN,
    HostRecord: HOST,
    ContactRecord: CONTACT,
    RegistrarRecord: REGISTRAR,
    IdnTableRecord: IDN,
    NndnRecord: NNDN,
}


# --- element access --------------------------------------------------------------------------


class _Obj:
    """Context for errors about one content object: its element, line and identifying name."""

    __slots__ = ("ident", "line", "tag")

    def __init__(self, elem: etree._Element) -> None:
        self.tag = elem.tag  # turned into prefix:name only for an error message
        self.line = elem.sourceline or 0
        self.ident = ""

    def error(self, message: str, line: int | None = None) -> DepositError:
        where = f"<{label(str(self.tag))}>" + (f" {self.ident}" if self.ident else "")
        return DepositError(f"line {line or self.line}: {where}: {message}")


def _text(elem: etree._Element) -> str:
    return (elem.text or "").strip()


def _opt(value: str) -> str | None:
    return value or None


def _required(obj: _Obj, value: str | None, what: str) -> str:
    if not value:
        raise obj.error(f"missing or empty <{what}>")
    return value


def _int(obj: _Obj, elem: etree._Element) -> int:
    raw = _text(elem)
    try:
        return int(raw)
    except ValueError:
        raise obj.error(
            f"<{label(str(elem.tag))}> is not an integer: {raw!r}", elem.sourceline
        ) from None


def parse_datetime(raw: str) -> dt.datetime:
    """An xs:dateTime as a UTC datetime (no zone means UTC); ValueError if malformed."""
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        return _parse_datetime_slow(raw)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value if value.utcoffset() == _ZERO else value.astimezone(dt.UTC)


_ZERO = dt.timedelta(0)


def _parse_datetime_slow(raw: str) -> dt.datetime:
    text = raw.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    text = _FRACTION.sub(r"\1", text)
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _date(obj: _Obj, elem: etree._Element) -> dt.datetime:
    try:  # the common case, inline: xs:dateTime in UTC
        value = dt.datetime.fromisoformat(elem.text)
        if value.tzinfo is not None and value.utcoffset() == _ZERO:
            return value
    except (TypeError, ValueError):
        pass
    return _date_text(obj, _text(elem), elem)


def _date_text(obj: _Obj, raw: str, elem: etree._Element) -> dt.datetime:
    try:
        return parse_datetime(raw)
    except ValueError:
        raise obj.error(
            f"<{label(str(elem.tag))}> is not a dateTime: {raw!r}", elem.sourceline
        ) from None


_STAMPS = ("clID", "crRr", "upRr", "crDate", "upDate", "trDate")


class _StampFields(TypedDict):
    clid: str
    created_by: str | None
    updated_by: str | None
    created: dt.datetime | None
    updated: dt.datetime | None
    transferred: dt.datetime | None


class _Stamps:
    """The sponsor and change stamps domain, host and contact objects all carry (clID, crRr,
    upRr, crDate, upDate, trDate), collected from one object's children."""

    __slots__ = (
        "clid", "created", "created_by", "obj", "tags", "transferred", "updated", "updated_by",
    )  # fmt: skip

    def __init__(self, obj: _Obj, tags: dict[str, str]) -> None:
        self.obj, self.tags = obj, tags
        self.clid: str | None = None
        self.created_by: str | None = None
        self.updated_by: str | None = None
        self.created: dt.datetime | None = None
        self.updated: dt.datetime | None = None
        self.transferred: dt.datetime | None = None

    def take(self, child: etree._Element) -> None:
        """Keep `child` if it is one of the stamps; other elements are ignored, as before."""
        local = self.tags.get(child.tag)
        if local == "clID":
            self.clid = _text(child)
        elif local == "crRr":
            self.created_by = _opt(_text(child))
        elif local == "upRr":
            self.updated_by = _opt(_text(child))
        elif local == "crDate":
            self.created = _date(self.obj, child)
        elif local == "upDate":
            self.updated = _date(self.obj, child)
        elif local == "trDate":
            self.transferred = _date(self.obj, child)

    def fields(self, clid_label: str) -> _StampFields:
        """The record fields, with the required clID checked."""
        return {
            "clid": _required(self.obj, self.clid, clid_label),
            "created_by": self.created_by,
            "updated_by": self.updated_by,
            "created": self.created,
            "updated": self.updated,
            "transferred": self.transferred,
        }


def _stamp_tags(namespace: str) -> dict[str, str]:
    return {_q(namespace, local): local for local in _STAMPS}


@functools.lru_cache(maxsize=8192)  # name servers repeat across domains; bounded memory
def normalize_name(raw: str) -> tuple[str, str | None]:
    """A host or domain name as (lower-case A-label form, U-label form if it has IDN labels).

    Raises ValueError with a reason when a label is not LDH or not a valid IDNA 2008 A-label.
    """
    name = raw.strip().rstrip(".").lower()
    if not name or len(name) > 253:
        raise ValueError(f"{raw!r} is not a domain name")
    idn = False
    for part in name.split("."):
        if not _LDH.fullmatch(part):
            raise ValueError(f"{raw!r} is not a name of lower-case A-labels")
        if part[2:4] == "--":
            if not part.startswith("xn--"):
                raise ValueError(f"{raw!r}: label {part!r} has reserved hyphens")
            idn = True
    if not idn:
        return name, None
    try:
        unicode_name = idna.decode(name)
    except (idna.IDNAError, UnicodeError) as exc:
        raise ValueError(f"{raw!r} is not a valid IDNA 2008 name ({exc})") from None
    return name, unicode_name


def _name(obj: _Obj, elem: etree._Element, *, min_labels: int = 2) -> tuple[str, str | None]:
    try:
        name, unicode_name = normalize_name(_text(elem))
    except ValueError as exc:
        raise obj.error(str(exc), elem.sourceline) from None
    if name.count(".") + 1 < min_labels:
        raise obj.error(f"{name!r} is not a fully qualified name", elem.sourceline)
    return name, unicode_name


def _check_uname(obj: _Obj, ascii_name: str, uname_elem: etree._Element) -> str:
    """The uName, after checking it is the U-label form of the A-label name."""
    uname = _text(uname_elem)
    try:
        encoded = idna.encode(uname).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError) as exc:
        raise obj.error(
            f"<{label(str(uname_elem.tag))}> {uname!r} is not valid IDNA 2008 ({exc})",
            uname_elem.sourceline,
        ) from None
    if encoded != ascii_name:
        raise obj.error(
            f"<{label(str(uname_elem.tag))}> {uname!r} does not match the A-label {ascii_name!r}",
            uname_elem.sourceline,
        )
    return idna.decode(encoded)


def _ip(obj: _Obj, elem: etree._Element) -> IpAddress:
    version = elem.get("ip", "v4")
    raw = _text(elem)
    try:
        parsed = ipaddress.ip_address(raw)
    except ValueError:
        raise obj.error(f"{raw!r} is not an IP address", elem.sourceline) from None
    actual = f"v{parsed.version}"
    if version != actual:
        raise obj.error(f"address {raw!r} is {actual}, not ip={version!r}", elem.sourceline)
    return IpAddress(actual, parsed.compressed)


def _phone(elem: etree._Element) -> Phone | None:
    number = _text(elem)
    if not number:
        return None
    return Phone(number, _opt((elem.get("x") or "").strip()))


def _status(obj: _Obj, elem: etree._Element) -> str:
    value = (elem.get("s") or "").strip()
    if not value:
        raise obj.error("status without s=", elem.sourceline)
    return value


# --- objects ---------------------------------------------------------------------------------

D = {
    n: _q(DOMAIN, n)
    for n in (
        "name",
        "roid",
        "uName",
        "idnTableId",
        "originalName",
        "status",
        "rgpStatus",
        "registrant",
        "contact",
        "ns",
        "exDate",
        "secDNS",
    )
}
D_STAMPS = _stamp_tags(DOMAIN)
ED_HOST_OBJ = _q(EPP_DOMAIN, "hostObj")
ED_HOST_ATTR = _q(EPP_DOMAIN, "hostAttr")
ED_HOST_NAME = _q(EPP_DOMAIN, "hostName")
ED_HOST_ADDR = _q(EPP_DOMAIN, "hostAddr")
S = {
    n: _q(SECDNS, n)
    for n in (
        "maxSigLife",
        "dsData",
        "keyData",
        "keyTag",
        "alg",
        "digestType",
        "digest",
        "flags",
        "protocol",
        "pubKey",
    )
}
CONTACT_TYPES: Final = ("admin", "tech", "billing")


def _key_data(obj: _Obj, elem: etree._Element) -> KeyData:
    values: dict[str, int] = {}
    public_key = ""
    for child in elem:
        tag = child.tag
        if tag == S["pubKey"]:
            public_key = "".join(_text(child).split())
        elif tag in (S["flags"], S["protocol"], S["alg"]):
            values[str(tag)] = _int(obj, child)
    try:
        return KeyData(
            values[S["flags"]],
            values[S["protocol"]],
            values[S["alg"]],
            _required(obj, public_key, "secDNS:pubKey"),
        )
    except KeyError as exc:
        raise obj.error(
            f"<secDNS:keyData> lacks <{label(str(exc.args[0]))}>", elem.sourceline
        ) from None


def _ds_data(obj: _Obj, elem: etree._Element) -> DsData:
    values: dict[str, int] = {}
    digest = ""
    for child in elem:
        tag = child.tag
        if tag == S["digest"]:
            digest = "".join(_text(child).split()).upper()
            if not _HEX.fullmatch(digest):
                raise obj.error(f"DS digest {digest!r} is not hex", child.sourceline)
        elif tag in (S["keyTag"], S["alg"], S["digestType"]):
            values[str(tag)] = _int(obj, child)
    try:
        return DsData(
            values[S["keyTag"]],
            values[S["alg"]],
            values[S["digestType"]],
            _required(obj, digest, "secDNS:digest"),
        )
    except KeyError as exc:
        raise obj.error(
            f"<secDNS:dsData> lacks <{label(str(exc.args[0]))}>", elem.sourceline
        ) from None


def parse_domain(elem: etree._Element) -> DomainRecord:
    obj = _Obj(elem)
    name = unicode_name = roid = idn_table = original = registrant = expires = None
    stamps = _Stamps(obj, D_STAMPS)
    uname_elem = None
    statuses: list[str] = []
    rgp: list[str] = []
    contacts: list[tuple[str, str]] = []
    host_objects: list[str] = []
    host_attrs: list[HostAttr] = []
    ds_data: list[DsData] = []
    key_data: list[KeyData] = []
    max_sig_life = None
    for child in elem:
        tag = child.tag
        if tag == D["name"]:
            name, unicode_name = _name(obj, child)
            obj.ident = name
        elif tag == D["roid"]:
            roid = _text(child)
        elif tag == D["uName"]:
            uname_elem = child
        elif tag == D["idnTableId"]:
            idn_table = _opt(_text(child))
        elif tag == D["originalName"]:
            original = _name(obj, child)[0]
        elif tag == D["status"]:
            statuses.append(_status(obj, child))
        elif tag == D["rgpStatus"]:
            rgp.append(_status(obj, child))
        elif tag == D["registrant"]:
            registrant = _opt(_text(child))
        elif tag == D["contact"]:
            kind = child.get("type", "")
            if kind not in CONTACT_TYPES:
                raise obj.error(
                    f"contact type {kind!r} is not admin, tech or billing", child.sourceline
                )
            contacts.append((kind, _required(obj, _text(child), "rdeDomain:contact")))
        elif tag == D["ns"]:
            for ns in child:
                if ns.tag == ED_HOST_OBJ:
                    host_objects.append(_name(obj, ns)[0])
                elif ns.tag == ED_HOST_ATTR:
                    attr_name = None
                    addrs: list[IpAddress] = []
                    for part in ns:
                        if part.tag == ED_HOST_NAME:
                            attr_name = _name(obj, part)[0]
                        elif part.tag == ED_HOST_ADDR:
                            addrs.append(_ip(obj, part))
                    host_attrs.append(HostAttr(_required(obj, attr_name, "domain:hostName"), addrs))
        elif tag == D["exDate"]:
            expires = _date(obj, child)
        elif tag == D["secDNS"]:
            for sec in child:
                if sec.tag == S["dsData"]:
                    ds_data.append(_ds_data(obj, sec))
                elif sec.tag == S["keyData"]:
                    key_data.append(_key_data(obj, sec))
                elif sec.tag == S["maxSigLife"]:
                    max_sig_life = _int(obj, sec)
        else:
            stamps.take(child)
    name = _required(obj, name, "rdeDomain:name")
    if uname_elem is not None:
        unicode_name = _check_uname(obj, name, uname_elem)
    if not statuses:
        raise obj.error("has no <rdeDomain:status>")
    return DomainRecord(
        name=name,
        unicode_name=unicode_name,
        roid=_required(obj, roid, "rdeDomain:roid"),
        idn_table=idn_table,
        original_name=original,
        statuses=statuses + rgp,
        registrant=registrant,
        contacts=contacts,
        host_objects=host_objects,
        host_attrs=host_attrs,
        expires=expires,
        **stamps.fields("rdeDomain:clID"),
        ds_data=ds_data,
        key_data=key_data,
        max_sig_life=max_sig_life,
        line=obj.line,
    )


H = {
    n: _q(HOST, n)
    for n in (
        "name",
        "roid",
        "status",
        "addr",
    )
}
H_STAMPS = _stamp_tags(HOST)


def parse_host(elem: etree._Element) -> HostRecord:
    obj = _Obj(elem)
    name = unicode_name = roid = None
    stamps = _Stamps(obj, H_STAMPS)
    statuses: list[str] = []
    addresses: list[IpAddress] = []
    for child in elem:
        tag = child.tag
        if tag == H["name"]:
            name, unicode_name = _name(obj, child)
            obj.ident = name
        elif tag == H["roid"]:
            roid = _text(child)
        elif tag == H["status"]:
            statuses.append(_status(obj, child))
        elif tag == H["addr"]:
            addresses.append(_ip(obj, child))
        else:
            stamps.take(child)
    return HostRecord(
        name=_required(obj, name, "rdeHost:name"),
        unicode_name=unicode_name,
        roid=_required(obj, roid, "rdeHost:roid"),
        statuses=statuses,
        addresses=addresses,
        **stamps.fields("rdeHost:clID"),
        line=obj.line,
    )


C = {
    n: _q(CONTACT, n)
    for n in (
        "id",
        "roid",
        "status",
        "postalInfo",
        "voice",
        "fax",
        "email",
        "disclose",
    )
}
C_STAMPS = _stamp_tags(CONTACT)
EC = {
    n: _q(EPP_CONTACT, n)
    for n in (
        "name",
        "org",
        "addr",
        "street",
        "city",
        "sp",
        "pc",
        "cc",
        "voice",
        "fax",
        "email",
    )
}


def _address(elem: etree._Element, ns: str) -> Address:
    street: list[str] = []
    city = state = postal_code = country = None
    for part in elem:
        tag = part.tag
        if tag == _q(ns, "street"):
            if _text(part):
                street.append(_text(part))
        elif tag == _q(ns, "city"):
            city = _opt(_text(part))
        elif tag == _q(ns, "sp"):
            state = _opt(_text(part))
        elif tag == _q(ns, "pc"):
            postal_code = _opt(_text(part))
        elif tag == _q(ns, "cc"):
            country = _opt(_text(part).upper())
    return Address(street, city, state, postal_code, country)


def parse_contact(elem: etree._Element) -> ContactRecord:
    obj = _Obj(elem)
    handle = roid = email = voice = fax = None
    stamps = _Stamps(obj, C_STAMPS)
    statuses: list[str] = []
    postal_infos: list[PostalInfoRecord] = []
    disclose: dict[str, object] | None = None
    for child in elem:
        tag = child.tag
        if tag == C["id"]:
            handle = _text(child)
            obj.ident = handle
        elif tag == C["roid"]:
            roid = _text(child)
        elif tag == C["status"]:
            statuses.append(_status(obj, child))
        elif tag == C["postalInfo"]:
            kind = child.get("type", "")
            if kind not in ("int", "loc"):
                raise obj.error(f"postalInfo type {kind!r} is not int or loc", child.sourceline)
            name = org = None
            address = Address([], None, None, None, None)
            for part in child:
                if part.tag == EC["name"]:
                    name = _opt(_text(part))
                elif part.tag == EC["org"]:
                    org = _opt(_text(part))
                elif part.tag == EC["addr"]:
                    address = _address(part, EPP_CONTACT)
            postal_infos.append(PostalInfoRecord(kind, name, org, address))
        elif tag == C["voice"]:
            voice = _phone(child)
        elif tag == C["fax"]:
            fax = _phone(child)
        elif tag == C["email"]:
            email = _opt(_text(child))
        elif tag == C["disclose"]:
            flag = (child.get("flag") or "").strip()
            if flag not in ("0", "1", "true", "false"):
                raise obj.error(f"disclose flag {flag!r} is not a boolean", child.sourceline)
            elements: list[str] = []
            for part in child:
                if not isinstance(part.tag, str) or not part.tag.startswith(f"{{{EPP_CONTACT}}}"):
                    continue
                local = part.tag.rpartition("}")[2]
                kind = part.get("type")
                elements.append(f"{local}_{kind}" if kind else local)
            disclose = {"flag": flag in ("1", "true"), "elements": elements}
        else:
            stamps.take(child)
    return ContactRecord(
        handle=_required(obj, handle, "rdeContact:id"),
        roid=_required(obj, roid, "rdeContact:roid"),
        statuses=statuses,
        postal_infos=postal_infos,
        voice=voice,
        fax=fax,
        email=email,
        **stamps.fields("rdeContact:clID"),
        disclose=disclose,
        line=obj.line,
    )


R = {
    n: _q(REGISTRAR, n)
    for n in (
        "id",
        "name",
        "gurid",
        "status",
        "postalInfo",
        "addr",
        "voice",
        "fax",
        "email",
        "url",
        "whoisInfo",
        "crDate",
        "upDate",
    )
}


def parse_registrar(elem: etree._Element) -> RegistrarRecord:
    obj = _Obj(elem)
    client_id = name = email = url = whois_server = whois_url = None
    gurid = None
    status = "ok"
    created = updated = None
    voice = fax = None
    addresses: dict[str, Address] = {}
    for child in elem:
        tag = child.tag
        if tag == R["id"]:
            client_id = _text(child)
            obj.ident = client_id
        elif tag == R["name"]:
            name = _text(child)
        elif tag == R["gurid"]:
            gurid = _int(obj, child)
        elif tag == R["status"]:
            status = _text(child) or "ok"
        elif tag == R["postalInfo"]:
            for part in child:
                if part.tag == R["addr"]:
                    addresses[child.get("type", "int")] = _address(part, REGISTRAR)
        elif tag == R["voice"]:
            voice = _phone(child)
        elif tag == R["fax"]:
            fax = _phone(child)
        elif tag == R["email"]:
            email = _opt(_text(child))
        elif tag == R["url"]:
            url = _opt(_text(child))
        elif tag == R["whoisInfo"]:
            for part in child:
                if part.tag == R["name"]:
                    whois_server = _opt(_text(part).lower())
                elif part.tag == R["url"]:
                    whois_url = _opt(_text(part))
        elif tag == R["crDate"]:
            created = _date(obj, child)
        elif tag == R["upDate"]:
            updated = _date(obj, child)
    address = addresses.get("int") or addresses.get("loc")
    return RegistrarRecord(
        client_id=_required(obj, client_id, "rdeRegistrar:id"),
        name=_required(obj, name, "rdeRegistrar:name"),
        gurid=gurid,
        status=status,
        address=address,
        voice=voice,
        fax=fax,
        email=email,
        url=url,
        whois_server=whois_server,
        whois_url=whois_url,
        created=created,
        updated=updated,
        line=obj.line,
    )


def parse_idn_table(elem: etree._Element) -> IdnTableRecord:
    obj = _Obj(elem)
    table_id = (elem.get("id") or "").strip()
    obj.ident = table_id
    url = url_policy = None
    for child in elem:
        if child.tag == _q(IDN, "url"):
            url = _opt(_text(child))
        elif child.tag == _q(IDN, "urlPolicy"):
            url_policy = _opt(_text(child))
    return IdnTableRecord(
        _required(obj, table_id, "rdeIDN:idnTableRef id="), url, url_policy, obj.line
    )


def parse_nndn(elem: etree._Element) -> NndnRecord:
    obj = _Obj(elem)
    name = unicode_name = idn_table = original = None
    uname_elem = None
    state = ""
    mirroring = True
    created = None
    for child in elem:
        tag = child.tag
        if tag == _q(NNDN, "aName"):
            name, unicode_name = _name(obj, child)
            obj.ident = name
        elif tag == _q(NNDN, "uName"):
            uname_elem = child
        elif tag == _q(NNDN, "idnTableId"):
            idn_table = _opt(_text(child))
        elif tag == _q(NNDN, "originalName"):
            original = _name(obj, child)[0]
        elif tag == _q(NNDN, "nameState"):
            state = _text(child)
            if state not in NAME_STATES:
                raise obj.error(
                    f"nameState {state!r} is not one of {', '.join(NAME_STATES)}", child.sourceline
                )
            mirroring = (child.get("mirroringNS") or "true").strip() in ("1", "true")
        elif tag == _q(NNDN, "crDate"):
            created = _date(obj, child)
    name = _required(obj, name, "rdeNNDN:aName")
    if uname_elem is not None:
        unicode_name = _check_uname(obj, name, uname_elem)
    return NndnRecord(
        name,
        unicode_name,
        idn_table,
        original,
        _required(obj, state, "rdeNNDN:nameState"),
        mirroring,
        created,
        obj.line,
    )


def parse_header(elem: etree._Element) -> Header:
    obj = _Obj(elem)
    tld = None
    counts: list[HeaderCount] = []
    for child in elem:
        if child.tag == _q(HEADER, "tld"):
            try:
                tld = normalize_name(_text(child))[0]
            except ValueError as exc:
                raise obj.error(str(exc), child.sourceline) from None
        elif child.tag == _q(HEADER, "count"):
            uri = (child.get("uri") or "").strip()
            if not uri:
                raise obj.error("<rdeHeader:count> without uri=", child.sourceline)
            counts.append(HeaderCount(uri, _int(obj, child), child.sourceline or obj.line))
    return Header(_required(obj, tld, "rdeHeader:tld"), counts, obj.line)


X = {
    n: _q(RDAPD, n)
    for n in (
        "id",
        "personKind",
        "consent",
        "verification",
        "eligibility",
        "rdapBaseUrl",
        "abuseContact",
        "name",
        "email",
        "voice",
        "aName",
        "reason",
    )
}


def _attr_date(obj: _Obj, elem: etree._Element, attr: str) -> dt.datetime | None:
    raw = (elem.get(attr) or "").strip()
    return _date_text(obj, raw, elem) if raw else None


def parse_contact_facts(elem: etree._Element) -> ContactFacts:
    obj = _Obj(elem)
    handle = None
    kind = "natural"
    consents: list[Consent] = []
    status = "unverified"
    verified_at = eligibility_at = None
    method = community = group = None
    for child in elem:
        tag = child.tag
        if tag == X["id"]:
            handle = _text(child)
            obj.ident = handle
        elif tag == X["personKind"]:
            kind = _text(child)
            if kind not in PERSON_KINDS:
                raise obj.error(f"personKind {kind!r} is not natural or legal", child.sourceline)
        elif tag == X["consent"]:
            element = (child.get("element") or "").strip()
            if element not in CONSENT_ELEMENTS:
                raise obj.error(
                    f"consent element {element!r} is not one of {', '.join(CONSENT_ELEMENTS)}",
                    child.sourceline,
                )
            consents.append(Consent(element, _attr_date(obj, child, "at")))
        elif tag == X["verification"]:
            status = (child.get("status") or "").strip()
            if status not in VERIFICATION_STATES:
                raise obj.error(
                    f"verification status {status!r} is not one of "
                    f"{', '.join(VERIFICATION_STATES)}",
                    child.sourceline,
                )
            verified_at = _attr_date(obj, child, "date")
            method = _opt((child.get("method") or "").strip())
        elif tag == X["eligibility"]:
            community = _opt((child.get("communityId") or "").strip())
            eligibility_at = _attr_date(obj, child, "verified")
            group = _opt((child.get("group") or "").strip())
    return ContactFacts(
        handle=_required(obj, handle, "rdapd:id"),
        person_kind=kind,
        consents=consents,
        verification_status=status,
        verified_at=verified_at,
        verification_method=method,
        community_id=community,
        eligibility_verified_at=eligibility_at,
        registrant_group=group,
        line=obj.line,
    )


def parse_registrar_facts(elem: etree._Element) -> RegistrarFacts:
    obj = _Obj(elem)
    client_id = base_url = abuse_name = abuse_email = abuse_voice = None
    for child in elem:
        tag = child.tag
        if tag == X["id"]:
            client_id = _text(child)
            obj.ident = client_id
        elif tag == X["rdapBaseUrl"]:
            base_url = _opt(_text(child))
        elif tag == X["abuseContact"]:
            for part in child:
                if part.tag == X["name"]:
                    abuse_name = _opt(_text(part))
                elif part.tag == X["email"]:
                    abuse_email = _opt(_text(part))
                elif part.tag == X["voice"]:
                    abuse_voice = _opt(_text(part))
    return RegistrarFacts(
        _required(obj, client_id, "rdapd:id"),
        base_url,
        abuse_name,
        abuse_email,
        abuse_voice,
        obj.line,
    )


def parse_protected_name(elem: etree._Element) -> ProtectedName:
    obj = _Obj(elem)
    name = reason = None
    for child in elem:
        if child.tag == X["aName"]:
            name = _name(obj, child)[0]
            obj.ident = name
        elif child.tag == X["reason"]:
            reason = _text(child)
    return ProtectedName(
        _required(obj, name, "rdapd:aName"), _required(obj, reason, "rdapd:reason"), obj.line
    )


OBJECT_PARSERS: Final[dict[str, Callable[[etree._Element], Record]]] = {
    _q(DOMAIN, "domain"): parse_domain,
    _q(HOST, "host"): parse_host,
    _q(CONTACT, "contact"): parse_contact,
    _q(REGISTRAR, "registrar"): parse_registrar,
    _q(IDN, "idnTableRef"): parse_idn_table,
    _q(NNDN, "NNDN"): parse_nndn,
    _q(HEADER, "header"): parse_header,
    _q(RDAPD, "contactFacts"): parse_contact_facts,
    _q(RDAPD, "registrarFacts"): parse_registrar_facts,
    _q(RDAPD, "protectedName"): parse_protected_name,
}
DEPOSIT = _q(RDE, "deposit")
WATERMARK = _q(RDE, "watermark")
CONTENTS = _q(RDE, "contents")


# --- the stream ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Share:
    """Which content objects one of several parallel parsers converts: the objects are cut
    into runs of `size` in document order, and this parser takes every `of`-th run starting
    with run `index`. The others it only reads past (XML errors are still found)."""

    index: int
    of: int
    size: int

    def owns(self, ordinal: int) -> bool:
        return (ordinal // self.size) % self.of == self.index


def parse_deposit(source: str | Path | IO[bytes], share: Share | None = None) -> Iterator[Record]:
    """Yield the deposit's records in document order: DepositInfo first, then content objects
    (with `share`, only the content objects of this parser's runs).

    Safe against hostile input: a DOCTYPE is refused before libxml2 reads a byte (prolog.py:
    no DTD, no entities of any kind), the network is never used, and libxml2's size limits
    stay on. Elements are freed once read, so memory stays flat whatever the deposit size.
    Errors raise DepositError naming the line.
    """
    stream: str | prolog.Replay
    if isinstance(source, (str, Path)):
        with open(source, "rb") as head:
            prolog.check(head.read)
        stream = str(source)  # libxml2 reads the file itself: faster than through Python
    else:
        stream = prolog.Replay(prolog.check(source.read), source.read)
    context = etree.iterparse(
        stream,
        events=("start", "end"),
        tag=[DEPOSIT, WATERMARK, *OBJECT_PARSERS],
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )
    root_seen = False
    info: DepositInfo | None = None
    attrs: dict[str, str] = {}
    root_line = 1
    ordinal = -1  # of the current content object
    try:
        for event, elem in context:
            tag = elem.tag
            if event == "start":
                if not root_seen:
                    root_seen = True
                    if elem.getroottree().docinfo.doctype:  # prolog.check refuses it first
                        raise DepositError(
                            f"line {elem.sourceline}: <{label(str(tag))}>: a DOCTYPE (DTD, "
                            "entities) is not allowed in a deposit"
                        )
                    if tag != DEPOSIT:
                        raise DepositError(
                            f"line {elem.sourceline}: <{label(str(tag))}>: the root element "
                            "must be <rde:deposit> (urn:ietf:params:xml:ns:rde-1.0)"
                        )
                    attrs = {k: v.strip() for k, v in elem.attrib.items()}
                    root_line = elem.sourceline or 1
                continue
            if tag == WATERMARK:
                info = _deposit_info(attrs, elem, root_line)
                yield info
            elif tag != DEPOSIT:
                parent = elem.getparent()
                if parent is not None and parent.tag == CONTENTS:
                    if info is None:
                        raise DepositError(
                            f"line {elem.sourceline}: <{label(str(tag))}>: content before "
                            "<rde:watermark>"
                        )
                    ordinal += 1
                    if share is None or share.owns(ordinal):
                        record: Record = OBJECT_PARSERS[str(tag)](elem)
                        yield record
                    # Free what has been read: this element and every earlier sibling.
                    elem.clear(keep_tail=False)
                    while elem.getprevious() is not None:
                        del parent[0]
    except etree.XMLSyntaxError as exc:
        line = max(1, exc.lineno or (exc.position[0] if exc.position else 1))
        raise DepositError(f"line {line}: malformed XML: {exc.msg}") from None
    if not root_seen:
        raise DepositError("line 1: the deposit is empty or has no <rde:deposit> element")
    if info is None:
        raise DepositError(f"line {root_line}: <rde:deposit>: missing <rde:watermark>")


def _deposit_info(attrs: dict[str, str], watermark: etree._Element, line: int) -> DepositInfo:
    def error(message: str) -> DepositError:
        return DepositError(f"line {line}: <rde:deposit>: {message}")

    deposit_type = attrs.get("type", "")
    if deposit_type not in DEPOSIT_TYPES:
        raise error(f"type {deposit_type!r} is not FULL, INCR or DIFF")
    deposit_id = attrs.get("id", "")
    if not deposit_id:
        raise error("missing id=")
    try:
        resend = int(attrs.get("resend", "0") or "0")
    except ValueError:
        raise error(f"resend {attrs.get('resend')!r} is not an integer") from None
    raw = _text(watermark)
    try:
        stamp = parse_datetime(raw)
    except ValueError:
        raise DepositError(
            f"line {watermark.sourceline}: <rde:watermark>: {raw!r} is not a dateTime"
        ) from None
    return DepositInfo(deposit_type, deposit_id, _opt(attrs.get("prevId", "")), resend, stamp, line)
