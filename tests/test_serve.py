"""Serving defaults: worker count follows where lookups read from; workers settle their heap."""

from __future__ import annotations

import gc

import pytest

from rdap import serve
from rdap.settings import Settings


@pytest.fixture(autouse=True)
def three_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serve, "available_cpus", lambda: 3)


def test_one_worker_per_cpu_on_sqlite() -> None:
    settings = Settings.from_env({"RDAP_DATABASE_URL": "sqlite:////tmp/x.sqlite3"})
    assert serve.gunicorn_options(settings, "127.0.0.1:1")["workers"] == 3


def test_more_workers_than_cpus_when_lookups_wait_on_a_network_database() -> None:
    networked = {"RDAP_DATABASE_URL": "postgresql+psycopg://rdapd@db/rdapd"}
    assert serve.gunicorn_options(Settings.from_env(networked), "x")["workers"] == 7
    # A PostgreSQL replica for reads counts, whatever the primary is.
    replica = {"RDAP_DATABASE_READ_URL": "postgresql+psycopg://rdapd@replica/rdapd"}
    assert serve.gunicorn_options(Settings.from_env(replica), "x")["workers"] == 7


def test_an_explicit_count_wins() -> None:
    settings = Settings.from_env({"RDAP_WORKERS": "4"})
    assert serve.gunicorn_options(settings, "x")["workers"] == 4


def test_settle_heap_freezes_the_app_and_collects_less_often() -> None:
    before = gc.get_threshold()
    try:
        serve.settle_heap()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == serve.GC_THRESHOLDS
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
