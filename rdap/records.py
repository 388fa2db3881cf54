"""Read records: the plain, immutable rows the repository returns and the document builder reads."""

from __future__ import annotations

import dataclasses
import datetime as dt


@dataclasses.dataclass(frozen=True, slots=True)
class RegistrarRecord:
    id: int
    client_id: str
    iana_id: int | None
    name: str
    street: tuple[str, ...]
    city: str | None
    state: str | None
    postal_code: str | None
    country: str | None
    voice: str | None
    voice_ext: str | None
    fax: str | None
    fax_ext: str | None
    email: str | None
    url: str | None
    whois_server: str | None
    rdap_base_url: str | None
    abuse_name: str | None
    abuse_email: str | None
    abuse_voice: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class PostalRecord:
    type: str  # "int" or "loc"
    name: str | None
    org: str | None
    street: tuple[str, ...]
    city: str | None
    state: str | None
    postal_code: str | None
    country: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class ContactRecord:
    id: int
    handle: str
    roid: str
    registrar_id: int
    statuses: tuple[str, ...]
    voice: str | None
    voice_ext: str | None
    fax: str | None
    fax_ext: str | None
    email: str | None
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    transferred_at: dt.datetime | None
    person_kind: str
    publish_consent: frozenset[str]
    verification_status: str
    verified_at: dt.datetime | None
    verification_method: str | None
    community_id: str | None
    eligibility_verified_at: dt.datetime | None
    registrant_group: str | None
    postal: tuple[PostalRecord, ...]

    @property
    def preferred_postal(self) -> PostalRecord | None:
        """The internationalised (ASCII) form if present, else the localised one."""
        by_type = {p.type: p for p in self.postal}
        return by_type.get("int") or by_type.get("loc")


@dataclasses.dataclass(frozen=True, slots=True)
class HostRecord:
    id: int
    roid: str
    ldh_name: str
    unicode_name: str | None
    registrar_id: int
    statuses: tuple[str, ...]
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    transferred_at: dt.datetime | None
    addresses: tuple[tuple[str, str], ...]  # (version "v4"/"v6", address)


@dataclasses.dataclass(frozen=True, slots=True)
class DelegationRecord:
    """A domain's nameserver: a host object, or a host attribute with inline addresses."""

    ldh_name: str
    host: HostRecord | None
    addresses: tuple[tuple[str, str], ...]


@dataclasses.dataclass(frozen=True, slots=True)
class DsRecord:
    key_tag: int
    algorithm: int
    digest_type: int
    digest: str


@dataclasses.dataclass(frozen=True, slots=True)
class KeyRecord:
    flags: int
    protocol: int
    algorithm: int
    public_key: str


@dataclasses.dataclass(frozen=True, slots=True)
class NameRecord:
    """A name in a variant set: registered (state None) or non-delegated (blocked, ...)."""

    ldh_name: str
    unicode_name: str | None
    idn_table: str | None
    state: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class DomainRecord:
    id: int
    roid: str
    ldh_name: str
    unicode_name: str | None
    tld: str
    statuses: tuple[str, ...]
    created_at: dt.datetime | None
    expires_at: dt.datetime | None
    updated_at: dt.datetime | None
    transferred_at: dt.datetime | None
    idn_table: str | None
    original_name: str | None
    delegation_signed: bool
    max_sig_life: int | None
    registrar: RegistrarRecord
    registrant: ContactRecord | None
    contacts: tuple[tuple[str, ContactRecord], ...]  # (EPP type admin/tech/billing, contact)
    nameservers: tuple[DelegationRecord, ...]
    ds_records: tuple[DsRecord, ...]
    dns_keys: tuple[KeyRecord, ...]
    variants: tuple[NameRecord, ...] = ()
