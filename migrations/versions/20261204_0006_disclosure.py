"""disclosure: accreditations, requests, grants, hash-chained audit log, notification outbox

Requests, grants and audit entries name domains by ldh name and ROID, never by a foreign key
into the registry tables, so a full deposit import is never blocked by them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 19:34:42.377742
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import rdap.models.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("ts", rdap.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("actor_role", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("token_id", sa.String(length=128), nullable=True),
        sa.Column("accreditation_id", sa.String(length=40), nullable=True),
        sa.Column("request_id", sa.String(length=36), nullable=True),
        sa.Column("grant_id", sa.String(length=36), nullable=True),
        sa.Column("domain", sa.String(length=253), nullable=True),
        sa.Column("purpose", sa.String(length=64), nullable=True),
        sa.Column(
            "elements",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("policy_revision", sa.String(length=255), nullable=True),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_entries")),
        sa.UniqueConstraint("entry_hash", name=op.f("uq_audit_entries_entry_hash")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_audit_entries_prev_hash")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entries_domain"), ["domain"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_entries_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_entries_ts"), ["ts"], unique=False)

    op.create_table(
        "disclosure_organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("name_key", sa.String(length=255), nullable=False),
        sa.Column("created_at", rdap.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_organisations")),
        sa.UniqueConstraint("name_key", name=op.f("uq_disclosure_organisations_name_key")),
    )
    op.create_table(
        "disclosure_accreditations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("org_type", sa.String(length=32), nullable=False),
        sa.Column("jurisdiction", sa.String(length=2), nullable=False),
        sa.Column(
            "purposes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("verification_method", sa.String(length=32), nullable=False),
        sa.Column("verification_ref", sa.String(length=255), nullable=True),
        sa.Column("verified_by", sa.String(length=255), nullable=False),
        sa.Column("verified_at", rdap.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("valid_from", rdap.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", rdap.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("status_changed_at", rdap.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_at", rdap.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["disclosure_organisations.id"],
            name=op.f("fk_disclosure_accreditations_organisation_id_disclosure_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_accreditations")),
    )
    with op.batch_alter_table("disclosure_accreditations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_disclosure_accreditations_organisation_id"),
            ["organisation_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_disclosure_accreditations_status_valid", ["status", "valid_until"], unique=False
        )

    op.create_table(
        "disclosure_clients",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("accreditation_id", sa.String(length=40), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("created_at", rdap.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["accreditation_id"],
            ["disclosure_accreditations.id"],
            name=op.f("fk_disclosure_clients_accreditation_id_disclosure_accreditations"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oauth_clients.client_id"],
            name=op.f("fk_disclosure_clients_client_id_oauth_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["disclosure_organisations.id"],
            name=op.f("fk_disclosure_clients_organisation_id_disclosure_organisations"),
        ),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_disclosure_clients")),
    )
    with op.batch_alter_table("disclosure_clients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_disclosure_clients_accreditation_id"), ["accreditation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_disclosure_clients_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "disclosure_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("accreditation_id", sa.String(length=40), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("requester_role", sa.String(length=32), nullable=False),
        sa.Column("requester_type", sa.String(length=32), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("domain_roid", sa.String(length=89), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column(
            "data_elements",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("urgent_justification", sa.Text(), nullable=True),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("tlp", sa.String(length=20), nullable=False),
        sa.Column("good_faith_affirmation", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("received_at", rdap.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", rdap.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("due_at", rdap.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("paused_since", rdap.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("overdue_at", rdap.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decided_at", rdap.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decision_rationale", sa.Text(), nullable=True),
        sa.Column(
            "balancing_test",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("closed_at", rdap.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("downgraded", sa.Boolean(), nullable=False),
        sa.Column("duplicate_of", sa.String(length=36), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["accreditation_id"],
            ["disclosure_accreditations.id"],
            name=op.f("fk_disclosure_requests_accreditation_id_disclosure_accreditations"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oauth_clients.client_id"],
            name=op.f("fk_disclosure_requests_client_id_oauth_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["disclosure_organisations.id"],
            name=op.f("fk_disclosure_requests_organisation_id_disclosure_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_requests")),
    )
    with op.batch_alter_table("disclosure_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_disclosure_requests_accreditation_id"),
            ["accreditation_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_disclosure_requests_client_received",
            ["client_id", "received_at", "id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_disclosure_requests_domain"), ["domain"], unique=False)
        batch_op.create_index(
            "ix_disclosure_requests_received", ["received_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_disclosure_requests_status_due", ["status", "due_at"], unique=False
        )
        batch_op.create_index(
            "ix_disclosure_requests_status_received", ["status", "received_at", "id"], unique=False
        )

    op.create_table(
        "disclosure_grants",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("accreditation_id", sa.String(length=40), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("domain_roid", sa.String(length=89), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column(
            "elements",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("valid_from", rdap.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", rdap.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", rdap.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["accreditation_id"],
            ["disclosure_accreditations.id"],
            name=op.f("fk_disclosure_grants_accreditation_id_disclosure_accreditations"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["disclosure_requests.id"],
            name=op.f("fk_disclosure_grants_request_id_disclosure_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_grants")),
    )
    with op.batch_alter_table("disclosure_grants", schema=None) as batch_op:
        batch_op.create_index(
            "ix_disclosure_grants_lookup", ["client_id", "domain", "purpose"], unique=False
        )
        batch_op.create_index(
            "ix_disclosure_grants_open_until", ["ended_at", "valid_until"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_disclosure_grants_request_id"), ["request_id"], unique=True
        )

    op.create_table(
        "disclosure_request_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("at", rdap.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("actor_role", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("audit_seq", sa.BigInteger(), nullable=False),
        sa.Column("audit_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["disclosure_requests.id"],
            name=op.f("fk_disclosure_request_events_request_id_disclosure_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_request_events")),
    )
    with op.batch_alter_table("disclosure_request_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_disclosure_request_events_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "disclosure_request_reasons",
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["disclosure_requests.id"],
            name=op.f("fk_disclosure_request_reasons_request_id_disclosure_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", "code", name=op.f("pk_disclosure_request_reasons")),
    )
    with op.batch_alter_table("disclosure_request_reasons", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_disclosure_request_reasons_code"), ["code"], unique=False
        )

    op.create_table(
        "disclosure_sla_pauses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("started_at", rdap.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", rdap.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["disclosure_requests.id"],
            name=op.f("fk_disclosure_sla_pauses_request_id_disclosure_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_sla_pauses")),
    )
    with op.batch_alter_table("disclosure_sla_pauses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_disclosure_sla_pauses_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "disclosure_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", rdap.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=True),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", rdap.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.Column("sent_at", rdap.models.base.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_notifications")),
    )
    with op.batch_alter_table("disclosure_notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_disclosure_notifications_due", ["status", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("disclosure_notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_disclosure_notifications_due")

    op.drop_table("disclosure_notifications")
    with op.batch_alter_table("disclosure_sla_pauses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disclosure_sla_pauses_request_id"))

    op.drop_table("disclosure_sla_pauses")
    with op.batch_alter_table("disclosure_request_reasons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disclosure_request_reasons_code"))

    op.drop_table("disclosure_request_reasons")
    with op.batch_alter_table("disclosure_request_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disclosure_request_events_request_id"))

    op.drop_table("disclosure_request_events")
    with op.batch_alter_table("disclosure_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disclosure_grants_request_id"))
        batch_op.drop_index("ix_disclosure_grants_open_until")
        batch_op.drop_index("ix_disclosure_grants_lookup")

    op.drop_table("disclosure_grants")
    with op.batch_alter_table("disclosure_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_disclosure_requests_status_received")
        batch_op.drop_index("ix_disclosure_requests_status_due")
        batch_op.drop_index("ix_disclosure_requests_received")
        batch_op.drop_index(batch_op.f("ix_disclosure_requests_domain"))
        batch_op.drop_index("ix_disclosure_requests_client_received")
        batch_op.drop_index(batch_op.f("ix_disclosure_requests_accreditation_id"))

    op.drop_table("disclosure_requests")
    with op.batch_alter_table("disclosure_clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disclosure_clients_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_disclosure_clients_accreditation_id"))

    op.drop_table("disclosure_clients")
    with op.batch_alter_table("disclosure_accreditations", schema=None) as batch_op:
        batch_op.drop_index("ix_disclosure_accreditations_status_valid")
        batch_op.drop_index(batch_op.f("ix_disclosure_accreditations_organisation_id"))

    op.drop_table("disclosure_accreditations")
    op.drop_table("disclosure_organisations")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entries_ts"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_request_id"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_domain"))

    op.drop_table("audit_entries")
