"""OAuth clients, their signing keys and the revoked-token deny-list of the built-in server."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rdap.db import Base
from rdap.models.base import Json, UtcDateTime

ACTIVE = "active"
REVOKED = "revoked"
CLIENT_ROLES = ("registrar", "requester", "law-enforcement", "staff")


class OAuthClient(Base):
    """A machine client (RFC 6749 §4.4). Only a salted hash of its secret is stored."""

    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    # "scrypt$n$r$p$<salt b64>$<hash b64>"; never the secret itself.
    secret_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    # Database id of the registrar a registrar-role client acts for.
    registrar_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("registrars.id", ondelete="SET NULL"), index=True
    )
    # RFC 9560 purpose values this client may state.
    allowed_purposes: Mapped[list[str]] = mapped_column(Json, default=list)
    urgent_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class RevokedToken(Base):
    """A revoked access token (RFC 7009), kept until it would have expired anyway."""

    __tablename__ = "oauth_revoked_tokens"

    jti: Mapped[str] = mapped_column(String(128), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)


class SigningKey(Base):
    """A token signing key shared by every server process; retired keys stay published a while.

    The private JWK is stored sealed (rdap.oauth.keys.KeySealer: AES-256-GCM under the
    key-encryption key, which is never in the database); the public JWK in the clear."""

    __tablename__ = "oauth_signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_jwk: Mapped[str] = mapped_column(Text)
    # "v1.<key fingerprint>.<nonce>.<ciphertext>"; NULL for keys whose private half was erased
    # (plaintext keys from before sealing: retired by migration 0005, published until expiry).
    sealed_private_jwk: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    retired_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
