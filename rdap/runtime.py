"""Runtime: the collaborators one application instance uses, built once from Settings."""

from __future__ import annotations

import dataclasses
from typing import Any

from rdap import cards
from rdap.answer_cache import AnswerCache, RedisAnswers, configuration_fingerprint
from rdap.auth import help_conformance
from rdap.clock import Clock, utcnow
from rdap.db import Database
from rdap.disclosure.access import DisclosureAccess
from rdap.disclosure.sla import SlaPolicy
from rdap.instance import server_secret
from rdap.paging import CursorCodec
from rdap.profile import Profile, load_profile
from rdap.redaction import Policy, load_policy
from rdap.render import contact_format
from rdap.render.rdap_json import REVERSE_CONFORMANCE, SEARCH_CONFORMANCE
from rdap.repository import FactsCache
from rdap.search import REVERSE_SEARCH_PROPERTIES, SearchPolicy, load_search_policy
from rdap.settings import Settings


@dataclasses.dataclass
class Runtime:
    settings: Settings
    db: Database
    profile: Profile
    policy: Policy
    search_policy: SearchPolicy
    secret: bytes
    # rdapConformance values and /help members contributed by extensions (auth, search).
    extra_conformance: list[str] = dataclasses.field(default_factory=list)
    help_members: dict[str, Any] = dataclasses.field(default_factory=dict)
    facts: FactsCache = dataclasses.field(default_factory=FactsCache)
    # Rendered answers by data version and redaction outcome; None when switched off.
    answers: AnswerCache | None = None
    _codecs: dict[str, CursorCodec] = dataclasses.field(default_factory=dict, repr=False)
    # /help also names the search extensions and the reverse-search properties (RFC 9536).
    help_conformance: list[str] = dataclasses.field(default_factory=list)
    # Where every time-dependent rule reads the time (grant and accreditation expiry, SLA
    # clocks); tests replace it to freeze and advance time.
    clock: Clock = utcnow
    sla: SlaPolicy = dataclasses.field(default_factory=SlaPolicy)
    disclosure: DisclosureAccess = dataclasses.field(init=False)
    # Contact format → RFC 9536 reverse-search property mappings with its paths.
    reverse_search_properties: dict[str, list[dict[str, Any]]] = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.disclosure = DisclosureAccess(self.db)
        self.reverse_search_properties = contact_format.property_mappings(
            self.policy, REVERSE_SEARCH_PROPERTIES
        )

    def cursors(self, purpose: str) -> CursorCodec:
        """The cursor codec for one kind of paged answer (keys derived per purpose)."""
        codec = self._codecs.get(purpose)
        if codec is None:
            codec = self._codecs[purpose] = CursorCodec(self.secret, purpose)
        return codec

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        conformance, help_members = help_conformance(settings)
        runtime = cls(
            settings=settings,
            db=Database(
                settings.effective_database_url,
                settings.effective_read_urls,
                timeout=settings.database_timeout,
                connect_timeout=settings.database_connect_timeout,
                max_lag=settings.database_replica_max_lag,
            ),
            profile=load_profile(settings.service_file),
            policy=load_policy(settings.policies_path),
            extra_conformance=list(conformance),
            help_members={
                **help_members,
                "reverse_search_properties": REVERSE_SEARCH_PROPERTIES,
            },
            help_conformance=[
                *conformance,
                *SEARCH_CONFORMANCE,
                REVERSE_CONFORMANCE,
                *(c for c in cards.CONFORMANCE.values() if c is not None),
            ],
            search_policy=load_search_policy(settings.policies_path),
            secret=server_secret(settings),
            sla=SlaPolicy.from_settings(settings),
            facts=FactsCache(ttl=settings.data_version_ttl),
        )
        runtime.answers = answer_cache(settings, runtime)
        return runtime


def answer_cache(settings: Settings, runtime: Runtime) -> AnswerCache | None:
    """The answer cache the settings ask for, its shared store keyed by what shapes answers."""
    if settings.answer_cache_bytes <= 0:
        return None
    shared = None
    if settings.answer_cache_url:
        fingerprint = configuration_fingerprint(
            [*settings.policies_path.glob("*.toml"), settings.service_file],
            *runtime.extra_conformance,
            *runtime.help_conformance,
            repr(sorted(runtime.help_members.items())),
        )
        shared = RedisAnswers.from_url(settings.answer_cache_url, fingerprint)
    return AnswerCache(settings.answer_cache_bytes, shared)
