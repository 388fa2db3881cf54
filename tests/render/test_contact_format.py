"""Which contact format an Accept header asks for (RDAP extension signalling, `exts_list`)."""

from __future__ import annotations

import pytest

from rdap import cards
from rdap.render import contact_format
from rdap.render.contact_format import requested


@pytest.mark.parametrize(
    ("accept", "wanted"),
    [
        (None, "jcard"),
        ("application/rdap+json", "jcard"),
        ('application/rdap+json;exts_list="jscontact"', "jscontact"),
        ('application/json, application/rdap+json; exts_list="redacted jscontact"', "jscontact"),
        ("application/rdap+json;exts_list=jscontact", "jscontact"),
        ('Application/RDAP+JSON; EXTS_LIST="jscontact"', "jscontact"),
        ('application/rdap+json;exts_list="jscontactx"', "jcard"),
        ('application/rdap+json;exts_list="fred"', "jcard"),
        ('text/html;exts_list="jscontact"', "jcard"),
        ('application/rdap+json;other="jscontact"', "jcard"),
    ],
)
def test_the_format_is_asked_for_in_the_accept_header(accept: str | None, wanted: str) -> None:
    assert requested(accept) == wanted
    assert wanted in cards.FORMATS


def test_reverse_search_paths_come_from_the_catalogue_in_each_format() -> None:
    from rdap.redaction import load_policy
    from rdap.search import REVERSE_SEARCH_PROPERTIES
    from rdap.settings import PROJECT_ROOT

    mappings = contact_format.property_mappings(
        load_policy(PROJECT_ROOT / "policies"), REVERSE_SEARCH_PROPERTIES
    )
    assert mappings["jcard"] == REVERSE_SEARCH_PROPERTIES
    paths = {m["property"]: m["propertyPath"] for m in mappings["jscontact"]}
    assert paths == {
        "fn": "$.entities[*].jscontact_card.name.full",
        "handle": "$.entities[*].handle",
        "email": "$.entities[*].jscontact_card.emails.email.address",
        "role": "$.entities[*].roles",
    }
