"""The weekly digest: ISO weeks (``YYYY-Www``) and queueing one digest per subscriber and week."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from alerts.delivery.outbox import queue_digest

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def parse_week(week: str) -> tuple[datetime, datetime]:
    """[Monday 00:00 UTC, next Monday 00:00 UTC) of an ISO week ``YYYY-Www``; ValueError if invalid."""
    match = WEEK.match(week)
    if not match:
        raise ValueError(f"week {week!r} is not an ISO week like 2026-W07")
    try:
        monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise ValueError(f"week {week!r} does not exist") from None
    start = datetime.combine(monday, time(), tzinfo=UTC)
    return start, start + timedelta(days=7)


def last_complete_week(now: datetime) -> str:
    """The ISO week before the one ``now`` falls in."""
    year, week, _ = (now.astimezone(UTC) - timedelta(days=7)).isocalendar()
    return f"{year}-W{week:02d}"


def queue_week(session: Session, week: str) -> int:
    """Queue the digest of ``week`` for every subscriber with something to report; returns how many."""
    start, end = parse_week(week)
    return queue_digest(session, week, start, end)
