"""Data version: the counter every write that changes an answer bumps; answer caches key on it.

Writers call `bump()` inside the transaction that changes registry data, so the new version
becomes visible together with the data it versions. Today that is the escrow import. Writes
that change no answer need not bump: OAuth clients and tokens (who asks, not what is answered),
complaints (they change no registration data) and disclosure grants (answers that disclose are
never cached, and a grant that discloses nothing leaves the answer as it was).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, insert, select, update

from rdap.models import DataVersion

_ROW = 1  # the one row


def bump(connection: Connection, now: dt.datetime) -> int:
    """Move the data version on, inside the caller's transaction, and return it.

    The new value is at least the write's time in microseconds, so a version is never handed
    out twice, even by a database that was reset or restored from an older copy."""
    current = connection.scalar(
        select(DataVersion.version).where(DataVersion.id == _ROW).with_for_update()
    )
    version = max((current or 0) + 1, int(now.timestamp() * 1_000_000))
    if current is None:
        connection.execute(insert(DataVersion).values(id=_ROW, version=version, changed_at=now))
    else:
        connection.execute(
            update(DataVersion)
            .where(DataVersion.id == _ROW)
            .values(version=version, changed_at=now)
        )
    return version
