"""The posts found on newsrooms, as the CLI and the JSON API list them (the JSON contract of
``policywatch announcements list --json``), and each newsroom listing's schedule and health, as
``policywatch sources list`` and ``policywatch status`` show them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import Announcement, AnnouncementSource, Document, Platform, Version


def list_posts(session: Session, platform: str | None = None, since: datetime | None = None) -> list[dict]:
    """The posts found, newest first by publication date, as the JSON contract's records."""
    versions = select(Version.document_id, func.count().label("n")).group_by(Version.document_id).subquery()
    query = (
        select(Announcement, AnnouncementSource.slug, Platform.slug, Document.slug, versions.c.n)
        .join(AnnouncementSource, AnnouncementSource.id == Announcement.source_id)
        .join(Platform, Platform.id == AnnouncementSource.platform_id)
        .join(Document, Document.id == Announcement.document_id)
        .outerjoin(versions, versions.c.document_id == Announcement.document_id)
        .order_by(Announcement.first_seen, Announcement.id)
    )
    if platform:
        query = query.where(Platform.slug == platform)
    if since:
        query = query.where(Announcement.first_seen >= since)
    records = [
        {
            "platform": platform_slug,
            "source": source,
            "url": post.url,
            "title": post.title or post.listed_title,
            "published": post.published or post.listed_published,
            "first_seen": post.first_seen.isoformat(),
            "removed": post.removed_at.isoformat() if post.removed_at else None,
            "topics": list(post.topics),
            "versions": count or 0,
            "document": document,
        }
        for post, source, platform_slug, document, count in session.execute(query)
    ]
    return sorted(records, key=lambda r: r["published"] or "", reverse=True)


def listing_schedules(
    session: Session, default_seconds: int, now: datetime, everything: bool = False
) -> list[dict]:
    """Each active newsroom listing (every one with ``everything``) by platform and slug, JSON-ready:
    its schedule in seconds (its own, else ``default_seconds``), last and next read (None: never
    read, due at once), whether it is due at ``now``, and the error of its last read when it failed."""
    query = (
        select(AnnouncementSource, Platform.slug)
        .join(Platform, Platform.id == AnnouncementSource.platform_id)
        .order_by(Platform.slug, AnnouncementSource.slug)
    )
    if not everything:
        query = query.where(AnnouncementSource.active)
    return [
        {
            "platform": platform,
            "slug": listing.slug,
            "listing": listing.listing,
            "active": listing.active,
            "schedule_seconds": listing.schedule_seconds or default_seconds,
            "last_read": _iso(listing.last_read_at),
            "next_read": _iso(listing.next_read_at),
            "due": listing.active and (listing.next_read_at is None or listing.next_read_at <= now),
            "failing": listing.last_error is not None,
            "reason": listing.last_error,
        }
        for listing, platform in session.execute(query)
    ]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None
