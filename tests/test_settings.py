"""Settings come from RDAP_* variables, default to something runnable, and reject typos."""

from __future__ import annotations

from pathlib import Path

import pytest

from rdap.settings import Settings, SettingsError


def test_defaults_run_with_nothing_set() -> None:
    settings = Settings.from_env({})
    assert settings.effective_database_url.startswith("sqlite:///")
    assert settings.effective_database_url.endswith("instance/rdapd.sqlite3")
    assert settings.ratelimit_storage_uri == "memory://"


def test_values_are_converted() -> None:
    settings = Settings.from_env(
        {
            "RDAP_DATABASE_URL": "postgresql://x/y",
            "RDAP_REQUIRE_TLS": "false",
            "RDAP_SEARCH_PAGE_SIZE": "7",
            "RDAP_POLICIES_PATH": "/tmp/p",
            "RDAP_TLDS": "post, example",
            "HOME": "/ignored",
        }
    )
    assert settings.database_url == "postgresql://x/y"
    assert settings.require_tls is False
    assert settings.search_page_size == 7
    assert settings.policies_path == Path("/tmp/p")
    assert settings.tlds == ("post", "example")


def test_unknown_variable_is_an_error() -> None:
    with pytest.raises(SettingsError, match="RDAP_DATABSE_URL"):
        Settings.from_env({"RDAP_DATABSE_URL": "sqlite://"})


@pytest.mark.parametrize(
    ("key", "value"), [("RDAP_SEARCH_PAGE_SIZE", "many"), ("RDAP_REQUIRE_TLS", "maybe")]
)
def test_malformed_value_is_an_error(key: str, value: str) -> None:
    with pytest.raises(SettingsError, match=key):
        Settings.from_env({key: value})
