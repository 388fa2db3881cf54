"""full deposits replace their own TLD; complaints refer to registry objects by stable values

Registrars, contacts and hosts keep the set of TLDs whose latest deposit holds them
(registrar_tlds, contact_tlds, host_tlds); IDN tables and non-delegated names carry their TLD.
Existing objects are taken to be held by every TLD loaded so far (before this revision an
import replaced everything, so that is one TLD).

Complaints no longer refer to registrars.id: they keep the registrar's EPP client id and IANA
ID and the domain's ROID, so that no complaint blocks a deposit. Downgrading drops complaints
whose registrar is no longer in the registry (0003 cannot hold them) and, where several TLDs
reference an IDN table of the same id, all but the first.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MEMBERSHIPS = (
    ("registrar_tlds", "registrar_id", "registrars"),
    ("contact_tlds", "contact_id", "contacts"),
    ("host_tlds", "host_id", "hosts"),
)


def _loaded_tlds(conn: sa.Connection) -> list[str]:
    names = conn.execute(sa.text("SELECT name FROM tlds ORDER BY name")).scalars().all()
    if not names:
        names = (
            conn.execute(sa.text("SELECT DISTINCT tld FROM domains ORDER BY tld")).scalars().all()
        )
    return [str(name) for name in names]


def upgrade() -> None:
    conn = op.get_bind()
    tlds = _loaded_tlds(conn)

    for table, column, parent in MEMBERSHIPS:
        op.create_table(
            table,
            sa.Column(column, sa.Integer(), nullable=False),
            sa.Column("tld", sa.String(length=63), nullable=False),
            sa.ForeignKeyConstraint(
                [column],
                [f"{parent}.id"],
                name=op.f(f"fk_{table}_{column}_{parent}"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint(column, "tld", name=op.f(f"pk_{table}")),
        )
        for tld in tlds:
            conn.execute(
                sa.text(f"INSERT INTO {table} ({column}, tld) SELECT id, :tld FROM {parent}"),  # noqa: S608 - names are constants
                {"tld": tld},
            )

    # IDN tables: one set per TLD.
    with op.batch_alter_table("idn_tables", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tld", sa.String(length=63), nullable=True))
    conn.execute(sa.text("UPDATE idn_tables SET tld = :tld"), {"tld": tlds[0] if tlds else ""})
    with op.batch_alter_table("idn_tables", schema=None) as batch_op:
        batch_op.alter_column("tld", existing_type=sa.String(length=63), nullable=False)
        batch_op.drop_constraint(batch_op.f("uq_idn_tables_table_id"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_idn_tables_tld"), ["tld", "table_id"])

    # Non-delegated names: the TLD is the name's last label.
    with op.batch_alter_table("non_delegated_names", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tld", sa.String(length=63), nullable=True))
    rows = conn.execute(sa.text("SELECT id, ldh_name FROM non_delegated_names")).all()
    if rows:
        conn.execute(
            sa.text("UPDATE non_delegated_names SET tld = :tld WHERE id = :id"),
            [{"id": row.id, "tld": row.ldh_name.rsplit(".", 1)[-1]} for row in rows],
        )
    with op.batch_alter_table("non_delegated_names", schema=None) as batch_op:
        batch_op.alter_column("tld", existing_type=sa.String(length=63), nullable=False)
        batch_op.create_index(batch_op.f("ix_non_delegated_names_tld"), ["tld"], unique=False)

    # Complaints: stable values instead of a foreign key into the registrars table.
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("domain_roid", sa.String(length=89), nullable=True))
        batch_op.add_column(sa.Column("registrar_client_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("registrar_iana_id", sa.Integer(), nullable=True))
    conn.execute(
        sa.text(
            "UPDATE complaints SET"
            " registrar_client_id = (SELECT r.client_id FROM registrars r"
            "  WHERE r.id = complaints.registrar_id),"
            " registrar_iana_id = (SELECT r.iana_id FROM registrars r"
            "  WHERE r.id = complaints.registrar_id),"
            " domain_roid = (SELECT d.roid FROM domains d WHERE d.ldh_name = complaints.domain)"
        )
    )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index("ix_complaints_registrar_status_created")
        batch_op.drop_constraint(
            batch_op.f("fk_complaints_registrar_id_registrars"), type_="foreignkey"
        )
        batch_op.drop_column("registrar_id")
        batch_op.alter_column(
            "registrar_client_id", existing_type=sa.String(length=32), nullable=False
        )
        batch_op.create_index(
            "ix_complaints_registrar_status_created",
            ["registrar_client_id", "status", "created_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    conn = op.get_bind()

    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("registrar_id", sa.Integer(), nullable=True))
    conn.execute(
        sa.text(
            "UPDATE complaints SET registrar_id = (SELECT r.id FROM registrars r"
            " WHERE r.client_id = complaints.registrar_client_id)"
        )
    )
    conn.execute(sa.text("DELETE FROM complaints WHERE registrar_id IS NULL"))
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index("ix_complaints_registrar_status_created")
        batch_op.alter_column("registrar_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_complaints_registrar_id_registrars"),
            "registrars",
            ["registrar_id"],
            ["id"],
        )
        batch_op.drop_column("registrar_iana_id")
        batch_op.drop_column("registrar_client_id")
        batch_op.drop_column("domain_roid")
        batch_op.create_index(
            "ix_complaints_registrar_status_created",
            ["registrar_id", "status", "created_at", "id"],
            unique=False,
        )

    with op.batch_alter_table("non_delegated_names", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_non_delegated_names_tld"))
        batch_op.drop_column("tld")

    conn.execute(
        sa.text(
            "DELETE FROM idn_tables WHERE id NOT IN"
            " (SELECT MIN(id) FROM idn_tables GROUP BY table_id)"
        )
    )
    with op.batch_alter_table("idn_tables", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_idn_tables_tld"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_idn_tables_table_id"), ["table_id"])
        batch_op.drop_column("tld")

    for table, _column, _parent in reversed(MEMBERSHIPS):
        op.drop_table(table)
