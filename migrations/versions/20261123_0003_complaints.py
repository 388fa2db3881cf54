"""inaccuracy complaints routed to the sponsoring registrar

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 11:43:37
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import rdap.models.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("registrar_id", sa.Integer(), nullable=False),
        sa.Column(
            "fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("reporter_email", sa.String(length=254), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("resolution", sa.String(length=32), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("created_at", rdap.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", rdap.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["registrar_id"], ["registrars.id"], name=op.f("fk_complaints_registrar_id_registrars")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
    )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index("ix_complaints_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_domain"), ["domain"], unique=False)
        batch_op.create_index(
            "ix_complaints_registrar_status_created",
            ["registrar_id", "status", "created_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index("ix_complaints_registrar_status_created")
        batch_op.drop_index(batch_op.f("ix_complaints_domain"))
        batch_op.drop_index("ix_complaints_created_at_id")

    op.drop_table("complaints")
