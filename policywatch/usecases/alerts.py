"""Sending email: same-day alerts of new changes, the weekly digest, and the outbox they queue to."""

from __future__ import annotations

from dataclasses import dataclass

from alerts.content.weekly_digest import last_complete_week, parse_week, queue_week
from alerts.delivery.backends import DeliveryError
from alerts.delivery.outbox import queue_alerts, queue_announcements
from alerts.delivery.sender import Report, Sender
from policywatch.runtime import Runtime
from store.db import transaction
from store.models import utcnow


@dataclass
class Delivered:
    """What sending the outbox did, or the delivery error that stopped it."""

    report: Report | None
    error: str | None = None


@dataclass
class AlertsSent:
    """New changes and posts seen, alerts queued for them, and the outbox run that followed."""

    changes: int
    queued: int
    delivered: Delivered
    posts: int = 0


@dataclass
class DigestSent:
    """The digest's week, how many subscribers had something to report, and the outbox run."""

    week: str
    queued: int
    delivered: Delivered


def send_outbox(runtime: Runtime) -> Delivered:
    """Send every due outbox row (alerts, confirmations, digest retries) with the configured backend."""
    try:
        return Delivered(Sender(runtime.engine, runtime.settings).run())
    except DeliveryError as exc:
        return Delivered(None, str(exc))


def send_alerts(runtime: Runtime) -> AlertsSent:
    """Queue alerts for changes and newsroom posts not yet alerted, then send the outbox."""
    with transaction(runtime.engine) as session:
        changes, queued = queue_alerts(session)
        posts, told = queue_announcements(session)
    return AlertsSent(changes, queued + told, send_outbox(runtime), posts)


def digest_week(week: str | None) -> str:
    """``week`` (ISO YYYY-Www) checked, or the last complete week; ValueError for a malformed one."""
    week = week or last_complete_week(utcnow())
    parse_week(week)
    return week


def send_digest(runtime: Runtime, week: str | None = None) -> DigestSent:
    """Queue each confirmed subscriber's digest of ``week`` (default: the last complete one), then
    send the outbox; a week already sent queues nothing more. ValueError for a malformed week."""
    week = digest_week(week)
    with transaction(runtime.engine) as session:
        queued = queue_week(session, week)
    return DigestSent(week, queued, send_outbox(runtime))
