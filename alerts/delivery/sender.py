"""The sender: claims due outbox rows, delivers the emails the content side builds for them,
records the outcome.

Claiming takes whole subscribers' due rows with row locks (PostgreSQL ``FOR UPDATE SKIP LOCKED``;
SQLite's write lock, taken at BEGIN IMMEDIATE) and leases them (``claimed_until``), so two senders
never take the same row and a killed sender's rows become due again when the lease runs out. Each
subscriber gets one email per kind per claim; subscribers whose emails are identical but for their
personal links share a batch (one provider request). After each batch the outcome is committed at
once: sent with the provider's message id, retried later with exponential backoff (honouring
Retry-After), or failed with the reason.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, String, and_, cast, func, literal, or_, select, update
from sqlalchemy.orm import Session

from alerts.audience.subscribers import mask_email
from alerts.audience.tiers import ALERT_TIERS
from alerts.audience.tokens import Tokens
from alerts.content.compose import EmailBatch, Recipient, content_key, emails_for
from alerts.delivery.backends import Backend, PermanentError, TransientError, backend_for
from policywatch.settings import Settings
from store.db import transaction
from store.models import Delivery, Subscriber, utcnow

log = logging.getLogger(__name__)
MAX_BACKOFF = 3600.0
# Which subscriber state each kind of email needs; rows of anyone else are cancelled.
SENDABLE_TO = {"confirmation": "pending", "alert": "confirmed", "digest": "confirmed"}


@dataclass
class Report:
    """What one send run did, counted in emails (one per recipient) and provider requests."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    requests: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Claimed:
    """One claimed outbox row with what composing needs of its subscriber."""

    id: int
    subscriber_id: int
    kind: str
    change_id: int | None
    change_ids: tuple[int, ...]
    digest_week: str | None
    attempts: int
    message_key: str
    email: str
    subscriber_status: str
    tier: str


class Sender:
    """Sends every due outbox row through one backend; ``run()`` until nothing is due soon."""

    def __init__(self, engine: Engine, settings: Settings, backend: Backend | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.backend = backend or backend_for(settings)
        self.tokens = Tokens.from_settings(settings)
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:100]

    def run(self) -> Report:
        """Send until no row is due, waiting for retries due within ``email_retry_wait`` seconds."""
        report = Report()
        while True:
            claimed = self.claim()
            if claimed:
                self.deliver(claimed, report)
                continue
            wait = self.next_due_in()
            if wait is None or wait > self.settings.email_retry_wait:
                return report
            time.sleep(wait)

    def claim(self) -> list[Claimed]:
        """Lease the due rows of the next few subscribers to this sender and return them."""
        limit = self.settings.email_batch_size * self.settings.email_concurrency
        with transaction(self.engine) as session:
            now = utcnow()
            subscribers = session.scalars(
                select(Delivery.subscriber_id)
                .where(_due(now))
                .distinct()
                .order_by(Delivery.subscriber_id)
                .limit(limit)
            ).all()
            if not subscribers:
                return []
            ids = session.scalars(
                select(Delivery.id)
                .where(_due(now), Delivery.subscriber_id.in_(subscribers))
                .with_for_update(skip_locked=True)
            ).all()
            key = (
                literal(f"{uuid.uuid4().hex[:16]}.")
                + Delivery.kind
                + "."
                + cast(Delivery.subscriber_id, String)
            )
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids))
                .values(
                    status="sending",
                    claimed_by=self.worker,
                    attempts=Delivery.attempts + 1,
                    message_key=key,
                    claimed_until=now + timedelta(seconds=self.settings.email_lease_seconds),
                ),
                execution_options={"synchronize_session": False},
            )
            return _claimed_rows(session, ids)

    def next_due_in(self) -> float | None:
        """Seconds until the next pending row (or an expired lease) is due, or None if none."""
        with transaction(self.engine) as session:
            moments = [
                session.scalar(
                    select(func.min(Delivery.next_attempt_at)).where(Delivery.status == "pending")
                ),
                session.scalar(select(func.min(Delivery.claimed_until)).where(Delivery.status == "sending")),
            ]
        due = [moment for moment in moments if moment is not None]
        return max(0.0, (min(due) - utcnow()).total_seconds()) if due else None

    def deliver(self, claimed: list[Claimed], report: Report) -> None:
        """Compose the claimed rows into batches and send them, recording each outcome at once."""
        cancelled = [row.id for row in claimed if not _eligible(row)]
        if cancelled:
            self.record(cancelled, status="cancelled", last_error="subscriber is no longer eligible")
            report.cancelled += len(cancelled)
        batches = self.batches([row for row in claimed if row.id not in set(cancelled)])
        attempts = {row.id: row.attempts for row in claimed}
        with ThreadPoolExecutor(self.settings.email_concurrency) as pool:
            for outcome in pool.map(lambda batch: self.send(batch, attempts), batches):
                report.requests += 1
                kind, count, error = outcome
                setattr(report, kind, getattr(report, kind) + count)
                if error:
                    report.errors.append(error)

    def send(self, batch: EmailBatch, attempts: dict[int, int]) -> tuple[str, int, str | None]:
        """Deliver one batch and commit its outcome; returns (report field, emails, error)."""
        ids = batch.delivery_ids
        try:
            message_id = self.backend.send(batch)
        except PermanentError as exc:
            self.record(ids, status="failed", last_error=str(exc))
            log.error("%d email(s) failed for good: %s", len(batch.recipients), exc)
            return "failed", len(batch.recipients), str(exc)
        except TransientError as exc:
            return self.retry_later(batch, attempts, exc)
        self.record(ids, status="sent", provider_message_id=message_id, sent_at=utcnow(), last_error=None)
        log.info(
            "%s email sent to %s (%s)",
            batch.email.kind,
            ", ".join(mask_email(r.email) for r in batch.recipients[:3])
            + ("…" if len(batch.recipients) > 3 else ""),
            message_id,
        )
        return "sent", len(batch.recipients), None

    def retry_later(
        self, batch: EmailBatch, attempts: dict[int, int], error: TransientError
    ) -> tuple[str, int, str]:
        """Put a batch's rows back with exponential backoff, or fail those out of attempts."""
        by_attempts: dict[int, list[int]] = defaultdict(list)
        for delivery_id in batch.delivery_ids:
            by_attempts[attempts[delivery_id]].append(delivery_id)
        given_up = 0
        for count, ids in by_attempts.items():
            if count >= self.settings.email_max_attempts:
                self.record(ids, status="failed", last_error=f"gave up after {count} attempts: {error}")
                given_up += len(ids)
            else:
                delay = min(self.settings.email_retry_base * 2 ** (count - 1), MAX_BACKOFF)
                delay = max(delay, error.retry_after or 0.0)
                self.record(
                    ids,
                    status="pending",
                    last_error=str(error),
                    next_attempt_at=utcnow() + timedelta(seconds=delay),
                )
        log.warning(
            "%d email(s) not sent, %s: %s",
            len(batch.recipients),
            "giving up" if given_up else "will retry",
            error,
        )
        return ("failed" if given_up else "retried"), len(batch.recipients), str(error)

    def record(self, ids: list[int], **values) -> None:
        """Settle rows this sender still holds, in one short transaction."""
        with transaction(self.engine) as session:
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids), Delivery.claimed_by == self.worker)
                .values(claimed_by=None, claimed_until=None, **values),
                execution_options={"synchronize_session": False},
            )

    def batches(self, rows: list[Claimed]) -> list[EmailBatch]:
        """One email per subscriber and kind (its content from ``alerts.content.compose``), grouped into
        batches of identical content."""
        messages: dict[tuple, list[Claimed]] = defaultdict(list)
        for row in rows:
            messages[(row.subscriber_id, row.kind)].append(row)
        groups: dict[tuple, list[list[Claimed]]] = defaultdict(list)
        for message in messages.values():
            groups[content_key(message)].append(message)
        with transaction(self.engine) as session:
            emails = emails_for(session, groups, self.settings.base_url)
        batches = []
        for key, messages_alike in groups.items():
            email = emails[key]
            for start in range(0, len(messages_alike), self.settings.email_batch_size):
                chunk = messages_alike[start : start + self.settings.email_batch_size]
                batches.append(EmailBatch(email, [self.recipient(message) for message in chunk]))
        return batches

    def recipient(self, message: list[Claimed]) -> Recipient:
        """The recipient of one subscriber's email with their signed links."""
        first = message[0]
        purposes = (
            ("confirm", "unsubscribe", "preferences")
            if first.kind == "confirmation"
            else ("unsubscribe", "preferences")
        )
        links = {purpose: self.tokens.link(purpose, first.subscriber_id, first.email) for purpose in purposes}
        return Recipient(
            first.subscriber_id, first.email, first.message_key, tuple(row.id for row in message), links
        )


def _eligible(row: Claimed) -> bool:
    """Whether the row's subscriber may still get it: state for its kind, and a tier with alerts."""
    return row.subscriber_status == SENDABLE_TO[row.kind] and (row.kind != "alert" or row.tier in ALERT_TIERS)


def _due(now: datetime):
    return or_(
        and_(Delivery.status == "pending", Delivery.next_attempt_at <= now),
        and_(Delivery.status == "sending", Delivery.claimed_until < now),
    )


def _claimed_rows(session: Session, ids: Sequence[int]) -> list[Claimed]:
    rows = session.execute(
        select(
            Delivery.id,
            Delivery.subscriber_id,
            Delivery.kind,
            Delivery.change_id,
            Delivery.change_ids,
            Delivery.digest_week,
            Delivery.attempts,
            Delivery.message_key,
            Subscriber.email,
            Subscriber.status,
            Subscriber.tier,
        )
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.id.in_(ids))
        .order_by(Delivery.id)
    )
    return [
        Claimed(i, s, k, c, tuple(cs or ()), w, a, m, e, st, t) for i, s, k, c, cs, w, a, m, e, st, t in rows
    ]
