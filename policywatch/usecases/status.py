"""What `policywatch status` reports: crawl health per source, changes and deliveries waiting, and
who leads the scheduler. Plain data, so the CLI can print it as tables or JSON."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session

from policywatch.service.scheduler import JOB_TABLE
from policywatch.usecases.leader import LEASE
from store.models import Change, Delivery, Document, Lease
from store.queries.source_health import every_source_health

FAILED_SHOWN = 10


def service_status(session: Session, now: datetime) -> dict:
    """The whole status as JSON-ready data."""
    return {
        "now": now.isoformat(),
        "sources": every_source_health(session),
        "changes_waiting": changes_waiting(session),
        "deliveries": delivery_counts(session),
        "delayed_deliveries": delayed_deliveries(session),
        "failed_deliveries": failed_deliveries(session),
        "scheduler": scheduler_state(session, now),
    }


def changes_waiting(session: Session) -> list[dict]:
    """Changes above cosmetic that the alerts have not processed yet, oldest first."""
    rows = session.execute(
        select(Change.id, Document.slug, Change.significance, Change.detected_at)
        .join(Document, Document.id == Change.document_id)
        .where(Change.alerts_processed_at.is_(None), Change.significance != "cosmetic")
        .order_by(Change.detected_at)
    ).all()
    return [
        {"change": id_, "document": slug, "significance": significance, "detected_at": _iso(detected)}
        for id_, slug, significance, detected in rows
    ]


def delivery_counts(session: Session) -> dict[str, int]:
    """Deliveries per status (pending, sending, sent, failed…)."""
    return dict(session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all())


def delayed_deliveries(session: Session) -> dict | None:
    """Deliveries kept pending after a provider error (an outage delays them): how many, queued
    since when, the next attempt and the latest error; None when none is delayed."""
    delayed = (Delivery.status == "pending", Delivery.last_error.is_not(None))
    count, since, next_attempt = session.execute(
        select(func.count(), func.min(Delivery.created_at), func.min(Delivery.next_attempt_at)).where(
            *delayed
        )
    ).one()
    if not count:
        return None
    error = session.scalar(select(Delivery.last_error).where(*delayed).order_by(Delivery.id.desc()).limit(1))
    return {"deliveries": count, "since": _iso(since), "next_attempt": _iso(next_attempt), "error": error}


def failed_deliveries(session: Session) -> list[dict]:
    """The latest failed or unconfirmed (perhaps sent, never confirmed) deliveries with their error."""
    rows = session.scalars(
        select(Delivery)
        .where(Delivery.status.in_(("failed", "unconfirmed")))
        .order_by(Delivery.id.desc())
        .limit(FAILED_SHOWN)
    ).all()
    return [
        {"delivery": d.id, "kind": d.kind, "status": d.status, "attempts": d.attempts, "error": d.last_error}
        for d in rows
    ]


def scheduler_state(session: Session, now: datetime) -> dict:
    """The lease holder (None when no scheduler leads) and the next run of each scheduled job."""
    lease = session.get(Lease, LEASE)
    leader = None
    if lease is not None:
        leader = {
            "holder": lease.holder,
            "since": _iso(lease.acquired_at),
            "expires": _iso(lease.expires_at),
            "alive": lease.expires_at > now,
        }
    return {"leader": leader, "jobs": _next_runs(session)}


def _next_runs(session: Session) -> dict[str, str | None]:
    if not inspect(session.connection()).has_table(JOB_TABLE):
        return {}
    rows = session.execute(text(f"SELECT id, next_run_time FROM {JOB_TABLE} ORDER BY id")).all()
    return {job: _iso(datetime.fromtimestamp(at, UTC)) if at is not None else None for job, at in rows}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None
