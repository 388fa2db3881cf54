"""Token signing keys: created in the database, shared by every process, published as a JWKS."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any

from joserfc.jwk import ECKey, KeySet
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from rdap.models import SigningKey

SIGNING_ALG = "ES256"


def _new_key(now: dt.datetime) -> SigningKey:
    kid = f"{now:%Y%m%d}-{secrets.token_hex(6)}"
    key = ECKey.generate_key("P-256", parameters={"kid": kid, "alg": SIGNING_ALG, "use": "sig"})
    return SigningKey(kid=kid, private_jwk=json.dumps(key.as_dict(private=True)), created_at=now)


def active_signing_key(session: Session, now: dt.datetime) -> ECKey:
    """The newest unretired key; the first call on an empty database creates one."""
    row = session.scalars(
        select(SigningKey)
        .where(SigningKey.retired_at.is_(None))
        .order_by(SigningKey.created_at.desc(), SigningKey.kid)
        .limit(1)
    ).first()
    if row is None:
        row = _new_key(now)
        session.add(row)
        session.flush()
    return ECKey.import_key(json.loads(row.private_jwk))


def rotate(session: Session, now: dt.datetime) -> str:
    """Retire every current key and create a new one; returns the new kid."""
    for row in session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))):
        row.retired_at = now
    row = _new_key(now)
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
        private = json.loads(row.private_jwk)
        public = {k: v for k, v in private.items() if k != "d"}
        keys[row.kid] = ECKey.import_key(public)
    return keys


def jwks_document(keys: dict[str, ECKey]) -> dict[str, Any]:
    """The RFC 7517 JWK Set served at /oauth/jwks (public members only)."""
    keyset = KeySet([keys[kid] for kid in sorted(keys)])
    return dict(keyset.as_dict(private=False))
