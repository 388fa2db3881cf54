"""The service profile's [whois] table: what port-43 answers say besides the data."""

from __future__ import annotations

from pathlib import Path

import pytest

from rdap.profile import ProfileError, WhoisProfile, load_profile
from rdap.settings import Settings

MINIMAL = '[conformance]\nvalues = ["rdap_level_0"]\n'


def _load(tmp_path: Path, text: str) -> WhoisProfile:
    path = tmp_path / "service.toml"
    path.write_text(text + MINIMAL, encoding="utf-8")
    return load_profile(path).whois


def test_the_shipped_profile_speaks_icanns_format() -> None:
    whois = load_profile(Settings().service_file).whois
    assert whois.placeholder == "REDACTED FOR PRIVACY"
    assert whois.status_url == "https://icann.org/epp#{status}"
    assert whois.inaccuracy_form_url == "https://www.icann.org/wicf/"
    assert whois.terms_of_use


def test_without_a_whois_table_the_defaults_are_neutral(tmp_path: Path) -> None:
    assert _load(tmp_path, "") == WhoisProfile()
    assert WhoisProfile().placeholder == "REDACTED FOR PRIVACY"
    assert not WhoisProfile().inaccuracy_form_url


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[whois]\nplaceholder = ""\n', "placeholder must not be empty"),
        ("[whois]\nplaceholder = 1\n", "placeholder must be a string"),
        ('[whois]\nterms_of_use = "one line"\n', "terms_of_use"),
        ('[whois]\nfooter = ["x"]\n', "unknown keys"),
        ('whois = "x"\n', "must be a table"),
    ],
)
def test_a_bad_whois_table_stops_the_service(tmp_path: Path, table: str, message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        _load(tmp_path, table)
