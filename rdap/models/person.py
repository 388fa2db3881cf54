"""People who sign in to the web pages (requesters of an accredited organisation, registry
staff), and the authorization codes the built-in server issues to the web pages for them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from rdap.db import Base
from rdap.models.base import UtcDateTime

ACTIVE = "active"
DISABLED = "disabled"


class Person(Base):
    """A person's account. It acts through its own OAuth client (`client_id`): the role, the
    accreditation binding and revocation of that client are the person's, so every service
    and audit entry sees one identity whether the person uses the API or the web pages."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Case-folded login name (an email address, as a rule); unique.
    username: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_clients.client_id"), unique=True, index=True
    )
    # scrypt$n$r$p$salt$digest (rdap.people)
    password_hash: Mapped[str] = mapped_column(String(255))
    # TOTP secret (RFC 6238), sealed under the key-encryption key; required for staff.
    totp_sealed: Mapped[str | None] = mapped_column(String(512))
    # The last TOTP time step accepted: a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class AuthorizationCode(Base):
    """An authorization code (RFC 6749 §4.1) with its PKCE challenge (RFC 7636); used once."""

    __tablename__ = "oauth_authorization_codes"

    # SHA-256 of the code (the code itself is never stored).
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))  # the web pages' client
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(String(1000))
    scope: Mapped[str] = mapped_column(String(255))
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    # How the person proved who they are ("pwd", "pwd otp").
    methods: Mapped[str] = mapped_column(String(32))
    auth_time: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
