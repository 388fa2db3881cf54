"""Runtime: the collaborators one application instance uses, built once from Settings."""

from __future__ import annotations

import dataclasses
from typing import Any

from rdap.auth import help_conformance
from rdap.db import Database
from rdap.profile import Profile, load_profile
from rdap.redaction import Policy, load_policy
from rdap.repository import FactsCache
from rdap.settings import Settings


@dataclasses.dataclass
class Runtime:
    settings: Settings
    db: Database
    profile: Profile
    policy: Policy
    # rdapConformance values and /help members contributed by extensions (auth, search).
    extra_conformance: list[str] = dataclasses.field(default_factory=list)
    help_members: dict[str, Any] = dataclasses.field(default_factory=dict)
    facts: FactsCache = dataclasses.field(default_factory=FactsCache)

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        conformance, help_members = help_conformance(settings)
        return cls(
            settings=settings,
            db=Database(settings.effective_database_url, settings.effective_read_url),
            profile=load_profile(settings.service_file),
            policy=load_policy(settings.policies_path),
            extra_conformance=list(conformance),
            help_members=dict(help_members),
        )
