"""Instance files: the server secret, generated once under instance/ when not configured."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from rdap.settings import Settings

SECRET_FILE = "secret_key"  # noqa: S105 - a file name, not a secret


def server_secret(settings: Settings) -> bytes:
    """RDAP_SECRET_KEY, or a random key kept in instance/secret_key (0600).

    Several servers behind one load balancer must share RDAP_SECRET_KEY (cursors signed by one
    are checked by another); the generated file suits a single host.
    """
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.instance_path / SECRET_FILE
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
