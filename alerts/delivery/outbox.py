"""The transactional outbox: deciding who is told about what, in the transaction that records it.

``queue_alerts`` turns every change not yet alerted into one delivery row per matching subscriber
and marks the change processed, all at once; ``queue_digest`` adds one row per subscriber and week.
The unique keys (subscriber, change) and (subscriber, week) make both safe to run twice or
concurrently. Sending is the sender's job (alerts.delivery.sender).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Insert, Table, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from alerts.audience.tiers import ALERT_TIERS
from policywatch.verdicts import Significance
from store.models import Change, Delivery, Document, Subscriber, Subscription, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Interest:
    """One confirmed subscriber's subscription, as the matcher needs it."""

    subscriber_id: int
    platform_id: int
    document_id: int | None
    topics: tuple[str, ...]
    min_alert: str
    min_digest: str
    provisions: tuple[str, ...] = ()

    def covers(self, change: Change, platform_id: int, minimum: str) -> bool:
        """Whether this subscription wants ``change`` (of a document on ``platform_id``) at ``minimum``:
        with provisions, only a change that touches one of them."""
        return (
            self.platform_id == platform_id
            and self.document_id in (None, change.document_id)
            and Significance(change.significance).at_least(minimum)
            and (not self.topics or bool(set(self.topics) & set(change.topics or ())))
            and (not self.provisions or bool(set(self.provisions) & set(change.provisions or ())))
        )


def queue_alerts(session: Session) -> tuple[int, int]:
    """Queue same-day alerts for every change not yet alerted and mark those changes processed.
    Returns (changes processed, deliveries queued). Flapping changes are processed but not alerted."""
    changes = session.execute(
        select(Change, Document.platform_id)
        .join(Document, Document.id == Change.document_id)
        .where(Change.alerts_processed_at.is_(None))
        .order_by(Change.id)
        .with_for_update(of=Change, skip_locked=True)
    ).all()
    if not changes:
        return 0, 0
    interests = confirmed_interests(session, {platform_id for _, platform_id in changes}, tiers=ALERT_TIERS)
    rows = []
    for change, platform_id in changes:
        if not (change.details or {}).get("flapping"):
            wanted = {i.subscriber_id for i in interests if i.covers(change, platform_id, i.min_alert)}
            rows += [{"subscriber_id": s, "kind": "alert", "change_id": change.id} for s in sorted(wanted)]
        change.alerts_processed_at = utcnow()
    insert_new(session, rows)
    log.info("alerts: %d change(s) processed, %d delivery row(s) queued", len(changes), len(rows))
    return len(changes), len(rows)


def queue_digest(session: Session, week: str, start: datetime, end: datetime) -> int:
    """Queue one digest for ``week`` per confirmed subscriber with matching changes detected in
    [start, end), listing them; a subscriber already queued for the week is left alone. Returns the
    number of subscribers with something to report."""
    detected = session.execute(
        select(Change, Document.platform_id)
        .join(Document, Document.id == Change.document_id)
        .where(Change.detected_at >= start, Change.detected_at < end)
        .order_by(Change.id)
    ).all()
    changes = [
        (change, platform_id)
        for change, platform_id in detected
        if not (change.details or {}).get("flapping")
    ]
    interests = confirmed_interests(session, {platform_id for _, platform_id in changes})
    reports: dict[int, set[int]] = {}
    for change, platform_id in changes:
        for interest in interests:
            if interest.covers(change, platform_id, interest.min_digest):
                reports.setdefault(interest.subscriber_id, set()).add(change.id)
    insert_new(
        session,
        [
            {"subscriber_id": s, "kind": "digest", "digest_week": week, "change_ids": sorted(ids)}
            for s, ids in sorted(reports.items())
        ],
    )
    log.info("digest %s: %d change(s), %d subscriber(s) to tell", week, len(changes), len(reports))
    return len(reports)


def confirmed_interests(
    session: Session,
    platform_ids: Iterable[int],
    tiers: Sequence[str] | None = None,
) -> list[Interest]:
    """The subscriptions of confirmed subscribers (of ``tiers``, default any) to these platforms."""
    query = (
        select(
            Subscription.subscriber_id,
            Subscription.platform_id,
            Subscription.document_id,
            Subscription.topics,
            Subscription.min_significance_alert,
            Subscription.min_significance_digest,
            Subscription.provisions,
        )
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        .where(Subscriber.status == "confirmed", Subscription.platform_id.in_(set(platform_ids)))
    )
    if tiers is not None:
        query = query.where(Subscriber.tier.in_(tiers))
    return [
        Interest(s, p, d, tuple(t or ()), a, g, tuple(v or ()))
        for s, p, d, t, a, g, v in session.execute(query)
    ]


def insert_new(session: Session, rows: list[dict]) -> None:
    """Insert delivery rows in one Core executemany, skipping any that a unique key says exist."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    table = cast(Table, Delivery.__table__)  # a declarative class's table; typed only as a FromClause
    statement: Insert
    if dialect == "postgresql":
        statement = postgresql.insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(table).on_conflict_do_nothing()
    else:
        statement = insert(table)
    session.connection().execute(statement, rows)
