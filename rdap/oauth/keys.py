"""Token signing keys: shared by every process through the database, sealed there at rest.

The private half of each key is stored encrypted (AES-256-GCM, bound to its kid) under the
key-encryption key (RDAP_KEY_ENCRYPTION_KEY, or one generated into the instance folder), which
is never in the database: whoever can read the database cannot mint tokens. The public half is
stored in the clear and published as a JWKS; verifying a token needs no decryption.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc.jwk import ECKey, KeySet
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from rdap import b64url
from rdap.instance import key_encryption_key
from rdap.models import SigningKey
from rdap.settings import Settings

SIGNING_ALG = "ES256"
SEALED_FORMAT = "v1"
_HKDF_INFO = b"rdapd oauth signing keys v1"


class KeyUnavailable(RuntimeError):
    """The active signing key cannot be decrypted with this server's key-encryption key."""


class KeySealer:
    """Seals and opens private JWKs with a key derived (HKDF-SHA256) from the key-encryption
    key. A sealed key names the fingerprint of the key that sealed it, so a server holding
    another key-encryption key says so instead of failing to decrypt."""

    def __init__(self, key_material: bytes) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
            key_material
        )
        self._aead = AESGCM(derived)
        self.fingerprint = hashlib.sha256(derived).hexdigest()[:16]

    @classmethod
    def from_settings(cls, settings: Settings) -> KeySealer:
        return cls(key_encryption_key(settings))

    def seal(self, kid: str, private_jwk: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, private_jwk.encode(), kid.encode())
        return ".".join(
            (SEALED_FORMAT, self.fingerprint, b64url.encode(nonce), b64url.encode(sealed))
        )

    def open(self, kid: str, sealed: str) -> str:
        try:
            version, fingerprint, nonce, ciphertext = sealed.split(".")
        except ValueError:
            raise KeyUnavailable(f"signing key {kid} is not sealed in a known form") from None
        if version != SEALED_FORMAT:
            raise KeyUnavailable(f"signing key {kid} is sealed in an unknown form {version!r}")
        if fingerprint != self.fingerprint:
            raise KeyUnavailable(
                f"signing key {kid} was sealed under another key-encryption key"
                f" ({fingerprint}, this server's is {self.fingerprint}): every server needs"
                " the same RDAP_KEY_ENCRYPTION_KEY"
            )
        try:
            return self._aead.decrypt(
                b64url.decode(nonce), b64url.decode(ciphertext), kid.encode()
            ).decode()
        except (InvalidTag, ValueError):
            raise KeyUnavailable(f"signing key {kid} does not decrypt (altered?)") from None


def _new_key(now: dt.datetime, sealer: KeySealer) -> SigningKey:
    kid = f"{now:%Y%m%d}-{secrets.token_hex(6)}"
    key = ECKey.generate_key("P-256", parameters={"kid": kid, "alg": SIGNING_ALG, "use": "sig"})
    return SigningKey(
        kid=kid,
        public_jwk=json.dumps(key.as_dict(private=False)),
        sealed_private_jwk=sealer.seal(kid, json.dumps(key.as_dict(private=True))),
        created_at=now,
    )


def _active_row(session: Session, now: dt.datetime, sealer: KeySealer) -> SigningKey:
    """The newest unretired key's row; the first call on an empty database creates one."""
    row = session.scalars(
        select(SigningKey)
        .where(SigningKey.retired_at.is_(None))
        .order_by(SigningKey.created_at.desc(), SigningKey.kid)
        .limit(1)
    ).first()
    if row is None:
        row = _new_key(now, sealer)
        session.add(row)
        session.flush()
    return row


def ensure_signing_key(session: Session, now: dt.datetime, sealer: KeySealer) -> str:
    """The active key's kid, creating the first key if there is none (nothing is decrypted)."""
    return _active_row(session, now, sealer).kid


def active_signing_key(session: Session, now: dt.datetime, sealer: KeySealer) -> ECKey:
    """The newest unretired key, decrypted; KeyUnavailable if it cannot be."""
    row = _active_row(session, now, sealer)
    if row.sealed_private_jwk is None:
        raise KeyUnavailable(f"signing key {row.kid} has no private half")
    return ECKey.import_key(json.loads(sealer.open(row.kid, row.sealed_private_jwk)))


def rotate(session: Session, now: dt.datetime, sealer: KeySealer) -> str:
    """Retire every current key and create a new one; returns the new kid."""
    for row in session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))):
        row.retired_at = now
    row = _new_key(now, sealer)
    session.add(row)
    session.flush()
    return row.kid


def public_keys(session: Session, now: dt.datetime, grace_seconds: int) -> dict[str, ECKey]:
    """Public halves of every key that can still verify a live token, by kid."""
    cutoff = now - dt.timedelta(seconds=grace_seconds)
    rows = session.scalars(
        select(SigningKey).where(
            or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > cutoff)
        )
    )
    keys: dict[str, ECKey] = {}
    for row in rows:
        public = {k: v for k, v in json.loads(row.public_jwk).items() if k != "d"}
        keys[row.kid] = ECKey.import_key(public)
    return keys


def jwks_document(keys: dict[str, ECKey]) -> dict[str, Any]:
    """The RFC 7517 JWK Set served at /oauth/jwks (public members only)."""
    keyset = KeySet([keys[kid] for kid in sorted(keys)])
    return dict(keyset.as_dict(private=False))
