"""The registry schema: every model is imported here so metadata (and Alembic) sees all tables."""

from rdap.db import Base
from rdap.models.client import OAuthClient, RevokedToken, SigningKey
from rdap.models.complaint import Complaint
from rdap.models.contact import LEGAL, NATURAL, Contact, PostalInfo
from rdap.models.disclosure import (
    Accreditation,
    AuditEntry,
    DisclosureClient,
    DisclosureGrant,
    DisclosureRequest,
    Notification,
    Organisation,
    RenewalReminder,
    RequestEvent,
    RequestReason,
    SlaPause,
)
from rdap.models.domain import (
    DnsKey,
    Domain,
    DomainContact,
    DomainNameserver,
    DsRecord,
    IdnTable,
    NonDelegatedName,
)
from rdap.models.message import ContactMessage
from rdap.models.nameserver import Host, HostAddress
from rdap.models.person import AuthorizationCode, Person
from rdap.models.registrar import Registrar
from rdap.models.registry import ContactTld, DataVersion, Deposit, HostTld, RegistrarTld, Tld

__all__ = [
    "LEGAL",
    "NATURAL",
    "Accreditation",
    "AuditEntry",
    "AuthorizationCode",
    "Base",
    "Complaint",
    "Contact",
    "ContactMessage",
    "ContactTld",
    "DataVersion",
    "Deposit",
    "DisclosureClient",
    "DisclosureGrant",
    "DisclosureRequest",
    "DnsKey",
    "Domain",
    "DomainContact",
    "DomainNameserver",
    "DsRecord",
    "Host",
    "HostAddress",
    "HostTld",
    "IdnTable",
    "NonDelegatedName",
    "Notification",
    "OAuthClient",
    "Organisation",
    "Person",
    "PostalInfo",
    "Registrar",
    "RegistrarTld",
    "RenewalReminder",
    "RequestEvent",
    "RequestReason",
    "RevokedToken",
    "SigningKey",
    "SlaPause",
    "Tld",
]
