"""SLA clocks of disclosure requests: how long each priority may take, pauses, overdue."""

from __future__ import annotations

import dataclasses
import datetime as dt

from rdap.settings import Settings, SettingsError

STANDARD = "standard"
URGENT = "urgent"
PRIORITIES = (STANDARD, URGENT)


@dataclasses.dataclass(frozen=True)
class SlaPolicy:
    """Time allowed from receipt to decision, per priority (wall-clock, pauses excluded), and
    how long a request may wait for the requester's information before it is closed."""

    standard: dt.timedelta = dt.timedelta(hours=72)  # NIS2 Art. 28(5)
    urgent: dt.timedelta = dt.timedelta(hours=24)  # law enforcement only
    information_timeout: dt.timedelta | None = dt.timedelta(days=30)

    @classmethod
    def from_settings(cls, settings: Settings) -> SlaPolicy:
        days = settings.disclosure_information_days
        for name in ("disclosure_sla_standard_hours", "disclosure_sla_urgent_hours"):
            if getattr(settings, name) < 1:
                raise SettingsError(f"RDAP_{name.upper()} must be at least 1")
        if days < 0:
            raise SettingsError("RDAP_DISCLOSURE_INFORMATION_DAYS must be 0 (never) or more")
        return cls(
            standard=dt.timedelta(hours=settings.disclosure_sla_standard_hours),
            urgent=dt.timedelta(hours=settings.disclosure_sla_urgent_hours),
            information_timeout=dt.timedelta(days=days) if days > 0 else None,
        )

    def allowance(self, priority: str) -> dt.timedelta:
        return self.urgent if priority == URGENT else self.standard

    def due_at(self, received_at: dt.datetime, priority: str, paused: dt.timedelta) -> dt.datetime:
        """When a decision is due: receipt + the priority's allowance + time spent paused."""
        return received_at + self.allowance(priority) + paused


def paused_total(intervals: list[tuple[dt.datetime, dt.datetime | None]]) -> dt.timedelta:
    """Total length of closed pause intervals (an open one has not been added yet)."""
    return sum((end - start for start, end in intervals if end is not None), dt.timedelta())


def is_late(due_at: dt.datetime, paused_since: dt.datetime | None, now: dt.datetime) -> bool:
    """Past due with the clock running (a paused clock does not run out)."""
    return paused_since is None and now > due_at
