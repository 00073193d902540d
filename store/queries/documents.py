"""Read side of the catalog: platforms and documents.

The statement of the page viewed most (a document) is built once, with bound parameters: building
one per request and computing its cache key costs SQLAlchemy more than running it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.orm import Session, joinedload

from store.models import Announcement, Document, Platform, Source, Version


def document_title(platform: str, document: str) -> str:
    """A document named with its platform, once: "OpenAI Usage Policies", not "OpenAI OpenAI …"."""
    return document if document.casefold().startswith(platform.casefold()) else f"{platform} {document}"


def list_platforms(session: Session, limit: int, offset: int) -> tuple[Sequence[Row], int]:
    """One page of platforms with their document counts, by slug."""
    documents = (
        select(Document.platform_id, func.count().label("documents"))
        .group_by(Document.platform_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Platform.id,
            Platform.slug,
            Platform.name,
            func.coalesce(documents.c.documents, 0).label("documents"),
        )
        .outerjoin(documents, documents.c.platform_id == Platform.id)
        .order_by(Platform.slug)
        .limit(limit)
        .offset(offset)
    ).all()
    return rows, session.execute(select(func.count()).select_from(Platform)).scalar_one()


def get_platform(session: Session, slug: str) -> Platform | None:
    """The platform called ``slug``."""
    return session.scalar(select(Platform).where(Platform.slug == slug))


def list_documents(
    session: Session, limit: int, offset: int, platform: str | None = None, terms_type: str | None = None
) -> tuple[Sequence[Row], int]:
    """One page of documents (with platform and version count), by platform then slug."""
    versions = (
        select(
            Version.document_id, func.count().label("versions"), func.max(Version.created_at).label("updated")
        )
        .group_by(Version.document_id)
        .subquery()
    )
    conditions = []
    if platform:
        conditions.append(Platform.slug == platform)
    if terms_type:
        conditions.append(Document.terms_type == terms_type)
    rows = session.execute(
        select(
            Document.id,
            Document.slug,
            Document.title,
            Document.terms_type,
            Document.active,
            Platform.slug.label("platform"),
            Platform.name.label("platform_name"),
            func.coalesce(versions.c.versions, 0).label("versions"),
            versions.c.updated.label("last_version_at"),
        )
        .join(Platform, Platform.id == Document.platform_id)
        .outerjoin(versions, versions.c.document_id == Document.id)
        .where(*conditions)
        .order_by(Platform.slug, Document.slug)
        .limit(limit)
        .offset(offset)
    ).all()
    total = session.execute(
        select(func.count())
        .select_from(Document)
        .join(Platform, Platform.id == Document.platform_id)
        .where(*conditions)
    ).scalar_one()
    return rows, total


def followable_documents(session: Session) -> dict[int, list[Row]]:
    """The documents a subscriber may follow one by one (slug and title), by platform id, by title.
    Announcement posts are left out: they come with their platform."""
    posts = select(Announcement.document_id)
    rows = session.execute(
        select(Document.platform_id, Document.slug, Document.title)
        .where(Document.id.not_in(posts))
        .order_by(Document.title)
    ).all()
    documents: dict[int, list[Row]] = {}
    for row in rows:
        documents.setdefault(row.platform_id, []).append(row)
    return documents


_DOCUMENT = select(Document).options(joinedload(Document.platform)).where(Document.slug == bindparam("slug"))
# its sources joined in too, without their texts (the text is the versions' business)
_DOCUMENT_AND_SOURCES = _DOCUMENT.options(joinedload(Document.sources).defer(Source.text))


def get_document(session: Session, slug: str, sources: bool = False) -> Document | None:
    """The document called ``slug``, its platform joined in, and its sources too if asked (one query)."""
    query = _DOCUMENT_AND_SOURCES if sources else _DOCUMENT
    return session.scalars(query, {"slug": slug}).unique().one_or_none()


def terms_types(session: Session) -> list[str]:
    """Every terms type in use, sorted."""
    return list(session.scalars(select(Document.terms_type).distinct().order_by(Document.terms_type)))
