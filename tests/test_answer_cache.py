"""Answer cache: answers reach only callers with the same redaction outcome; none that
disclose; the memory budget holds; the shared store is keyed by outcome and fails open."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import uuid
from typing import Any

import pytest

from rdap.answer_cache import (
    Answer,
    AnswerCache,
    AnswerKey,
    RedisAnswers,
    answer_to_keep,
    configuration_fingerprint,
    may_hold_grants,
)
from rdap.document import next_change
from rdap.principal import Grant, Principal
from rdap.redaction import load_policy, redact
from rdap.settings import PROJECT_ROOT
from tests.redaction import sample

POLICY = load_policy(PROJECT_ROOT / "policies")
NOW = sample.NOW.timestamp()

# Every kind of caller: the public, the sponsoring registrar, another registrar, and the roles
# that never sponsor.
CALLERS = {
    "public": Principal(),
    "sponsor": Principal(role="registrar", registrar_id=sample.SPONSOR_ID, client_id="a"),
    "other-registrar": Principal(
        role="registrar", registrar_id=sample.OTHER_REGISTRAR_ID, client_id="b"
    ),
    "requester": Principal(role="requester", client_id="r"),
    "law-enforcement": Principal(role="law-enforcement", client_id="l"),
    "staff": Principal(role="staff", client_id="s"),
}


def key(role: str, version: int = 1, url: str = "/domain/example.post") -> AnswerKey:
    return AnswerKey(
        version=version,
        media_type="application/rdap+json",
        base_url="https://rdap.example",
        request_url="https://rdap.example" + url,
        role=role,
    )


def kept_for(caller: Principal) -> Answer:
    """What the pipeline's answer for `caller` on the sample domain is kept as."""
    document = redact(sample.domain_document(), caller, POLICY, now=sample.NOW)
    body = f"answer for {caller.role}/{caller.registrar_id}".encode()
    answer = answer_to_keep(caller, 200, body, document, NOW)
    assert answer is not None
    return answer


@pytest.mark.parametrize("first", list(CALLERS))
@pytest.mark.parametrize("then", list(CALLERS))
def test_an_answer_reaches_only_callers_with_its_outcome(first: str, then: str) -> None:
    """Every ordered pair of callers: after `first`'s answer is kept, `then` gets it only when
    the pipeline would have given `then` the same outcome (same role; sponsoring alike)."""
    cache = AnswerCache(1 << 20, clock=lambda: NOW)
    kept = kept_for(CALLERS[first])
    cache.put(key(CALLERS[first].role), kept)
    found = cache.get(key(CALLERS[then].role), CALLERS[then])
    if first == then:  # every other pair differs in role or in sponsoring
        assert found == kept
    else:
        assert found is None, f"{first}'s answer reached {then}"


def test_one_registrar_s_foreign_answer_serves_every_other_registrar_but_not_the_sponsor() -> None:
    cache = AnswerCache(1 << 20, clock=lambda: NOW)
    foreign = kept_for(CALLERS["other-registrar"])
    cache.put(key("registrar"), foreign)
    third = Principal(role="registrar", registrar_id=99, client_id="c")
    assert cache.get(key("registrar"), third) == foreign
    assert cache.get(key("registrar"), CALLERS["sponsor"]) is None
    own = kept_for(CALLERS["sponsor"])
    cache.put(key("registrar"), own)
    assert cache.get(key("registrar"), CALLERS["sponsor"]) == own
    assert cache.get(key("registrar"), third) == foreign  # both outcomes kept side by side


def test_answers_built_against_another_sponsor_are_dropped() -> None:
    """Within one version the object moved to another registrar (a write not yet visible):
    answers built against the old sponsor go, so no outcome is decided on stale facts."""
    cache = AnswerCache(1 << 20, clock=lambda: NOW)
    cache.put(key("registrar"), kept_for(CALLERS["sponsor"]))
    moved = Answer(200, b"moved", sponsor_id=42, sponsored=False)
    cache.put(key("registrar"), moved)
    assert cache.get(key("registrar"), CALLERS["sponsor"]) == moved  # no longer its sponsor
    assert cache.get(key("registrar"), Principal(role="registrar", registrar_id=42)) is None


def test_keys_differ_by_version_request_and_format() -> None:
    cache = AnswerCache(1 << 20, clock=lambda: NOW)
    cache.put(key("public"), kept_for(CALLERS["public"]))
    public = CALLERS["public"]
    assert cache.get(key("public"), public) is not None
    assert cache.get(key("public", version=2), public) is None
    assert cache.get(key("public", url="/domain/EXAMPLE.post"), public) is None
    other_base = dataclasses.replace(key("public"), base_url="https://other.example")
    assert cache.get(other_base, public) is None
    other_format = dataclasses.replace(key("public"), media_type="text/plain")
    assert cache.get(other_format, public) is None


def _grant(elements: frozenset[str]) -> Grant:
    return Grant(
        grant_id="g1",
        domain=sample.DOMAIN,
        elements=elements,
        purpose="legalActions",
        expires_at=sample.NOW + dt.timedelta(days=1),
    )


def test_an_answer_that_discloses_is_never_kept() -> None:
    requester = Principal(
        role="requester", client_id="r", grants=(_grant(frozenset({"registrant.email"})),)
    )
    document = redact(sample.domain_document(), requester, POLICY, now=sample.NOW)
    assert document.disclosed  # the grant shows what the role alone does not
    assert answer_to_keep(requester, 200, b"disclosed", document, NOW) is None
    # Nor is anything kept for a caller holding grants, even when this answer disclosed nothing.
    plain = redact(sample.domain_document(), Principal(role="requester"), POLICY, now=sample.NOW)
    assert answer_to_keep(requester, 200, b"x", plain, NOW) is None


def test_callers_with_grants_never_read_kept_answers() -> None:
    cache = AnswerCache(1 << 20, clock=lambda: NOW)
    cache.put(key("requester"), kept_for(CALLERS["requester"]))
    with_grant = dataclasses.replace(
        CALLERS["requester"], grants=(_grant(frozenset({"registrant.email"})),)
    )
    assert cache.get(key("requester"), with_grant) is None


@pytest.mark.parametrize("role", ["requester", "law-enforcement"])
def test_a_caller_who_may_be_granted_for_the_domain_bypasses_the_cache(role: str) -> None:
    """Grants are looked up for the queried domain after the cache was asked: a requester or
    law-enforcement caller stating a purpose reads nothing kept and keeps nothing, although it
    holds no grant yet, so a grant found later can never be shadowed by a kept answer."""
    cache = AnswerCache(1 << 20, clock=lambda: NOW)
    stating = Principal(role=role, client_id="r", purpose="legalActions")
    assert cache.bypassed(stating)
    assert not stating.grants
    plain = kept_for(Principal(role=role, client_id="other"))
    cache.put(key(role), plain)
    assert cache.get(key(role), stating) is None
    document = redact(sample.domain_document(), stating, POLICY, now=sample.NOW)
    assert not document.disclosed
    assert not cache.keep(key(role, version=2), stating, 200, b"computed", document)
    assert cache.get(key(role, version=2), Principal(role=role, client_id="r")) is None
    # The same role stating no purpose can be granted nothing: it shares the role's answers.
    assert cache.get(key(role), Principal(role=role, client_id="r")) == plain


def test_the_disclosure_workflow_may_name_who_bypasses_the_cache() -> None:
    """The hook the disclosure workflow calls: its own test of who may be granted."""
    granted_clients = {"r-granted"}
    cache = AnswerCache(
        1 << 20, clock=lambda: NOW, may_disclose=lambda p: p.client_id in granted_clients
    )
    cache.put(key("requester"), kept_for(CALLERS["requester"]))
    assert cache.get(key("requester"), Principal(role="requester", client_id="r-granted")) is None
    assert cache.get(key("requester"), Principal(role="requester", client_id="r-plain"))
    # Holding grants bypasses the cache whatever the hook says.
    holder = Principal(role="requester", client_id="r-plain", grants=(_grant(frozenset()),))
    assert cache.bypassed(holder)


@pytest.mark.parametrize("role", ["public", "registrar", "staff"])
def test_roles_never_granted_use_the_cache_with_a_purpose_too(role: str) -> None:
    assert not may_hold_grants(Principal(role=role, purpose="legalActions"))


@pytest.mark.parametrize("status", [400, 401, 403, 429, 500, 503])
def test_errors_other_than_404_are_never_kept(status: int) -> None:
    assert answer_to_keep(Principal(), status, b"error", None, NOW) is None


def test_a_404_is_kept_for_every_caller_of_the_role() -> None:
    kept = answer_to_keep(Principal(role="registrar", registrar_id=3), 404, b"nf", None, NOW)
    assert kept == Answer(404, b"nf", sponsor_id=None, sponsored=False)
    assert kept.fits(Principal(role="registrar", registrar_id=4), NOW)


def test_the_memory_budget_holds_and_the_least_recent_answer_goes_first() -> None:
    budget = 64 * 1024
    cache = AnswerCache(budget, clock=lambda: NOW)
    public = Principal()
    body = b"x" * 3000
    for n in range(100):
        cache.put(key("public", url=f"/domain/d{n}.post"), Answer(200, body, 1, False))
        assert cache.bytes_used <= budget
        if n == 3:
            cache.get(key("public", url="/domain/d0.post"), public)  # d0 is recent again
    assert cache.bytes_used > budget - 4000  # the budget is used, not wasted
    kept = [n for n in range(100) if cache.get(key("public", url=f"/domain/d{n}.post"), public)]
    assert kept == list(range(100 - len(kept), 100))  # the newest ones
    assert len(kept) * len(body) <= budget


def test_an_answer_larger_than_the_budget_is_not_kept() -> None:
    cache = AnswerCache(1000, clock=lambda: NOW)
    cache.put(key("public"), Answer(200, b"x" * 5000, 1, False))
    assert cache.get(key("public"), Principal()) is None
    assert cache.bytes_used == 0


def test_an_answer_that_changes_with_the_clock_expires_then() -> None:
    """A contact not yet verified turns stale at its due date: the sponsor's answer (which
    shows the verification remark) must not outlive that moment."""
    document = sample.domain_document()
    due = sample.NOW + dt.timedelta(days=3)
    registrant = document.body["entities"][1]
    registrant["remarks"] = [
        {
            "title": "Contact verification",
            "description": [
                "Verification status: pending",
                f"Verification due by: {due:%Y-%m-%dT%H:%M:%SZ}",
            ],
        }
    ]
    sponsor = CALLERS["sponsor"]
    shown = redact(document, sponsor, POLICY, now=sample.NOW)
    assert "remarks" in next(e for e in shown.body["entities"] if e.get("roles") == ["registrant"])
    kept = answer_to_keep(sponsor, 200, b"sponsor", shown, NOW)
    assert kept is not None
    assert kept.expires == due.timestamp()
    clock = [NOW]
    cache = AnswerCache(1 << 20, clock=lambda: clock[0])
    cache.put(key("registrar"), kept)
    assert cache.get(key("registrar"), sponsor) == kept
    clock[0] = due.timestamp()
    assert cache.get(key("registrar"), sponsor) is None
    # The public never sees the remark: its answer does not depend on the clock.
    public = redact(document, Principal(), POLICY, now=sample.NOW)
    assert answer_to_keep(Principal(), 200, b"p", public, NOW).expires is None  # type: ignore[union-attr]


def test_next_change_is_the_earliest_due_date_ahead() -> None:
    now = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)

    def remark(*lines: str) -> dict[str, Any]:
        return {"title": "Contact verification", "description": list(lines)}

    body = {
        "entities": [
            {"remarks": [remark("Verification due by: 2026-05-10T00:00:00Z")]},
            {"remarks": [remark("Verification due by: 2026-05-03T00:00:00Z")]},
            {"remarks": [remark("Verification due by: 2026-04-01T00:00:00Z")]},  # past: stale
            {
                "remarks": [
                    {"title": "Other", "description": ["Verification due by: 2026-05-02T00:00:00Z"]}
                ]
            },
        ]
    }
    assert next_change(body, now) == dt.datetime(2026, 5, 3, tzinfo=dt.UTC)
    assert next_change({"entities": []}, now) is None
    # Within the second a due date is shown to, the exact moment is unknown: changes now.
    shown = {"remarks": [remark("Verification due by: 2026-05-01T00:00:00Z")]}
    later = now + dt.timedelta(milliseconds=300)
    assert next_change(shown, later) == later


class FakeRedis:
    """The few Redis commands the store uses, in memory; `down` makes every call fail."""

    class Error(Exception):
        pass

    def __init__(self) -> None:
        self.hashes: dict[str, dict[bytes, bytes]] = {}
        self.down = False
        self.calls = 0

    def _check(self) -> None:
        self.calls += 1
        if self.down:
            raise FakeRedis.Error("down")

    def hgetall(self, name: str) -> dict[bytes, bytes]:
        self._check()
        return dict(self.hashes.get(name, {}))

    def pipeline(self, transaction: bool = False) -> FakeRedis:
        return self

    def __enter__(self) -> FakeRedis:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def hset(self, name: str, field: bytes, value: bytes) -> None:
        self._pending = (name, field, value)

    def expire(self, name: str, ttl: int) -> None:
        pass

    def execute(self) -> None:
        self._check()
        name, field, value = self._pending
        self.hashes.setdefault(name, {})[field] = value


def test_the_shared_store_keeps_outcomes_apart_across_processes() -> None:
    redis = FakeRedis()
    store = RedisAnswers(redis, "f1", errors=(FakeRedis.Error,))
    writer = AnswerCache(1 << 20, store, clock=lambda: NOW)
    reader = AnswerCache(
        1 << 20, RedisAnswers(redis, "f1", errors=(FakeRedis.Error,)), clock=lambda: NOW
    )
    own = kept_for(CALLERS["sponsor"])
    writer.put(key("registrar"), own)
    assert reader.get(key("registrar"), CALLERS["sponsor"]) == own
    assert reader.get(key("registrar"), CALLERS["other-registrar"]) is None
    assert reader.get(key("public"), CALLERS["public"]) is None
    # Another configuration (policies, profile) never shares bytes.
    other = AnswerCache(
        1 << 20, RedisAnswers(redis, "f2", errors=(FakeRedis.Error,)), clock=lambda: NOW
    )
    assert other.get(key("registrar"), CALLERS["sponsor"]) is None


def test_a_malformed_stored_answer_is_a_miss() -> None:
    redis = FakeRedis()
    store = RedisAnswers(redis, "f1", errors=(FakeRedis.Error,))
    store.add(key("public"), Answer(200, b"ok", 1, False))
    (name,) = redis.hashes
    redis.hashes[name] = {b"1:2": b"200 -\nbody", b"x": b"garbage", b"1:0": b"500 -\nerror"}
    assert store.answers(key("public")) == ()


def test_a_failing_store_is_a_miss_and_is_left_alone_for_a_while() -> None:
    redis = FakeRedis()
    clock = [0.0]
    store = RedisAnswers(redis, "f1", errors=(FakeRedis.Error,), pause=30, clock=lambda: clock[0])
    cache = AnswerCache(1 << 20, store, clock=lambda: NOW)
    redis.down = True
    assert cache.get(key("public"), Principal()) is None
    calls = redis.calls
    cache.put(key("public"), Answer(200, b"ok", 1, False))  # kept in memory all the same
    assert cache.get(key("public"), Principal()) is not None
    assert cache.get(key("public", url="/domain/other.post"), Principal()) is None
    assert redis.calls == calls  # not asked again during the pause
    clock[0] = 31
    redis.down = False
    assert cache.get(key("public", url="/domain/other.post"), Principal()) is None
    assert redis.calls == calls + 1


def test_the_fingerprint_follows_the_policy_files(tmp_path: Any) -> None:
    policy = tmp_path / "public.toml"
    policy.write_text("revision = '1'\n")
    first = configuration_fingerprint([policy], "x")
    policy.write_text("revision = '2'\n")
    assert configuration_fingerprint([policy], "x") != first
    assert configuration_fingerprint([policy], "y") != configuration_fingerprint([policy], "x")


@pytest.mark.skipif(
    not os.environ.get("TEST_REDIS_URL"), reason="TEST_REDIS_URL not set (scripts/test sets it)"
)
def test_a_real_redis_shares_answers_by_outcome_and_configuration() -> None:
    url = os.environ["TEST_REDIS_URL"]
    fingerprint = f"test-{uuid.uuid4().hex[:12]}"  # a namespace of its own on the shared Redis
    here = AnswerCache(1 << 20, RedisAnswers.from_url(url, fingerprint), clock=lambda: NOW)
    there = AnswerCache(1 << 20, RedisAnswers.from_url(url, fingerprint), clock=lambda: NOW)
    elsewhere = AnswerCache(1 << 20, RedisAnswers.from_url(url, fingerprint + "-other"))
    here.put(key("registrar"), kept_for(CALLERS["sponsor"]))
    assert there.get(key("registrar"), CALLERS["other-registrar"]) is None
    assert there.get(key("registrar"), CALLERS["sponsor"]) == kept_for(CALLERS["sponsor"])
    assert there.get(key("public"), CALLERS["public"]) is None
    assert elsewhere.get(key("registrar"), CALLERS["sponsor"]) is None
