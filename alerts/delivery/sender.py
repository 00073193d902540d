"""The sender: claims due outbox rows, delivers the emails the content side builds for them,
records the outcome.

Claiming takes whole subscribers' due rows with row locks (PostgreSQL ``FOR UPDATE SKIP LOCKED``;
SQLite's write lock, taken at BEGIN IMMEDIATE) and leases them (``claimed_until``), so two senders
never take the same row and a killed sender's rows become due again when the lease runs out. Each
subscriber gets one email per kind per claim, with a message key recorded before sending and kept
while the same email is retried; subscribers whose emails are identical but for their personal
links share a batch (one provider request). Each batch succeeds or fails alone, and its outcome is
committed at once: sent with the provider's message id; back to pending with exponential backoff
(honouring Retry-After) through a provider outage until ``email_max_age_hours``, then failed; sent
again at most ``email_unconfirmed_retries`` times when an answer was lost (the provider may have
accepted it), then unconfirmed; failed with the reason when retrying cannot help.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import Engine, String, and_, case, cast, func, literal, or_, select, update
from sqlalchemy.orm import Session

from alerts.audience.subscribers import mask_email
from alerts.audience.tiers import ALERT_TIERS
from alerts.audience.tokens import Tokens
from alerts.content.compose import EmailBatch, Recipient, content_key, emails_for
from alerts.delivery.backends import Backend, PermanentError, TransientError, UnconfirmedError, backend_for
from policywatch.settings import Settings
from store.db import transaction
from store.models import Delivery, Subscriber, utcnow

log = logging.getLogger(__name__)
# Which subscriber state each kind of email needs; rows of anyone else are cancelled.
SENDABLE_TO = {
    "confirmation": "pending",
    "alert": "confirmed",
    "announcement": "confirmed",
    "digest": "confirmed",
}
#: Kinds told the same day: only to tiers with same-day alerts.
SAME_DAY = ("alert", "announcement")


@dataclass
class Report:
    """What one send run did, counted in emails (one per recipient) and provider requests."""

    sent: int = 0
    retried: int = 0
    unconfirmed: int = 0
    failed: int = 0
    cancelled: int = 0
    requests: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, outcome: Counter, error: str | None) -> None:
        """Count one batch's emails per outcome (``sent``, ``retried``…) and its error."""
        for name, count in outcome.items():
            setattr(self, name, getattr(self, name) + count)
        if error:
            self.errors.append(error)


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
    unconfirmed_attempts: int
    created_at: datetime
    message_key: str
    email: str
    subscriber_status: str
    tier: str
    announcement_id: int | None = None
    announcement_ids: tuple[int, ...] = ()


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
                if report.retried and wait is not None:
                    log.warning(
                        "email delivery delayed: %d delivery row(s) pending after provider errors, "
                        "next attempt in %.0f s: %s",
                        self.delayed(),
                        wait,
                        report.errors[-1],
                    )
                return report
            time.sleep(wait)

    def claim(self) -> list[Claimed]:
        """Lease the due rows of the next few subscribers to this sender and return them, each email
        with its message key. A row taken back from a lapsed lease counts an unconfirmed attempt."""
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
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids))
                .values(
                    status="sending",
                    claimed_by=self.worker,
                    attempts=Delivery.attempts + 1,
                    unconfirmed_attempts=Delivery.unconfirmed_attempts
                    + case((Delivery.status == "sending", 1), else_=0),
                    claimed_until=now + timedelta(seconds=self.settings.email_lease_seconds),
                ),
                execution_options={"synchronize_session": False},
            )
            return _with_message_keys(session, _claimed_rows(session, ids))

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

    def delayed(self) -> int:
        """How many rows are pending again after an error."""
        with transaction(self.engine) as session:
            return (
                session.scalar(
                    select(func.count()).where(Delivery.status == "pending", Delivery.last_error.is_not(None))
                )
                or 0
            )

    def deliver(self, claimed: list[Claimed], report: Report) -> None:
        """Compose the claimed rows into batches and send them, each batch on its own, recording
        each outcome at once."""
        held = [row for row in claimed if row.unconfirmed_attempts > self.settings.email_unconfirmed_retries]
        for lost in {row.unconfirmed_attempts for row in held}:
            ids = [row.id for row in held if row.unconfirmed_attempts == lost]
            self.record(ids, status="unconfirmed", last_error=f"{_unconfirmed(lost)} (its sender stopped)")
        report.unconfirmed += len({(row.subscriber_id, row.kind) for row in held})
        settled = {row.id for row in held}
        cancelled = [row.id for row in claimed if row.id not in settled and not _eligible(row)]
        if cancelled:
            self.record(cancelled, status="cancelled", last_error="subscriber is no longer eligible")
            report.cancelled += len(cancelled)
        settled |= set(cancelled)
        batches = self.batches([row for row in claimed if row.id not in settled], report)
        rows = {row.id: row for row in claimed}
        with ThreadPoolExecutor(self.settings.email_concurrency) as pool:
            futures = [pool.submit(self.send, batch, rows) for batch in batches]
            for batch, future in zip(batches, futures):
                report.requests += 1
                try:
                    report.add(*future.result())
                except Exception as exc:  # the outcome could not be recorded: the lease gives the rows back
                    log.exception("outcome of %d email(s) not recorded", len(batch.recipients))
                    report.add(Counter(retried=len(batch.recipients)), f"outcome not recorded: {exc}")

    def send(self, batch: EmailBatch, rows: dict[int, Claimed]) -> tuple[Counter, str | None]:
        """Deliver one batch and commit its outcome; returns (emails per report field, error)."""
        ids = batch.delivery_ids
        try:
            message_id = self.backend.send(batch)
        except PermanentError as exc:
            return self.fail(batch, str(exc))
        except TransientError as exc:
            return self.retry_later(batch, rows, exc)
        except Exception as exc:  # a fault of this email alone (its content, the backend): the others go on
            log.exception("%s email to %d recipient(s) could not be sent", batch.email.kind, len(ids))
            return self.fail(batch, f"{self.backend.name} backend: {type(exc).__name__}: {exc}")
        self.record(ids, status="sent", provider_message_id=message_id, sent_at=utcnow(), last_error=None)
        log.info(
            "%s email sent to %s (%s)",
            batch.email.kind,
            ", ".join(mask_email(r.email) for r in batch.recipients[:3])
            + ("…" if len(batch.recipients) > 3 else ""),
            message_id,
        )
        return Counter(sent=len(batch.recipients)), None

    def fail(self, batch: EmailBatch, reason: str) -> tuple[Counter, str]:
        """Record a batch's rows as failed for good with ``reason``."""
        self.record(batch.delivery_ids, status="failed", last_error=reason)
        log.error("%d email(s) failed for good: %s", len(batch.recipients), reason)
        return Counter(failed=len(batch.recipients)), reason

    def retry_later(
        self, batch: EmailBatch, rows: dict[int, Claimed], error: TransientError
    ) -> tuple[Counter, str]:
        """Settle each recipient's rows after a transient error: pending again with exponential
        backoff; failed once older than ``email_max_age_hours``; unconfirmed once more requests than
        ``email_unconfirmed_retries`` allow lost their answer."""
        now = utcnow()
        lost_answer = isinstance(error, UnconfirmedError)
        settled: dict[tuple, list[int]] = defaultdict(list)
        outcome: Counter = Counter()
        for recipient in batch.recipients:
            mine = [rows[i] for i in recipient.delivery_ids]
            name, values = self.next_state(mine, now, error, lost_answer)
            settled[tuple(sorted(values.items()))] += recipient.delivery_ids
            outcome[name] += 1
        for state, ids in settled.items():
            self.record(ids, **dict(state))
        log.info("%d email(s) not sent (%s): %s", len(batch.recipients), dict(outcome), error)
        return outcome, str(error)

    def next_state(
        self, rows: list[Claimed], now: datetime, error: TransientError, lost_answer: bool
    ) -> tuple[str, dict]:
        """(report field, column values) for one email's rows after a transient ``error``."""
        attempts = max(row.attempts for row in rows)
        lost = max(row.unconfirmed_attempts for row in rows) + lost_answer
        queued = min(row.created_at for row in rows)
        deadline = queued + timedelta(hours=self.settings.email_max_age_hours)
        if lost > self.settings.email_unconfirmed_retries:
            return "unconfirmed", {
                "status": "unconfirmed",
                "unconfirmed_attempts": lost,
                "last_error": f"{_unconfirmed(lost)}: {error}",
            }
        if now >= deadline:
            hours = (now - queued).total_seconds() / 3600
            reason = f"gave up after {attempts} attempts in {hours:.1f} h: {error}"
            return "failed", {"status": "failed", "last_error": reason}
        delay = min(self.settings.email_retry_base * 2 ** (attempts - 1), self.settings.email_retry_max_delay)
        delay = max(delay, error.retry_after or 0.0)
        return "retried", {
            "status": "pending",
            "last_error": str(error),
            "unconfirmed_attempts": lost,
            "next_attempt_at": min(now + timedelta(seconds=delay), deadline),
        }

    def record(self, ids: list[int], **values) -> None:
        """Settle rows this sender still holds, in one short transaction."""
        with transaction(self.engine) as session:
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids), Delivery.claimed_by == self.worker)
                .values(claimed_by=None, claimed_until=None, **values),
                execution_options={"synchronize_session": False},
            )

    def batches(self, rows: list[Claimed], report: Report) -> list[EmailBatch]:
        """One email per subscriber and kind (its content from ``alerts.content.compose``), grouped into
        batches of identical content; the rows of a content that cannot be composed fail alone."""
        messages: dict[tuple, list[Claimed]] = defaultdict(list)
        for row in rows:
            messages[(row.subscriber_id, row.kind)].append(row)
        groups: dict[tuple, list[list[Claimed]]] = defaultdict(list)
        for message in messages.values():
            groups[content_key(message)].append(message)
        with transaction(self.engine) as session:
            composed = emails_for(session, groups, self.settings)
        batches = []
        for key, messages_alike in groups.items():
            email = composed.emails.get(key)
            if email is None:
                reason = f"{key[0]} email could not be composed: {composed.errors[key]}"
                ids = [row.id for message in messages_alike for row in message]
                self.record(ids, status="failed", last_error=reason)
                log.error("%d email(s) failed for good: %s", len(messages_alike), reason)
                report.add(Counter(failed=len(messages_alike)), reason)
                continue
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
    return row.subscriber_status == SENDABLE_TO[row.kind] and (
        row.kind not in SAME_DAY or row.tier in ALERT_TIERS
    )


def _unconfirmed(lost: int) -> str:
    return f"not sent again: {lost} request(s) got no whole answer and the provider may have accepted one"


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
            Delivery.announcement_id,
            Delivery.announcement_ids,
            Delivery.attempts,
            Delivery.unconfirmed_attempts,
            Delivery.created_at,
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
        Claimed(i, s, k, c, tuple(cs or ()), w, a, u, at, m, e, st, t, p, tuple(ps or ()))
        for i, s, k, c, cs, w, p, ps, a, u, at, m, e, st, t in rows
    ]


def _with_message_keys(session: Session, rows: list[Claimed]) -> list[Claimed]:
    """``rows`` with each email's message key recorded: the key its rows already share when the same
    email (the same rows, no more, no fewer) is tried again, else a new one for this claim."""
    messages: dict[tuple[int, str], list[Claimed]] = defaultdict(list)
    for row in rows:
        messages[(row.subscriber_id, row.kind)].append(row)
    earlier = {row.message_key for row in rows if row.message_key}
    sizes = (
        dict(
            session.execute(
                select(Delivery.message_key, func.count())
                .where(Delivery.message_key.in_(earlier))
                .group_by(Delivery.message_key)
            ).all()
        )
        if earlier
        else {}
    )
    prefix = uuid.uuid4().hex[:16]
    keyed, fresh = [], []
    for (subscriber_id, kind), message in messages.items():
        keys = {row.message_key for row in message}
        key = keys.pop() if len(keys) == 1 else None
        if key is None or sizes.get(key) != len(message):
            key = f"{prefix}.{kind}.{subscriber_id}"
            fresh += [row.id for row in message]
        keyed += [replace(row, message_key=key) for row in message]
    if fresh:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(fresh))
            .values(
                message_key=literal(f"{prefix}.") + Delivery.kind + "." + cast(Delivery.subscriber_id, String)
            ),
            execution_options={"synchronize_session": False},
        )
    return sorted(keyed, key=lambda row: row.id)
