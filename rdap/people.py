"""People who sign in to the web pages: accounts (each acting through its own OAuth client),
passwords (scrypt), the TOTP second factor (RFC 6238, pyotp) staff must use, and sign-in."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import secrets

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from rdap import b64url
from rdap.models import OAuthClient, Person
from rdap.models.client import ACTIVE as CLIENT_ACTIVE
from rdap.models.person import ACTIVE, DISABLED
from rdap.oauth import service
from rdap.oauth.keys import KeySealer
from rdap.principal import LAW_ENFORCEMENT, REQUESTER, STAFF

# Roles a person may have (registrars use their own systems through the API).
PERSON_ROLES = (REQUESTER, LAW_ENFORCEMENT, STAFF)
# Roles that must use a second factor.
SECOND_FACTOR_ROLES = frozenset({STAFF})
# scrypt for passwords people choose (RFC 7914; OWASP's minimum n=2^17 costs 128 MiB, so
# n=2^15, r=8, p=3 (32 MiB, the same work) is used).
_SCRYPT = {"n": 2**15, "r": 8, "p": 3}
_MAX_PASSWORD = 1024
MIN_PASSWORD = 12
TOTP_ISSUER = "rdapd"


class PersonError(ValueError):
    """A management request was refused; the message is fit for a terminal."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, maxmem=2**26, **_SCRYPT)
    n, r, p = _SCRYPT["n"], _SCRYPT["r"], _SCRYPT["p"]
    return f"scrypt${n}${r}${p}${b64url.encode(salt)}${b64url.encode(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt" or len(password) > _MAX_PASSWORD:
            return False
        candidate = hashlib.scrypt(
            password.encode(),
            salt=b64url.decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=32,
            maxmem=2**26,
        )
    except ValueError:
        return False
    return hmac.compare_digest(candidate, b64url.decode(digest))


# What an unknown username is checked against, so it costs what a wrong password costs.
_DUMMY = hash_password(secrets.token_urlsafe(16))


def _totp_label(username: str) -> str:
    return f"totp:{username}"


@dataclasses.dataclass(frozen=True)
class Created:
    person: Person
    password: str
    totp_uri: str | None  # otpauth:// URI for an authenticator app (staff), shown once


def normalise(username: str) -> str:
    return username.strip().casefold()


def check_new(session: Session, *, username: str, display_name: str, role: str) -> str:
    """The normalised username of a person that may be created (else PersonError)."""
    name = normalise(username)
    if role not in PERSON_ROLES:
        raise PersonError(f"unknown role {role!r}; choose one of {', '.join(PERSON_ROLES)}")
    if not name or len(name) > 254 or any(c.isspace() for c in name):
        raise PersonError("a username is one word of at most 254 characters (an email address)")
    if not display_name.strip():
        raise PersonError("a person needs a non-empty --name")
    if session.scalars(select(Person).where(Person.username == name)).first() is not None:
        raise PersonError(f"user {name} exists already")
    return name


def create_person(
    session: Session,
    *,
    username: str,
    display_name: str,
    client: OAuthClient,
    sealer: KeySealer,
    now: dt.datetime,
    password: str | None = None,
) -> Created:
    """A person acting through `client` (their own, just made for them: its role is theirs);
    a generated password unless one is given, and a TOTP secret for the roles that need a
    second factor."""
    role = client.role
    name = check_new(session, username=username, display_name=display_name, role=role)
    if password is not None and not MIN_PASSWORD <= len(password) <= _MAX_PASSWORD:
        raise PersonError(f"a password has {MIN_PASSWORD} to {_MAX_PASSWORD} characters")
    chosen = password or secrets.token_urlsafe(15)
    totp_secret = pyotp.random_base32() if role in SECOND_FACTOR_ROLES else None
    person = Person(
        username=name,
        display_name=display_name.strip(),
        client_id=client.client_id,
        password_hash=hash_password(chosen),
        totp_sealed=sealer.seal(_totp_label(name), totp_secret) if totp_secret else None,
        status=ACTIVE,
        created_at=now,
    )
    session.add(person)
    session.flush()
    uri = (
        pyotp.TOTP(totp_secret).provisioning_uri(name=name, issuer_name=TOTP_ISSUER)
        if totp_secret
        else None
    )
    return Created(person, chosen, uri)


def disable_person(session: Session, username: str, now: dt.datetime) -> Person:
    """Disable the account and revoke its client: its session and tokens stop at once."""
    person = session.scalars(select(Person).where(Person.username == normalise(username))).first()
    if person is None:
        raise PersonError(f"no user {normalise(username)}")
    if person.status != DISABLED:
        person.status = DISABLED
        person.disabled_at = now
    service.revoke_client(session, person.client_id, now)
    return person


@dataclasses.dataclass(frozen=True)
class SignedIn:
    person_id: int
    client_id: str
    display_name: str
    role: str
    methods: str  # "pwd" or "pwd otp"


class SignInRefused(ValueError):
    """Wrong username, password or code, or an account that may not sign in: one message."""


class SecondFactorNeeded(ValueError):
    """The password was right; this account also needs its TOTP code."""


def sign_in(
    session: Session,
    *,
    username: str,
    password: str,
    code: str | None,
    sealer: KeySealer,
    now: dt.datetime,
) -> SignedIn:
    """Check a person's credentials. Unknown users, wrong passwords, disabled accounts and
    revoked clients are one refusal; a TOTP code is accepted once (its time step is kept)."""
    person = session.scalars(select(Person).where(Person.username == normalise(username))).first()
    if person is None:
        verify_password(password, _DUMMY)
        raise SignInRefused()
    if not verify_password(password, person.password_hash):
        raise SignInRefused()
    client = session.scalars(
        select(OAuthClient).where(OAuthClient.client_id == person.client_id)
    ).first()
    if person.status != ACTIVE or client is None or client.status != CLIENT_ACTIVE:
        raise SignInRefused()
    methods = "pwd"
    if person.totp_sealed is not None or client.role in SECOND_FACTOR_ROLES:
        if person.totp_sealed is None:
            raise SignInRefused()  # a staff account without a second factor never signs in
        if not code:
            raise SecondFactorNeeded()
        totp = pyotp.TOTP(sealer.open(_totp_label(person.username), person.totp_sealed))
        step = _accepted_step(totp, code.strip(), now)
        if step is None or (person.totp_last_step is not None and step <= person.totp_last_step):
            raise SignInRefused()
        person.totp_last_step = step
        methods = "pwd otp"
    return SignedIn(person.id, person.client_id, person.display_name, client.role, methods)


def _accepted_step(totp: pyotp.TOTP, code: str, now: dt.datetime) -> int | None:
    """The time step whose code this is: the current one or its neighbours (clock drift)."""
    if not (code.isdigit() and len(code) == totp.digits):
        return None
    current = totp.timecode(now)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None
