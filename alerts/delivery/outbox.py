"""The transactional outbox: deciding who is told about what, in the transaction that records it.

``queue_alerts`` turns every change not yet alerted into one delivery row per matching subscriber
and marks the change processed, all at once; ``queue_announcements`` does the same for new
newsroom posts; ``queue_digest`` adds one row per subscriber and week. The unique keys (subscriber,
change), (subscriber, post) and (subscriber, week) make them safe to run twice or concurrently.
Sending is the sender's job (alerts.delivery.sender).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from sqlalchemy import Insert, Table, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from alerts.audience.tiers import ALERT_TIERS
from policywatch.verdicts import Significance
from store.models import (
    Announcement,
    AnnouncementSource,
    Change,
    Delivery,
    Document,
    Subscriber,
    Subscription,
    utcnow,
)

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

    def wants_post(self, post: Announcement, platform_id: int) -> bool:
        """Whether this subscription wants news of ``post``, a new post of ``platform_id``: a
        subscription to the whole platform, whose topics (if any) the post shares; a subscription to
        one document or to provisions follows those alone."""
        return (
            self.platform_id == platform_id
            and self.document_id is None
            and not self.provisions
            and (not self.topics or bool(set(self.topics) & set(post.topics or ())))
        )

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


#: A post published more than this many days before it was found is old news, not announced.
NEWS_DAYS = 7


def queue_announcements(session: Session) -> tuple[int, int]:
    """Queue same-day news of every post fetched and not yet processed, and mark those posts
    processed: (posts processed, deliveries queued). A newsroom's back catalogue (the posts found
    before alerts began to follow it) and posts published over ``NEWS_DAYS`` before they were found
    are processed without news."""
    now = utcnow()
    _follow_newsrooms(session, now)
    posts = session.execute(
        select(Announcement, AnnouncementSource)
        .join(AnnouncementSource, AnnouncementSource.id == Announcement.source_id)
        .where(Announcement.alerts_processed_at.is_(None), Announcement.fetched)
        .order_by(Announcement.id)
        .with_for_update(of=Announcement, skip_locked=True)
    ).all()
    interests = confirmed_interests(
        session, {newsroom.platform_id for _, newsroom in posts}, tiers=ALERT_TIERS
    )
    rows = []
    for post, newsroom in posts:
        if _news(post, newsroom):
            wanted = {i.subscriber_id for i in interests if i.wants_post(post, newsroom.platform_id)}
            rows += [
                {"subscriber_id": s, "kind": "announcement", "announcement_id": post.id}
                for s in sorted(wanted)
            ]
        post.alerts_processed_at = now
    insert_new(session, rows)
    log.info("alerts: %d post(s) processed, %d delivery row(s) queued", len(posts), len(rows))
    return len(posts), len(rows)


def _follow_newsrooms(session: Session, now: datetime) -> None:
    """Let alerts follow the newsrooms they do not follow yet, from the last time each was read or
    had a post found (the crawl's time, which a replayed crawl sets), else from ``now``: what was
    found until then is its back catalogue."""
    found = (
        select(Announcement.source_id, func.max(Announcement.first_seen).label("at"))
        .group_by(Announcement.source_id)
        .subquery()
    )
    rows = session.execute(
        select(AnnouncementSource, found.c.at)
        .outerjoin(found, found.c.source_id == AnnouncementSource.id)
        .where(AnnouncementSource.alerts_from.is_(None))
    ).all()
    for newsroom, latest in rows:
        seen = [moment for moment in (newsroom.last_read_at, latest) if moment is not None]
        newsroom.alerts_from = max(seen) if seen else now


def _news(post: Announcement, newsroom: AnnouncementSource) -> bool:
    """Whether ``post`` is news: found after alerts began to follow its newsroom, not removed, and
    not published long before it was found."""
    if post.removed_at is not None or newsroom.alerts_from is None or post.first_seen <= newsroom.alerts_from:
        return False
    published = _day(post.published or post.listed_published)
    return published is None or (post.first_seen.date() - published).days <= NEWS_DAYS


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def queue_digest(session: Session, week: str, start: datetime, end: datetime) -> int:
    """Queue one digest for ``week`` per confirmed subscriber with matching changes detected, or
    newsroom posts found, in [start, end), listing them; a subscriber already queued for the week is
    left alone. Returns the number of subscribers with something to report."""
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
    posts = _posts_found(session, start, end)
    platforms = {platform_id for _, platform_id in changes} | {platform_id for _, platform_id in posts}
    interests = confirmed_interests(session, platforms)
    reports: dict[int, tuple[set[int], set[int]]] = {}
    for change, platform_id in changes:
        for interest in interests:
            if interest.covers(change, platform_id, interest.min_digest):
                reports.setdefault(interest.subscriber_id, (set(), set()))[0].add(change.id)
    for post, platform_id in posts:
        for interest in interests:
            if interest.wants_post(post, platform_id):
                reports.setdefault(interest.subscriber_id, (set(), set()))[1].add(post.id)
    rows = [
        {
            "subscriber_id": s,
            "kind": "digest",
            "digest_week": week,
            "change_ids": sorted(change_ids),
            "announcement_ids": sorted(post_ids),
        }
        for s, (change_ids, post_ids) in sorted(reports.items())
    ]
    insert_new(session, rows)
    log.info(
        "digest %s: %d change(s), %d post(s), %d subscriber(s) to tell",
        week,
        len(changes),
        len(posts),
        len(reports),
    )
    return len(reports)


def _posts_found(session: Session, start: datetime, end: datetime) -> list[tuple[Announcement, int]]:
    """The newsroom posts found in [start, end) that are news (not a back catalogue), with their platform."""
    rows = session.execute(
        select(Announcement, AnnouncementSource)
        .join(AnnouncementSource, AnnouncementSource.id == Announcement.source_id)
        .where(Announcement.first_seen >= start, Announcement.first_seen < end, Announcement.fetched)
        .order_by(Announcement.id)
    ).all()
    return [(post, newsroom.platform_id) for post, newsroom in rows if _news(post, newsroom)]


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
