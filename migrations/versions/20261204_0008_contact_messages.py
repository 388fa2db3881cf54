"""contact-form messages relayed through the sponsoring registrar

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 23:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rdap.models.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_messages",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("domain_roid", sa.String(length=89), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("registrar_client_id", sa.String(length=32), nullable=False),
        sa.Column("registrar_iana_id", sa.Integer(), nullable=True),
        sa.Column("sender_name", sa.String(length=200), nullable=False),
        sa.Column("sender_email", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", rdap.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("relayed_at", rdap.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_messages")),
    )
    with op.batch_alter_table("contact_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_messages_domain"), ["domain"], unique=False)
        batch_op.create_index(
            "ix_contact_messages_registrar_status_created",
            ["registrar_client_id", "status", "created_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("contact_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_messages_registrar_status_created")
        batch_op.drop_index(batch_op.f("ix_contact_messages_domain"))
    op.drop_table("contact_messages")
