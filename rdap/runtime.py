"""Runtime: the collaborators one application instance uses, built once from Settings."""

from __future__ import annotations

import dataclasses

from rdap.db import Database
from rdap.settings import Settings


@dataclasses.dataclass
class Runtime:
    settings: Settings
    db: Database

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        db = Database(settings.effective_database_url, settings.effective_read_url)
        return cls(settings=settings, db=db)
