"""Signing keys at rest: the database alone cannot mint tokens; old plaintext keys rotated out."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import secrets
import stat

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy import select, text

from rdap import create_app, migrate
from rdap.auth import authenticate
from rdap.db import Database
from rdap.instance import KEY_ENCRYPTION_FILE
from rdap.models import SigningKey
from rdap.oauth import keys
from rdap.settings import SettingsError
from rdap.views.oauth import oauth_state
from tests.conftest import clear_tables, reset_schema
from tests.oauth_fixtures import basic

TOKEN = {"grant_type": "client_credentials"}


def _rows(db: Database) -> list[dict[str, object]]:
    with db.engine.connect() as connection:
        return [
            dict(r) for r in connection.execute(text("SELECT * FROM oauth_signing_keys")).mappings()
        ]


def test_the_database_holds_no_private_key(client, make_client, db, settings):
    response = client.post("/oauth/token", data=TOKEN, headers=basic(*make_client()))
    assert response.status_code == 200
    rows = _rows(db)
    assert len(rows) == 1
    with db.session_scope() as session:
        private = keys.active_signing_key(
            session, dt.datetime.now(dt.UTC), keys.KeySealer.from_settings(settings)
        ).as_dict(private=True)
    stored = json.dumps(rows[0], default=str)
    assert private["d"] not in stored  # the private scalar appears nowhere in the row
    assert not any(
        isinstance(value, str) and value.startswith("{") and "d" in json.loads(value)
        for value in rows[0].values()
    )
    # The key that opens it is in the instance folder, not in the database.
    kek = (settings.instance_path / KEY_ENCRYPTION_FILE).read_bytes()
    assert stat.S_IMODE((settings.instance_path / KEY_ENCRYPTION_FILE).stat().st_mode) == 0o600
    assert kek.decode() not in stored


def test_another_key_encryption_key_cannot_sign(app, settings, db, make_client, tmp_path):
    first = app.test_client().post("/oauth/token", data=TOKEN, headers=basic(*make_client()))
    assert first.status_code == 200
    stranger = create_app(dataclasses.replace(settings, instance_path=tmp_path / "elsewhere"))
    response = stranger.test_client().post(
        "/oauth/token", data=TOKEN, headers=basic(*make_client())
    )
    assert response.status_code == 503
    assert response.get_json()["errorCode"] == 503
    assert len(_rows(db)) == 1  # nothing overwritten or added
    jwks = stranger.test_client().get("/oauth/jwks")  # public keys need no decryption
    assert jwks.status_code == 200
    assert [k["kid"] for k in jwks.get_json()["keys"]] == [_rows(db)[0]["kid"]]


def test_servers_sharing_the_key_encryption_key_share_the_signing_key(
    settings, db, make_client, tmp_path
):
    shared = secrets.token_hex(32)
    a, b = (
        create_app(
            dataclasses.replace(settings, instance_path=tmp_path / name, key_encryption_key=shared)
        )
        for name in ("a", "b")
    )
    token = a.test_client().post("/oauth/token", data=TOKEN, headers=basic(*make_client()))
    assert token.status_code == 200
    again = b.test_client().post("/oauth/token", data=TOKEN, headers=basic(*make_client()))
    assert again.status_code == 200
    now = dt.datetime.now(dt.UTC)
    for app, access in ((b, token), (a, again)):
        claims = authenticate(
            "Bearer " + access.get_json()["access_token"],
            verifier=oauth_state(app).verifier,
            now=now,
        )
        assert claims is not None
    assert len(_rows(db)) == 1


def test_a_sealed_key_opens_only_for_its_kid_and_its_key():
    sealer = keys.KeySealer(b"x" * 32)
    sealed = sealer.seal("kid-1", '{"kty": "EC"}')
    assert sealer.open("kid-1", sealed) == '{"kty": "EC"}'
    with pytest.raises(keys.KeyUnavailable, match="altered"):
        sealer.open("kid-2", sealed)  # moved to another row
    version, fingerprint, nonce, body = sealed.split(".")
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(keys.KeyUnavailable, match="altered"):
        sealer.open("kid-1", ".".join((version, fingerprint, nonce, flipped)))
    with pytest.raises(keys.KeyUnavailable, match="another key-encryption key"):
        keys.KeySealer(b"y" * 32).open("kid-1", sealed)
    with pytest.raises(keys.KeyUnavailable, match="known form"):
        sealer.open("kid-1", '{"kty": "EC", "d": "..."}')


def test_a_short_key_encryption_key_is_refused(settings):
    with pytest.raises(SettingsError, match="RDAP_KEY_ENCRYPTION_KEY"):
        create_app(dataclasses.replace(settings, key_encryption_key="too-short"))


def test_upgrade_rotates_plaintext_keys_out(database_url, settings):
    """A database from before sealing: its key stays published (its tokens verify until they
    expire) without its private half, and the next token is signed by a new, sealed key."""
    reset_schema(database_url)
    migrate.upgrade(database_url, "0003")
    old = ECKey.generate_key("P-256", parameters={"kid": "20261101-old", "alg": "ES256"})
    now = dt.datetime.now(dt.UTC)
    database = Database(database_url)
    sqlite = database.engine.dialect.name == "sqlite"
    try:
        with database.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO oauth_signing_keys (kid, private_jwk, created_at)"
                    " VALUES (:kid, :jwk, :at)"
                ),
                {
                    "kid": "20261101-old",
                    "jwk": json.dumps(old.as_dict(private=True)),
                    "at": now.replace(tzinfo=None) if sqlite else now,
                },
            )
        issued = int(now.timestamp())
        claims = {
            "iss": settings.effective_oauth_issuer,
            "aud": settings.effective_oauth_audience,
            "sub": "c",
            "client_id": "c",
            "iat": issued,
            "nbf": issued,
            "exp": issued + 300,
            "jti": "before-upgrade",
        }
        before = jwt.encode({"alg": "ES256", "typ": "at+jwt", "kid": "20261101-old"}, claims, old)
        migrate.upgrade(database_url)
        with database.session_scope() as session:
            (row,) = session.scalars(select(SigningKey)).all()
            assert row.sealed_private_jwk is None
            assert row.retired_at is not None
            assert "d" not in json.loads(row.public_jwk)
            published = keys.public_keys(session, dt.datetime.now(dt.UTC), 600)
            assert set(published) == {"20261101-old"}
        assert jwt.decode(before, published["20261101-old"]).claims["jti"] == "before-upgrade"
        with database.session_scope() as session:
            sealer = keys.KeySealer(b"k" * 32)
            new = keys.active_signing_key(session, dt.datetime.now(dt.UTC), sealer)
            assert new.kid != "20261101-old"
    finally:
        clear_tables(database)
        database.dispose()
