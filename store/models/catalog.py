"""What is watched: platforms, their documents, and the sources each document is fetched from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.models.base import Base, utcnow


class Platform(Base):
    """A vendor whose policies are watched (Anthropic, OpenAI…)."""

    __tablename__ = "platform"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    documents: Mapped[list[Document]] = relationship(back_populates="platform", order_by="Document.slug")


class Document(Base):
    """One policy of a platform, of one terms type; its text may combine several sources."""

    __tablename__ = "document"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    terms_type: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(default=True)
    schedule_seconds: Mapped[int | None] = mapped_column(default=None)
    ignore: Mapped[list] = mapped_column(default=list)
    inputs_digest: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    platform: Mapped[Platform] = relationship(back_populates="documents")
    sources: Mapped[list[Source]] = relationship(
        back_populates="document", order_by="Source.position", cascade="all, delete-orphan"
    )


class Source(Base):
    """One URL a document is fetched from, with its selectors, fetcher and health."""

    __tablename__ = "source"
    __table_args__ = (
        UniqueConstraint("document_id", "position"),
        Index("ix_source_next_fetch", "active", "next_fetch_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    url: Mapped[str] = mapped_column(Text)
    select: Mapped[list] = mapped_column(default=list)
    remove: Mapped[list] = mapped_column(default=list)
    fetcher: Mapped[str] = mapped_column(String(20), default="http")
    robots: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)

    etag: Mapped[str | None] = mapped_column(Text, default=None)
    last_modified: Mapped[str | None] = mapped_column(Text, default=None)
    last_snapshot_id: Mapped[int | None] = mapped_column(
        ForeignKey("snapshot.id", use_alter=True, ondelete="SET NULL"), default=None
    )
    region_digest: Mapped[str | None] = mapped_column(String(64), default=None)
    #: ``crawler.extract.fingerprint.page_fingerprint`` of the last page whose region was accepted
    page_fingerprint: Mapped[str | None] = mapped_column(String(64), default=None)
    text: Mapped[str | None] = mapped_column(Text, default=None)
    last_fetched_at: Mapped[datetime | None] = mapped_column(default=None)
    next_fetch_at: Mapped[datetime | None] = mapped_column(default=None)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    #: the ``policywatch.verdicts.FailureKind`` of ``last_error``
    last_failure_kind: Mapped[str | None] = mapped_column(String(20), default=None)
    #: when ``consecutive_failures`` reached the broken threshold; None once a fetch succeeds
    broken_since: Mapped[datetime | None] = mapped_column(default=None)

    document: Mapped[Document] = relationship(back_populates="sources")

    @hybrid_property
    def broken(self) -> bool:
        """Whether the source has failed often enough in a row to need someone's attention."""
        return self.broken_since is not None

    @broken.inplace.expression
    @classmethod
    def _broken_expression(cls):
        return cls.broken_since.is_not(None)


class AnnouncementSource(Base):
    """A platform's newsroom: a listing page, feed or sitemap whose posts are each a document."""

    __tablename__ = "announcement_source"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    listing: Mapped[str] = mapped_column(Text)
    follow: Mapped[str | None] = mapped_column(Text, default=None)
    select: Mapped[list] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)
    #: seconds between two reads of the listing (None: the ``announcement_schedule`` setting)
    schedule_seconds: Mapped[int | None] = mapped_column(default=None)
    #: when the listing is due to be read next (None: at the next crawl)
    next_read_at: Mapped[datetime | None] = mapped_column(default=None)
    #: what the listing was when last read: html, feed or sitemap (a feed answering HTML has failed)
    kind: Mapped[str | None] = mapped_column(String(20), default=None)
    etag: Mapped[str | None] = mapped_column(Text, default=None)
    last_modified: Mapped[str | None] = mapped_column(Text, default=None)
    last_read_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    #: since when alerts follow this newsroom (its last read or post found when they began, in the
    #: crawl's time): posts found until then are its back catalogue
    alerts_from: Mapped[datetime | None] = mapped_column(default=None)

    platform: Mapped[Platform] = relationship()
    posts: Mapped[list[Announcement]] = relationship(back_populates="source", cascade="all, delete-orphan")


class Announcement(Base):
    """One post found on a newsroom, watched as its own document (terms type ``Announcement``).

    ``listed_title`` and ``listed_published`` are what the listing said; ``title`` and ``published``
    what the post's page says. ``fetched``: its page answered once; ``gone`` counts the crawls in a row
    it answered 404 or 410 since. A post found beyond a crawl's budget waits with its document inactive."""

    __tablename__ = "announcement"
    __table_args__ = (UniqueConstraint("source_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("announcement_source.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), unique=True)
    #: the canonical URL (the page's ``rel=canonical``, else the listed URL)
    url: Mapped[str] = mapped_column(Text)
    #: the URL the listing links to, tracking parameters stripped
    listed_url: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text, default=None)
    published: Mapped[str | None] = mapped_column(String(40), default=None)
    listed_title: Mapped[str | None] = mapped_column(Text, default=None)
    listed_published: Mapped[str | None] = mapped_column(String(40), default=None)
    topics: Mapped[list] = mapped_column(default=list)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_listed: Mapped[datetime | None] = mapped_column(default=None)
    fetched: Mapped[bool] = mapped_column(default=False)
    gone: Mapped[int] = mapped_column(default=0)
    removed_at: Mapped[datetime | None] = mapped_column(default=None)
    #: when the same-day alerts decided who is told of this post (None: not yet)
    alerts_processed_at: Mapped[datetime | None] = mapped_column(default=None)

    source: Mapped[AnnouncementSource] = relationship(back_populates="posts")
    document: Mapped[Document] = relationship()
