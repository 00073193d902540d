"""What a crawl did: crawl runs, fetch events and the content-addressed snapshots."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.models.base import Base, utcnow

FETCH_OUTCOMES = ("changed", "unchanged", "not_modified", "error")


class CrawlRun(Base):
    """One run of the crawler over a set of sources."""

    __tablename__ = "crawl_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(20), default="running")
    trigger: Mapped[str] = mapped_column(String(40), default="cli")
    stats: Mapped[dict] = mapped_column(default=dict)


class Snapshot(Base):
    """Raw bytes of a fetched source, stored once per SHA-256, compressed.

    ``codec`` says how ``data`` decodes: ``zstd`` alone, or ``zstd-dict`` with the decoded bytes of
    the snapshot ``base_id`` as dictionary (an older one; a newer one in databases written before
    forward deltas, see ``store.snapshots``); ``depth`` is the snapshot's position in its source's
    group, which bounds how many deltas a read walks.
    """

    __tablename__ = "snapshot"
    __table_args__ = (CheckConstraint("depth >= 0", name="depth_non_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id", ondelete="SET NULL"), index=True)
    url: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(String(200), default=None)
    etag: Mapped[str | None] = mapped_column(Text, default=None)
    last_modified: Mapped[str | None] = mapped_column(Text, default=None)
    size: Mapped[int] = mapped_column()
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    codec: Mapped[str] = mapped_column(String(20), default="zstd")
    base_id: Mapped[int | None] = mapped_column(ForeignKey("snapshot.id"), default=None)
    depth: Mapped[int] = mapped_column(default=0)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class FetchEvent(Base):
    """One fetch attempt of a source, whatever its outcome, and the snapshot it read: a page whose
    bytes differ from the last snapshot in volatile markup alone (``crawler.extract.fingerprint``) is not
    stored again and points at that snapshot."""

    __tablename__ = "fetch_event"
    __table_args__ = (
        CheckConstraint(f"outcome IN {FETCH_OUTCOMES}", name="outcome"),
        Index("ix_fetch_event_source_time", "source_id", "fetched_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    crawl_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("crawl_run.id", ondelete="SET NULL"), index=True
    )
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"))
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str | None] = mapped_column(Text, default=None)
    redirects: Mapped[list] = mapped_column(default=list)
    http_status: Mapped[int | None] = mapped_column(default=None)
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    #: the ``policywatch.verdicts.FailureKind`` of a failed fetch; its detail is ``reason``
    failure_kind: Mapped[str | None] = mapped_column(String(20), default=None)
    duration_ms: Mapped[int] = mapped_column(default=0)
    bytes: Mapped[int] = mapped_column(default=0)
    #: SHA-256 of the body received; differs from the snapshot's when only volatile markup changed
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    snapshot_id: Mapped[int | None] = mapped_column(
        ForeignKey("snapshot.id", ondelete="SET NULL"), default=None
    )

    snapshot: Mapped[Snapshot | None] = relationship()
