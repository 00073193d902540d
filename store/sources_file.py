"""The catalog from declarations: loading a sources file into platforms, documents and sources,
and writing the active catalog back as sources-file data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from crawler.sources.declarations import (
    AnnouncementDecl,
    DocumentDecl,
    SourcesFile,
    format_schedule,
    parse_schedule,
)
from store.models import Announcement, AnnouncementSource, Document, Platform, Source


@dataclass
class LoadReport:
    """What loading a sources file changed."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One line for the terminal."""
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, {len(self.deactivated)} deactivated"
        )


def load_declarations(session: Session, declared: SourcesFile, deactivate_missing: bool = True) -> LoadReport:
    """Bring the catalog in line with ``declared``; documents and announcement sources absent from it
    are deactivated (never deleted) when ``deactivate_missing``; the documents of posts found on
    announcement sources are the crawl's, not the file's. Loading the same file twice changes nothing."""
    report = LoadReport()
    platforms = {p.slug: p for p in session.scalars(select(Platform))}
    posts = select(Announcement.document_id)
    documents = {
        d.slug: d
        for d in session.scalars(
            select(Document).where(Document.id.not_in(posts)).options(selectinload(Document.sources))
        )
    }
    newsrooms = {a.slug: a for a in session.scalars(select(AnnouncementSource))}
    for platform_decl in declared.platforms:
        platform = platforms.get(platform_decl.slug) or Platform(
            slug=platform_decl.slug, name=platform_decl.name
        )
        platform.name = platform_decl.name
        session.add(platform)
        for decl in platform_decl.documents:
            document = documents.pop(decl.slug, None)
            if document is None:
                document = Document(slug=decl.slug, platform=platform, sources=[])
                report.created.append(decl.slug)
                _apply(document, platform, decl)
                session.add(document)
            elif _apply(document, platform, decl):
                report.updated.append(decl.slug)
        for newsroom_decl in platform_decl.announcements:
            _load_newsroom(session, report, newsrooms.pop(newsroom_decl.slug, None), platform, newsroom_decl)
    if deactivate_missing:
        rows: list[Document | AnnouncementSource] = [*documents.values(), *newsrooms.values()]
        for row in rows:
            if row.active:
                row.active = False
                report.deactivated.append(row.slug)
    session.flush()
    return report


def _load_newsroom(
    session: Session,
    report: LoadReport,
    newsroom: AnnouncementSource | None,
    platform: Platform,
    decl: AnnouncementDecl,
) -> None:
    """Create or update the announcement source ``decl`` declares, noting it in ``report``."""
    wanted = {
        "platform": platform,
        "listing": decl.listing,
        "follow": decl.follow,
        "select": decl.select,
        "schedule_seconds": parse_schedule(decl.schedule) if decl.schedule else None,
        "active": True,
    }
    if newsroom is None:
        session.add(AnnouncementSource(slug=decl.slug, **wanted))
        report.created.append(decl.slug)
        return
    if newsroom.listing != decl.listing:
        newsroom.kind, newsroom.etag, newsroom.last_modified = None, None, None
    if _assign(newsroom, wanted):
        report.updated.append(decl.slug)


def _apply(document: Document, platform: Platform, decl: DocumentDecl) -> bool:
    """Set ``document`` from ``decl``; whether anything differed."""
    wanted = {
        "platform": platform,
        "title": decl.title,
        "terms_type": decl.type,
        "active": True,
        "schedule_seconds": parse_schedule(decl.schedule) if decl.schedule else None,
        "ignore": decl.ignore,
    }
    changed = _assign(document, wanted)
    existing = {source.position: source for source in document.sources}
    for position, page in enumerate(decl.sources):
        values = {
            "url": page.url,
            "select": page.select,
            "remove": page.remove,
            "fetcher": page.fetcher,
            "robots": page.robots,
            "active": True,
        }
        source = existing.pop(position, None)
        if source is None:
            document.sources.append(Source(position=position, **values))
            changed = True
            continue
        if source.url != page.url or source.select != page.select or source.remove != page.remove:
            # another page or region: what was extracted before no longer describes this source
            source.region_digest, source.text, source.etag, source.last_modified = None, None, None, None
        changed |= _assign(source, values)
    for source in existing.values():
        changed |= _assign(source, {"active": False})
    return changed


def _assign(row: Any, values: dict) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def dump_declarations(session: Session) -> dict:
    """The active catalog as sources-file data (the shape ``read_declarations`` accepts)."""
    platforms = []
    posts = set(session.scalars(select(Announcement.document_id)))
    newsrooms = session.scalars(
        select(AnnouncementSource).where(AnnouncementSource.active).order_by(AnnouncementSource.slug)
    ).all()
    for platform in session.scalars(select(Platform).order_by(Platform.slug)):
        documents = [_document_data(d) for d in platform.documents if d.active and d.id not in posts]
        listings = [_newsroom_data(n) for n in newsrooms if n.platform_id == platform.id]
        data: dict[str, Any] = {"slug": platform.slug, "name": platform.name, "documents": documents}
        if listings:
            data["announcements"] = listings
        if documents or listings:
            platforms.append(data)
    return {"platforms": platforms}


def _newsroom_data(newsroom: AnnouncementSource) -> dict:
    data: dict[str, Any] = {"slug": newsroom.slug, "listing": newsroom.listing}
    if newsroom.follow:
        data["follow"] = newsroom.follow
    if newsroom.select:
        data["select"] = list(newsroom.select)
    if newsroom.schedule_seconds:
        data["schedule"] = format_schedule(newsroom.schedule_seconds)
    return data


def _document_data(document: Document) -> dict:
    data: dict[str, Any] = {"slug": document.slug, "title": document.title, "type": document.terms_type}
    if document.schedule_seconds:
        data["schedule"] = format_schedule(document.schedule_seconds)
    if document.ignore:
        data["ignore"] = list(document.ignore)
    pages = [_source_data(s) for s in document.sources if s.active]
    if len(pages) == 1:
        data.update(pages[0])
    else:
        data["sources"] = pages
    return data


def _source_data(source: Source) -> dict:
    data: dict[str, Any] = {"url": source.url}
    if source.select:
        data["select"] = list(source.select)
    if source.remove:
        data["remove"] = list(source.remove)
    if source.fetcher != "http":
        data["fetcher"] = source.fetcher
    if not source.robots:
        data["robots"] = False
    return data
