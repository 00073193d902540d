"""Small builders of catalog rows for tests."""

from __future__ import annotations

from sqlalchemy.orm import Session

from store.models import Document, Platform, Source


def make_document(
    session: Session,
    slug: str = "acme-terms",
    urls: tuple[str, ...] = ("https://acme.test/terms",),
    platform_slug: str = "acme",
) -> Document:
    """A platform (created if missing) with one document fetched from ``urls`` in order."""
    platform = session.query(Platform).filter_by(slug=platform_slug).one_or_none()
    if platform is None:
        platform = Platform(slug=platform_slug, name=platform_slug.title())
        session.add(platform)
    document = Document(
        platform=platform,
        slug=slug,
        title="Terms of Service",
        terms_type="Terms of Service",
        sources=[Source(position=i, url=url) for i, url in enumerate(urls)],
    )
    session.add(document)
    session.flush()
    return document
