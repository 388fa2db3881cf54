"""Search columns: each contact's shown name (fn) and name consent, where searches index them.

Entity searches must touch only contacts the caller may see (rdap.visibility). The facts a show
rule reads live on `contacts` (person kind, registrar, consent), the name on its postal infos;
these columns put the name and the consent flag beside the other facts so one index per rule
condition leads straight to visible names. They are derived data: every writer of contacts or
postal infos calls `refresh` in the same transaction (the escrow loader does).
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import ColumnElement, Connection, Table, case, select, update

from rdap import models
from rdap.visibility import consent_values, json_array_has_any

C = cast(Table, models.Contact.__table__)
P = cast(Table, models.PostalInfo.__table__)


def preferred_name() -> ColumnElement[str]:
    """The name a contact's entity shows as fn: its int postal name, else its loc one
    (rdap.records.ContactRecord.preferred_postal)."""
    statement = (
        select(P.c.name)
        .where(P.c.contact_id == C.c.id)
        .order_by(case((P.c.type == "int", 0), else_=1))
        .limit(1)
        .scalar_subquery()
    )
    return statement


def refresh(connection: Connection) -> int:
    """Recompute every contact's search columns; returns the number of contacts."""
    consented = json_array_has_any(
        connection.dialect.name, C.c.publish_consent, consent_values("name")
    )
    values = {C.c.fn: preferred_name(), C.c.consent_name: consented}
    result = connection.execute(update(C).values(values))
    return int(result.rowcount)
