"""The health of sources: each one's latest fetch and whether it counts as broken, for a document's
page and for ``policywatch status``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.orm import Session

from store.models import Document, FetchEvent, Snapshot, Source


@dataclass(frozen=True)
class SourceHealth:
    """A source with its last fetch (``fetched_at``, ``outcome``, ``http_status``, ``reason``,
    ``snapshot``: the sha256 of what it stored) and whether it counts as broken."""

    source: Source
    last_event: Row | None
    broken: bool


_LATEST_FETCHES = (
    select(
        FetchEvent.source_id,
        FetchEvent.fetched_at,
        FetchEvent.outcome,
        FetchEvent.http_status,
        FetchEvent.reason,
        Snapshot.sha256.label("snapshot"),
    )
    .outerjoin(Snapshot, Snapshot.id == FetchEvent.snapshot_id)
    .where(
        FetchEvent.id.in_(
            select(func.max(FetchEvent.id))
            .where(FetchEvent.source_id.in_(bindparam("ids", expanding=True)))
            .group_by(FetchEvent.source_id)
            .scalar_subquery()
        )
    )
)


def document_source_health(session: Session, document: Document) -> list[SourceHealth]:
    """Each source of ``document`` in order, with its latest fetch event (one query for all)."""
    ids = [source.id for source in document.sources]
    events = {event.source_id: event for event in session.execute(_LATEST_FETCHES, {"ids": ids})}
    return [SourceHealth(source, events.get(source.id), source.broken) for source in document.sources]


def every_source_health(session: Session) -> list[dict]:
    """Every source with its last and next crawl, and why it is broken when it is (JSON-ready)."""
    rows = session.execute(
        select(Document.slug, Source).join(Source.document).order_by(Document.slug, Source.position)
    ).all()
    return [
        {
            "document": slug,
            "url": source.url,
            "active": source.active,
            "last_crawl": _iso(source.last_fetched_at),
            "next_crawl": _iso(source.next_fetch_at),
            "failures": source.consecutive_failures,
            "broken": source.broken,
            "reason": source.last_error,
        }
        for slug, source in rows
    ]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None
