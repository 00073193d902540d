"""The posts found on newsrooms, as the CLI and the JSON API list them (the JSON contract of
``policywatch announcements list --json``)."""

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
