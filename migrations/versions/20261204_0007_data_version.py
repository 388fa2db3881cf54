"""data version: a counter every write that changes an answer bumps

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 19:00:00
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rdap.models.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", rdap.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_version")),
    )
    now = dt.datetime.now(dt.UTC)  # versions start at the time in microseconds (data_version.bump)
    op.bulk_insert(
        table, [{"id": 1, "version": int(now.timestamp() * 1_000_000), "changed_at": now}]
    )


def downgrade() -> None:
    op.drop_table("data_version")
