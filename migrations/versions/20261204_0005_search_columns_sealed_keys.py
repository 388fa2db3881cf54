"""contacts: search columns and indexes; signing keys sealed at rest

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 10:00:00

Contacts get the columns entity searches filter on (rdap.search_columns): `fn`, the name the
entity shows, and `consent_name`, with one index per show-rule condition, filled here from the
rows already loaded.

Signing keys keep their public JWK in the clear and their private JWK only sealed under the
key-encryption key (rdap.oauth.keys), which a migration does not hold. So the plaintext keys
are rotated out, not converted: each keeps its public half (tokens it signed verify until they
expire), loses its private half, and is retired now; the next token request makes a sealed key.
Downgrading deletes every signing key (sealed ones cannot be made plaintext); the old code then
makes a new one, and tokens issued before stop verifying.
"""

import datetime as dt
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import rdap.models.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEARCH_INDEXES = {
    "ix_contacts_fn": ["fn"],
    "ix_contacts_person_kind_fn": ["person_kind", "fn"],
    "ix_contacts_registrar_id_fn": ["registrar_id", "fn"],
    "ix_contacts_consent_name_fn": ["consent_name", "fn"],
    "ix_contacts_person_kind_handle": ["person_kind", "handle"],
    "ix_contacts_registrar_id_handle": ["registrar_id", "handle"],
}


def upgrade() -> None:
    # Plain ALTER TABLE ... ADD COLUMN and CREATE INDEX, not batch mode: SQLite adds both in
    # place, where a batch copy would drop `contacts` under its foreign keys.
    op.add_column(
        "contacts",
        sa.Column(
            "fn",
            sa.String(length=255).with_variant(sa.String(length=255, collation="C"), "postgresql"),
            nullable=True,
        ),
    )
    op.add_column(
        "contacts",
        sa.Column("consent_name", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    for name, columns in _SEARCH_INDEXES.items():
        op.create_index(name, "contacts", columns, unique=False)
    op.create_index("ix_contacts_email_lower", "contacts", [sa.text("lower(email)")], unique=False)
    _fill_search_columns()
    _rotate_out_plaintext_signing_keys()


def _fill_search_columns() -> None:
    """What rdap.search_columns.refresh() computes, for the contacts already loaded."""
    contacts = sa.table(
        "contacts",
        sa.column("id", sa.Integer),
        sa.column("publish_consent", sa.JSON),
        sa.column("fn", sa.String),
        sa.column("consent_name", sa.Boolean),
    )
    postal = sa.table(
        "contact_postal_infos",
        sa.column("contact_id", sa.Integer),
        sa.column("type", sa.String),
        sa.column("name", sa.String),
    )
    name = (
        sa.select(postal.c.name)
        .where(postal.c.contact_id == contacts.c.id)
        .order_by(sa.case((postal.c.type == "int", 0), else_=1))
        .limit(1)
        .scalar_subquery()
    )
    if op.get_bind().dialect.name == "postgresql":
        consented = sa.type_coerce(contacts.c.publish_consent, postgresql.JSONB).has_key("name")
    else:
        each = sa.func.json_each(contacts.c.publish_consent).table_valued("value")
        consented = sa.exists(
            sa.select(sa.literal(1)).select_from(each).where(each.c.value == "name")
        )
    op.execute(contacts.update().values({contacts.c.fn: name, contacts.c.consent_name: consented}))


def _rotate_out_plaintext_signing_keys() -> None:
    op.add_column("oauth_signing_keys", sa.Column("public_jwk", sa.Text(), nullable=True))
    op.add_column("oauth_signing_keys", sa.Column("sealed_private_jwk", sa.Text(), nullable=True))
    keys = sa.table(
        "oauth_signing_keys",
        sa.column("kid", sa.String),
        sa.column("private_jwk", sa.Text),
        sa.column("public_jwk", sa.Text),
        sa.column("retired_at", rdap.models.base.UtcDateTime(timezone=True)),
    )
    bind = op.get_bind()
    now = dt.datetime.now(dt.UTC)
    for kid, private, retired_at in bind.execute(
        sa.select(keys.c.kid, keys.c.private_jwk, keys.c.retired_at)
    ).all():
        public = {k: v for k, v in json.loads(private).items() if k != "d"}
        bind.execute(
            keys.update()
            .where(keys.c.kid == kid)
            .values(public_jwk=json.dumps(public), retired_at=retired_at or now)
        )
    # A batch copy is safe here: no foreign key refers to this table.
    with op.batch_alter_table("oauth_signing_keys", schema=None) as batch_op:
        batch_op.drop_column("private_jwk")
        batch_op.alter_column("public_jwk", existing_type=sa.Text(), nullable=False)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM oauth_signing_keys"))
    with op.batch_alter_table("oauth_signing_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("private_jwk", sa.Text(), nullable=False))
        batch_op.drop_column("sealed_private_jwk")
        batch_op.drop_column("public_jwk")

    op.drop_index("ix_contacts_email_lower", table_name="contacts")
    for name in _SEARCH_INDEXES:
        op.drop_index(name, table_name="contacts")
    # SQLite 3.35+ drops a column in place (no batch copy under the foreign keys).
    op.drop_column("contacts", "consent_name")
    op.drop_column("contacts", "fn")
