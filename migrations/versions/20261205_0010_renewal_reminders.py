"""renewal reminders: which thresholds have been queued for an accreditation's validity period

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rdap.models.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "disclosure_renewal_reminders",
        sa.Column("accreditation_id", sa.String(length=40), nullable=False),
        sa.Column("valid_until", rdap.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("days", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("queued_at", rdap.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["accreditation_id"],
            ["disclosure_accreditations.id"],
            name=op.f("fk_disclosure_renewal_reminders_accreditation_id_disclosure_accreditations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "accreditation_id", "valid_until", "days", name=op.f("pk_disclosure_renewal_reminders")
        ),
    )


def downgrade() -> None:
    op.drop_table("disclosure_renewal_reminders")
