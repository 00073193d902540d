"""What was found: versions of a document (a tamper-evident chain) and the changes between them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from policywatch.verdicts import Significance
from store.models.base import Base, utcnow


class Version(Base):
    """The extracted, normalised text of a document, recorded only when it changes.

    ``seq`` is the position in the document's chain (1 = first); ``chain_hash`` covers the parent's
    chain hash, so rewriting any earlier version breaks every later one. One parent has at most one
    child and one document at most one version per position: the schema, not the code, forbids forks.
    """

    __tablename__ = "version"
    __table_args__ = (
        UniqueConstraint("document_id", "seq"),
        UniqueConstraint("parent_id"),
        CheckConstraint("seq >= 1", name="seq_positive"),
        CheckConstraint("(seq = 1) = (parent_id IS NULL)", name="parent_iff_not_first"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column()
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("version.id"), default=None)
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64))
    chain_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    crawl_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("crawl_run.id", ondelete="SET NULL"), default=None
    )

    parent: Mapped[Version | None] = relationship(remote_side=[id])
    snapshot_links: Mapped[list[VersionSnapshot]] = relationship(
        order_by="VersionSnapshot.position", cascade="all, delete-orphan"
    )


class VersionSnapshot(Base):
    """Which snapshot, in which position, a version was extracted from."""

    __tablename__ = "version_snapshot"

    version_id: Mapped[int] = mapped_column(ForeignKey("version.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshot.id"), index=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id", ondelete="SET NULL"), default=None)


class Change(Base):
    """The comparison of a version with its parent: structured summary, significance and topics."""

    __tablename__ = "change"
    __table_args__ = (
        CheckConstraint(f"significance IN {Significance.values()}", name="significance"),
        Index("ix_change_document_detected", "document_id", "detected_at"),
        Index("ix_change_pending_alerts", "alerts_processed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    from_version_id: Mapped[int] = mapped_column(ForeignKey("version.id"))
    to_version_id: Mapped[int] = mapped_column(ForeignKey("version.id"), unique=True)
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)
    significance: Mapped[str] = mapped_column(String(20))
    reasons: Mapped[list] = mapped_column(default=list)
    topics: Mapped[list] = mapped_column(default=list)
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict] = mapped_column(default=dict)
    provisions: Mapped[list] = mapped_column(default=list)
    alerts_processed_at: Mapped[datetime | None] = mapped_column(default=None)

    from_version: Mapped[Version] = relationship(foreign_keys=[from_version_id])
    to_version: Mapped[Version] = relationship(foreign_keys=[to_version_id])


class ProvisionInstance(Base):
    """Whether a version states one provision type of the catalog and, if so, where: the heading path
    of its main section and the clauses that state it. Derived from the version's text (rebuildable)."""

    __tablename__ = "provision_instance"
    __table_args__ = (Index("ix_provision_instance_provision", "provision", "version_id"),)

    version_id: Mapped[int] = mapped_column(ForeignKey("version.id", ondelete="CASCADE"), primary_key=True)
    provision: Mapped[str] = mapped_column(String(60), primary_key=True)
    present: Mapped[bool] = mapped_column()
    heading: Mapped[str | None] = mapped_column(Text, default=None)
    path: Mapped[list] = mapped_column(default=list)
    clauses: Mapped[list] = mapped_column(default=list)


class ProvisionNote(Base):
    """A machine-written interpretive note on one provision's clause text, asked of the LLM provider
    the settings name once per provision type and text (``text_sha256`` of ``Instance.text``)."""

    __tablename__ = "provision_note"

    provision: Mapped[str] = mapped_column(String(60), primary_key=True)
    text_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
