"""Which sources and newsroom listings one crawl reads: the plan, built from the catalog before
Scrapy starts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crawler.sources.plan import CrawlPlan, SourceJob, inputs_digest
from store.models import AnnouncementSource, Document, Snapshot, Source, utcnow


class UnknownDocument(LookupError):
    """A document slug given on the command line is not in the catalog (or not active)."""


class UnknownNewsroom(LookupError):
    """An announcement source slug given on the command line is not in the catalog (or not active)."""


def document_ids(
    session: Session, slugs: list[str] | None = None, due: bool = False, now: datetime | None = None
) -> list[int]:
    """Active documents to crawl: those named by ``slugs`` (all when none), of them only those due
    by their schedule with ``due``."""
    query = select(Document.id).where(Document.active).order_by(Document.id)
    if slugs:
        found = dict(
            session.execute(
                select(Document.slug, Document.id).where(Document.active, Document.slug.in_(slugs))
            ).all()
        )
        missing = [slug for slug in slugs if slug not in found]
        if missing:
            raise UnknownDocument(f"no active document {', '.join(missing)} (see `policywatch sources list`)")
        query = query.where(Document.id.in_(found.values()))
    if due:
        query = query.where(
            Document.id.in_(
                select(Source.document_id).where(
                    Source.active,
                    or_(Source.next_fetch_at.is_(None), Source.next_fetch_at <= (now or utcnow())),
                )
            )
        )
    return list(session.scalars(query))


def newsroom_ids(
    session: Session, slugs: list[str] | None = None, due: bool = False, now: datetime | None = None
) -> list[int]:
    """Active newsrooms to read: those named by ``slugs`` (all when none), of them only those whose
    listing is due by its schedule with ``due``."""
    query = select(AnnouncementSource.id).where(AnnouncementSource.active).order_by(AnnouncementSource.id)
    if slugs:
        found = dict(
            session.execute(
                select(AnnouncementSource.slug, AnnouncementSource.id).where(
                    AnnouncementSource.active, AnnouncementSource.slug.in_(slugs)
                )
            ).all()
        )
        missing = [slug for slug in slugs if slug not in found]
        if missing:
            raise UnknownNewsroom(
                f"no active announcement source {', '.join(missing)} (see `policywatch sources export`)"
            )
        query = query.where(AnnouncementSource.id.in_(found.values()))
    if due:
        next_read = AnnouncementSource.next_read_at
        query = query.where(or_(next_read.is_(None), next_read <= (now or utcnow())))
    return list(session.scalars(query))


def build_plan(session: Session, ids: list[int]) -> CrawlPlan:
    """The plan fetching every active source of the documents ``ids``, in document order."""
    plan = CrawlPlan()
    rows = session.execute(
        select(
            Source.id,
            Source.document_id,
            Document.slug,
            Source.url,
            Source.select,
            Source.remove,
            Source.fetcher,
            Source.robots,
            Source.etag,
            Source.last_modified,
            Snapshot.sha256,
            Document.schedule_seconds,
            Source.region_digest,
            Document.ignore,
            Document.inputs_digest,
        )
        .join(Document, Document.id == Source.document_id)
        .outerjoin(Snapshot, Snapshot.id == Source.last_snapshot_id)
        .where(Source.active, Source.document_id.in_(ids))
        .order_by(Source.document_id, Source.position)
    ).all()
    regions: dict[int, list[str | None]] = {}
    for row in rows:
        plan.add(
            SourceJob(
                row.id,
                row.document_id,
                row.slug,
                row.url,
                list(row.select),
                list(row.remove),
                row.fetcher,
                row.robots,
                row.etag,
                row.last_modified,
                row.sha256,
                row.schedule_seconds,
            )
        )
        regions.setdefault(row.document_id, []).append(row.region_digest)
    documents = {row.document_id: row for row in rows}
    plan.stale = {
        doc_id
        for doc_id, digests in regions.items()
        if inputs_digest(digests, documents[doc_id].ignore) != documents[doc_id].inputs_digest
    }
    return plan
