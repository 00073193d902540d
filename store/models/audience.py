"""Who is told: subscribers, their subscriptions, and the delivery outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.models.base import Base, utcnow

TIERS = ("free", "watcher", "professional")
SUBSCRIBER_STATES = ("pending", "confirmed", "unsubscribed")
DELIVERY_KINDS = ("confirmation", "alert", "digest", "announcement")
DELIVERY_STATES = ("pending", "sending", "sent", "unconfirmed", "failed", "cancelled")


class Subscriber(Base):
    """An email address with a tier; nothing but the confirmation is sent before it is confirmed."""

    __tablename__ = "subscriber"
    __table_args__ = (
        CheckConstraint(f"tier IN {TIERS}", name="tier"),
        CheckConstraint(f"status IN {SUBSCRIBER_STATES}", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    tier: Mapped[str] = mapped_column(String(20), default="free")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(default=None)

    subscriptions: Mapped[list[Subscription]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan"
    )


class Subscription(Base):
    """A subscriber's interest in a platform or one document, with topic, provision and significance
    filters."""

    __tablename__ = "subscription"
    __table_args__ = (
        CheckConstraint("platform_id IS NOT NULL OR document_id IS NOT NULL", name="has_target"),
        UniqueConstraint("subscriber_id", "platform_id", "document_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscriber.id", ondelete="CASCADE"), index=True)
    platform_id: Mapped[int | None] = mapped_column(
        ForeignKey("platform.id", ondelete="CASCADE"), default=None
    )
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), default=None
    )
    topics: Mapped[list] = mapped_column(default=list)
    provisions: Mapped[list] = mapped_column(default=list)
    min_significance_alert: Mapped[str] = mapped_column(String(20), default="substantive")
    min_significance_digest: Mapped[str] = mapped_column(String(20), default="minor")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    subscriber: Mapped[Subscriber] = relationship(back_populates="subscriptions")


class Delivery(Base):
    """The outbox: one row per (subscriber, change) alert, per (subscriber, post) announcement, per
    (subscriber, week) digest, or per confirmation. Rows that go out in one email share
    ``message_key``, kept while that email is retried. A digest row lists the changes and posts it
    reports in ``change_ids`` and ``announcement_ids``, fixed when the digest is decided.
    ``unconfirmed_attempts`` counts requests whose answer was lost (timeout, cut answer, sender
    killed): the provider may have accepted them; past the bound the row is ``unconfirmed``."""

    __tablename__ = "delivery"
    __table_args__ = (
        CheckConstraint(f"kind IN {DELIVERY_KINDS}", name="kind"),
        CheckConstraint(f"status IN {DELIVERY_STATES}", name="status"),
        UniqueConstraint("subscriber_id", "change_id"),
        UniqueConstraint("subscriber_id", "digest_week"),
        UniqueConstraint("subscriber_id", "announcement_id"),
        Index("ix_delivery_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscriber.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    change_id: Mapped[int | None] = mapped_column(ForeignKey("change.id", ondelete="CASCADE"), default=None)
    digest_week: Mapped[str | None] = mapped_column(String(10), default=None)
    change_ids: Mapped[list] = mapped_column(default=list)
    #: the newsroom posts a digest row reports, fixed with ``change_ids``
    announcement_ids: Mapped[list] = mapped_column(default=list)
    #: the newsroom post a same-day ``announcement`` row tells of
    announcement_id: Mapped[int | None] = mapped_column(
        ForeignKey("announcement.id", ondelete="CASCADE"), default=None
    )
    status: Mapped[str] = mapped_column(String(20), default="pending")
    message_key: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    unconfirmed_attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100), default=None)
    claimed_until: Mapped[datetime | None] = mapped_column(default=None)
    provider_message_id: Mapped[str | None] = mapped_column(String(200), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
