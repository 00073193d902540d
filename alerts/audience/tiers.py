"""What each tier may do: how many platforms, same-day alerts, topic filters."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tier:
    """The limits of one tier; ``max_platforms`` None means any number."""

    name: str
    max_platforms: int | None
    same_day_alerts: bool
    topic_filters: bool


TIERS: dict[str, Tier] = {
    "free": Tier("free", 1, same_day_alerts=False, topic_filters=False),
    "watcher": Tier("watcher", 10, same_day_alerts=True, topic_filters=False),
    "professional": Tier("professional", None, same_day_alerts=True, topic_filters=True),
}
ALERT_TIERS = tuple(name for name, tier in TIERS.items() if tier.same_day_alerts)
