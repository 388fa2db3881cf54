"""Instance files: server secrets, each generated once under instance/ when not configured."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from rdap.settings import Settings, SettingsError

SECRET_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
KEY_ENCRYPTION_FILE = "key_encryption_key"
# A configured key-encryption key must be at least this long (32 random characters).
MIN_KEY_ENCRYPTION_KEY = 32


def server_secret(settings: Settings) -> bytes:
    """RDAP_SECRET_KEY, or a random key kept in instance/secret_key (0600).

    Several servers behind one load balancer must share RDAP_SECRET_KEY (cursors signed by one
    are checked by another); the generated file suits a single host.
    """
    if settings.secret_key:
        return settings.secret_key.encode()
    return _generated(settings, SECRET_FILE)


def key_encryption_key(settings: Settings) -> bytes:
    """RDAP_KEY_ENCRYPTION_KEY, or a random key kept in instance/key_encryption_key (0600): it
    encrypts the token signing keys in the database and must never be stored there.

    Every server that shares the database needs the same key (set RDAP_KEY_ENCRYPTION_KEY);
    losing it loses the signing keys, whose tokens then stop verifying (new ones are made by
    `rdap.oauth.keys.rotate`)."""
    if settings.key_encryption_key:
        if len(settings.key_encryption_key) < MIN_KEY_ENCRYPTION_KEY:
            raise SettingsError(
                f"RDAP_KEY_ENCRYPTION_KEY: needs at least {MIN_KEY_ENCRYPTION_KEY} characters"
                " (for example `python3 -c 'import secrets; print(secrets.token_hex(32))'`)"
            )
        return settings.key_encryption_key.encode()
    return _generated(settings, KEY_ENCRYPTION_FILE)


def _generated(settings: Settings, name: str) -> bytes:
    """The key in instance/<name>, created (0600, 256 random bits) by the first caller."""
    path = settings.instance_path / name
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker created it first
        return Path(path).read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key
