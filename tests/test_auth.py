"""Bearer tokens → Claims: every malformed, forged, stale or revoked token is a 401."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
from pathlib import Path

import pytest
from flask import Flask, request
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from rdap.auth import (
    InvalidToken,
    TokenInQuery,
    TokenVerifier,
    TrustedIssuer,
    authenticate,
    help_conformance,
    load_trusted_issuers,
    reject_token_in_query,
)
from rdap.db import Database
from rdap.oauth import keys, service
from rdap.settings import Settings
from tests.oauth_fixtures import NOW, b64, unsigned

FED_ISS = "https://idp.example.test"


@pytest.fixture
def verifier(settings: Settings, db: Database) -> TokenVerifier:
    return TokenVerifier.from_settings(settings, db)


@pytest.fixture
def requester(make_client) -> str:
    client_id, _ = make_client("requester", purposes=("legalActions", "dnsTransparency"))
    return client_id


def _auth(token: str, verifier: TokenVerifier, now: dt.datetime = NOW):
    return authenticate(f"Bearer {token}", verifier=verifier, now=now)


def test_no_header_is_the_public_view(verifier):
    assert authenticate(None, verifier=verifier, now=NOW) is None
    assert authenticate("", verifier=verifier, now=NOW) is None


def test_a_good_token_gives_its_claims(verifier, sign_token, requester):
    claims = _auth(sign_token(requester), verifier)
    assert claims is not None
    assert claims.client_id == requester
    assert claims.subject == requester
    assert claims.role == "requester"
    assert claims.purposes == {"legalActions"}
    assert claims.do_not_track is False


def test_tokens_from_the_token_endpoint_verify(app, verifier, make_client, token_for):
    claims = authenticate(
        f"Bearer {token_for(*make_client())}", verifier=verifier, now=dt.datetime.now(dt.UTC)
    )
    assert claims is not None


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer   ",
        "Basic dXNlcjpwYXNz",
        "Bearer a b",
        "Bearer not-a-jwt",
        "Bearer a.b",
        "Bearer !!!.???.###",
        "Token abc.def.ghi",
    ],
)
def test_malformed_headers_are_refused(verifier, header):
    with pytest.raises(InvalidToken):
        authenticate(header, verifier=verifier, now=NOW)


def _claims(settings: Settings, client_id: str, **extra: object) -> dict[str, object]:
    issued = int(NOW.timestamp())
    return {
        "iss": settings.effective_oauth_issuer,
        "aud": settings.effective_oauth_audience,
        "sub": client_id,
        "client_id": client_id,
        "iat": issued,
        "nbf": issued,
        "exp": issued + 300,
        "jti": "j-1",
        "rdap_role": "requester",
        "rdap_allowed_purposes": ["legalActions"],
        **extra,
    }


def _kid(db: Database, settings: Settings) -> tuple[str, ECKey]:
    with db.session_scope() as session:
        key = keys.active_signing_key(session, NOW, keys.KeySealer.from_settings(settings))
    assert key.kid
    return key.kid, key


def test_alg_none_is_refused(verifier, settings, db, requester):
    kid, _ = _kid(db, settings)
    header = {"alg": "none", "typ": "at+jwt", "kid": kid}
    with pytest.raises(InvalidToken, match="algorithm"):
        _auth(unsigned(header, _claims(settings, requester), b"x"), verifier)
    with pytest.raises(InvalidToken, match="malformed"):  # the usual empty signature
        _auth(unsigned(header, _claims(settings, requester)), verifier)


def test_hs256_signed_with_our_public_key_is_refused(verifier, settings, db, requester):
    kid, key = _kid(db, settings)
    public_pem = key.as_pem(private=False)
    header = b64(json.dumps({"alg": "HS256", "typ": "at+jwt", "kid": kid}).encode())
    payload = b64(json.dumps(_claims(settings, requester)).encode())
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    with pytest.raises(InvalidToken, match="algorithm"):
        _auth(f"{header}.{payload}.{b64(signature)}", verifier)


def test_signature_by_another_key_is_refused(verifier, settings, db, requester):
    kid, _ = _kid(db, settings)
    attacker = ECKey.generate_key("P-256", parameters={"kid": kid})
    token = jwt.encode(
        {"alg": "ES256", "typ": "at+jwt", "kid": kid}, _claims(settings, requester), attacker
    )
    with pytest.raises(InvalidToken, match="signature"):
        _auth(token, verifier)


def test_expanded_purposes_break_the_signature(verifier, sign_token, requester):
    header, payload, signature = sign_token(requester).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["rdap_allowed_purposes"] = ["legalActions", "criminalInvestigationAndDNSAbuseMitigation"]
    forged = f"{header}.{b64(json.dumps(claims).encode())}.{signature}"
    with pytest.raises(InvalidToken, match="signature"):
        _auth(forged, verifier)


@pytest.mark.parametrize("kid", ["unknown-kid", "../../../etc/passwd", ""])
def test_unknown_or_hostile_kid_is_refused(verifier, sign_token, requester, kid):
    with pytest.raises(InvalidToken, match="key"):
        _auth(sign_token(requester, header={"kid": kid}), verifier)


@pytest.mark.parametrize("kid", [7, None, ["a"]])
def test_non_string_kid_is_refused(verifier, settings, requester, kid):
    header = {"alg": "ES256", "typ": "at+jwt", "kid": kid}
    with pytest.raises(InvalidToken, match="key"):
        _auth(unsigned(header, _claims(settings, requester), b"sig"), verifier)


def test_header_supplied_keys_are_refused(verifier, sign_token, requester):
    with pytest.raises(InvalidToken, match="own key"):
        _auth(sign_token(requester, header={"jku": "https://evil.test/jwks"}), verifier)


def test_other_token_types_are_refused(verifier, sign_token, requester):
    with pytest.raises(InvalidToken, match="access token"):
        _auth(sign_token(requester, header={"typ": "JWT"}), verifier)


@pytest.mark.parametrize(
    ("claim", "value", "match"),
    [
        ("iss", "https://other.test", "issuer"),
        ("aud", "https://another-rdap.test", "aud"),
        ("aud", None, "aud"),
        ("exp", int(NOW.timestamp()) - 61, "expired"),
        ("exp", None, "exp"),
        ("nbf", int(NOW.timestamp()) + 61, "not yet valid"),
        ("iat", int(NOW.timestamp()) + 61, "issued in the future"),
        ("jti", None, "jti"),
        ("sub", None, "sub"),
        ("client_id", None, "claims"),
        ("rdap_allowed_purposes", "legalActions", "rdap_allowed_purposes"),
        ("rdap_dnt_allowed", "yes", "rdap_dnt_allowed"),
    ],
)
def test_bad_claims_are_refused(verifier, sign_token, requester, claim, value, match):
    with pytest.raises(InvalidToken, match=match):
        _auth(sign_token(requester, **{claim: value}), verifier)


def test_clock_skew_within_60_seconds_is_tolerated(verifier, sign_token, requester):
    future = int(NOW.timestamp()) + 59
    assert _auth(sign_token(requester, nbf=future, iat=future), verifier) is not None
    assert _auth(sign_token(requester, exp=int(NOW.timestamp()) - 59), verifier) is not None


def test_a_remembered_signature_still_expires(verifier, sign_token, requester):
    token = sign_token(requester)
    assert _auth(token, verifier) is not None
    assert _auth(token, verifier) is not None  # second use: the signature check is remembered
    expires = NOW + dt.timedelta(seconds=600)
    with pytest.raises(InvalidToken, match="expired"):
        _auth(token, verifier, now=expires)


def test_a_remembered_signature_ends_with_its_key(settings, db, sign_token, requester, monkeypatch):
    verifier = TokenVerifier.from_settings(settings, db)
    token = sign_token(requester)
    assert _auth(token, verifier) is not None
    # The key source no longer has the key (retired past its grace period): refused at once.
    monkeypatch.setattr(verifier._own_keys, "get", lambda kid: None)
    with pytest.raises(InvalidToken, match="unknown signing key"):
        _auth(token, verifier)


def test_only_the_remembered_key_object_counts(settings, db, sign_token, requester):
    verifier = TokenVerifier.from_settings(settings, db)
    token = sign_token(requester)
    assert _auth(token, verifier) is not None
    ((_, claims),) = verifier._verified.values()
    forged = {**claims, "rdap_role": "staff"}
    verifier._verified[token] = (ECKey.generate_key("P-256"), forged)  # some other key's entry
    found = _auth(token, verifier)
    assert found is not None
    assert found.role == "requester"  # checked afresh, not taken


def test_unknown_and_revoked_clients_are_refused(verifier, sign_token, requester, db):
    with pytest.raises(InvalidToken, match="client"):
        _auth(sign_token("rdapd-ghost"), verifier)
    token = sign_token(requester)
    assert _auth(token, verifier) is not None
    with db.session_scope() as session:
        service.revoke_client(session, requester, NOW)
    with pytest.raises(InvalidToken, match="client is not active"):
        _auth(token, verifier)


def test_revocation_reaches_every_instance(settings, db, sign_token, requester):
    """Two Database handles and two verifiers stand for two server instances."""
    other_db = Database(settings.database_url)
    try:
        instance_a = TokenVerifier.from_settings(settings, db)
        instance_b = TokenVerifier.from_settings(settings, other_db)
        token = sign_token(requester)
        assert _auth(token, instance_a) is not None
        assert _auth(token, instance_b) is not None
        claims = _auth(token, instance_a)
        assert claims is not None
        with other_db.session_scope() as session:  # revoked through instance B
            service.revoke_token(
                session, service.IssuedToken(claims.token_id, requester, claims.expires_at)
            )
        with pytest.raises(InvalidToken, match="revoked"):
            _auth(token, instance_a)
        second = sign_token(requester)
        assert _auth(second, instance_a) is not None
        with db.session_scope() as session:  # client revoked through instance A
            service.revoke_client(session, requester, NOW)
        with pytest.raises(InvalidToken, match="client"):
            _auth(second, instance_b)
    finally:
        other_db.dispose()


def test_invalid_token_maps_to_401_with_www_authenticate(verifier):
    app = Flask("t")

    @app.get("/probe")
    def probe():  # type: ignore[no-untyped-def]
        try:
            reject_token_in_query(request.args)
            authenticate(request.headers.get("Authorization"), verifier=verifier, now=NOW)
        except (InvalidToken, TokenInQuery) as exc:
            return (
                {"errorCode": exc.status},
                exc.status,
                {"WWW-Authenticate": exc.www_authenticate()},
            )
        return {"ok": True}

    http = app.test_client()
    assert http.get("/probe").status_code == 200
    response = http.get("/probe", headers={"Authorization": "Bearer x.y.z"})
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="rdap", error="invalid_token", error_description="')
    response = http.get("/probe?access_token=abc")
    assert response.status_code == 400
    assert 'error="invalid_request"' in response.headers["WWW-Authenticate"]


# --- federated issuers (RFC 9560) -------------------------------------------------------------


@pytest.fixture
def idp_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "idp-1", "alg": "RS256", "use": "sig"})


@pytest.fixture
def issuers_file(tmp_path: Path, idp_key: RSAKey) -> Path:
    (tmp_path / "idp-jwks.json").write_text(json.dumps({"keys": [idp_key.as_dict(private=False)]}))
    path = tmp_path / "issuers.toml"
    path.write_text(
        f'[[issuer]]\nissuer = "{FED_ISS}"\naudience = "rdapd-test"\nrole = "law-enforcement"\n'
        'jwks_file = "idp-jwks.json"\nalgorithms = ["RS256"]\n'
        'allowed_purposes = ["criminalInvestigationAndDNSAbuseMitigation", "legalActions"]\n'
    )
    return path


@pytest.fixture
def fed_verifier(settings: Settings, db: Database, issuers_file: Path) -> TokenVerifier:
    return TokenVerifier.from_settings(
        dataclass_replace(settings, trusted_issuers=str(issuers_file)), db
    )


def dataclass_replace(settings: Settings, **changes: object) -> Settings:
    return dataclasses.replace(settings, **changes)  # type: ignore[arg-type]


def _fed_token(key: RSAKey, **extra: object) -> str:
    issued = int(NOW.timestamp())
    claims = {
        "iss": FED_ISS,
        "aud": "rdapd-test",
        "sub": "officer-17",
        "iat": issued,
        "exp": issued + 600,
        "jti": "fed-1",
        "rdap_allowed_purposes": ["criminalInvestigationAndDNSAbuseMitigation", "dnsTransparency"],
        "rdap_dnt_allowed": True,
        **extra,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def test_federated_token_is_accepted_and_mapped(fed_verifier, idp_key):
    claims = _auth(_fed_token(idp_key), fed_verifier)
    assert claims is not None
    assert claims.issuer == FED_ISS
    assert claims.client_id is None
    assert claims.subject == "officer-17"
    assert claims.role == "law-enforcement"
    # dnsTransparency is outside the issuer's configured ceiling.
    assert claims.purposes == {"criminalInvestigationAndDNSAbuseMitigation"}
    assert claims.do_not_track is True


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ({"aud": "another-relying-party"}, "aud"),
        ({"iss": "https://evil-idp.test"}, "issuer"),
        ({"exp": int(NOW.timestamp()) - 120}, "expired"),
        ({"jti": None}, "jti"),
    ],
)
def test_bad_federated_tokens_are_refused(fed_verifier, idp_key, extra, match):
    with pytest.raises(InvalidToken, match=match):
        _auth(_fed_token(idp_key, **extra), fed_verifier)


def test_federated_token_signed_by_another_key_is_refused(fed_verifier):
    impostor = RSAKey.generate_key(2048, parameters={"kid": "idp-1"})
    with pytest.raises(InvalidToken, match="signature"):
        _auth(_fed_token(impostor), fed_verifier)


def test_idp_key_cannot_sign_for_our_issuer(fed_verifier, idp_key, settings, requester):
    token = jwt.encode(
        {"alg": "RS256", "typ": "at+jwt", "kid": "idp-1"}, _claims(settings, requester), idp_key
    )
    with pytest.raises(InvalidToken, match="key"):
        _auth(token, fed_verifier)


def test_trusted_issuer_configuration_is_validated(tmp_path):
    with pytest.raises(ValueError, match="role"):
        TrustedIssuer(issuer=FED_ISS, audience="a", role="registrar", jwks_file=tmp_path)
    with pytest.raises(ValueError, match="asymmetric"):
        TrustedIssuer(FED_ISS, "a", "requester", jwks_file=tmp_path, algorithms=("HS256",))
    with pytest.raises(ValueError, match="exactly one"):
        TrustedIssuer(FED_ISS, "a", "requester")
    path = tmp_path / "issuers.json"
    path.write_text(
        json.dumps(
            {
                "issuer": [
                    {
                        "issuer": FED_ISS + "/",
                        "audience": "a",
                        "role": "staff",
                        "jwks_uri": "https://x/j",
                    }
                ]
            }
        )
    )
    (loaded,) = load_trusted_issuers(path)
    assert loaded.issuer == FED_ISS
    assert loaded.role == "staff"


def test_help_conformance_advertises_farv1(settings, issuers_file):
    values, members = help_conformance(
        dataclass_replace(settings, trusted_issuers=str(issuers_file))
    )
    assert values == ["farv1"]
    config = members["farv1_openidcConfiguration"]
    assert config["dntSupported"] is False
    assert [p["iss"] for p in config["openidcProviders"]] == [
        settings.effective_oauth_issuer,
        FED_ISS,
    ]
    assert help_conformance(dataclass_replace(settings, oauth_enabled=False)) == ([], {})
