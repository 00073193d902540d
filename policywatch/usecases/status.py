"""What `policywatch status` reports: crawl health per source and per newsroom listing, changes and
deliveries waiting, who leads the scheduler and, on PostgreSQL, the job queue's workers and jobs.
Plain data, so the CLI can print it as tables or JSON."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session

from crawler.sources.declarations import format_schedule, parse_schedule
from policywatch.service.scheduler import JOB_TABLE
from policywatch.settings import get_settings
from policywatch.usecases.leader import LEASE
from store.models import Change, Delivery, Document, JobFailure, Lease
from store.queries.announcements import listing_schedules
from store.queries.source_health import every_source_health

FAILED_SHOWN = 10
#: A queue worker ``w`` that sent a heartbeat within the last ``:age`` seconds.
BEATING = "w.last_heartbeat >= now() - make_interval(secs => :age)"
JOBS_PER_QUEUE = (
    "SELECT queue_name, status, count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing') "
    "GROUP BY queue_name, status ORDER BY queue_name"
)
LATEST_FAILED = (
    "SELECT id, task_name, attempts FROM procrastinate_jobs WHERE status = 'failed' "
    "ORDER BY id DESC LIMIT :shown"
)
#: Running jobs whose worker is gone or stopped beating (the workers retry them).
STALLED_JOBS = (
    "SELECT count(*) FROM procrastinate_jobs j LEFT JOIN procrastinate_workers w ON w.id = j.worker_id "
    f"WHERE j.status = 'doing' AND (w.id IS NULL OR NOT {BEATING})"
)


def service_status(
    session: Session, now: datetime, stalled_seconds: float = 30.0, listing_seconds: int | None = None
) -> dict:
    """The whole status as JSON-ready data; a worker without a heartbeat for ``stalled_seconds``
    counts as gone; a listing without a schedule of its own is read every ``listing_seconds``
    (default: the ``announcement_schedule`` setting)."""
    every = listing_seconds or parse_schedule(get_settings().announcement_schedule)
    return {
        "queue": queue_state(session, stalled_seconds),
        "now": now.isoformat(),
        "sources": every_source_health(session),
        "listings": listing_states(session, every, now),
        "changes_waiting": changes_waiting(session),
        "deliveries": delivery_counts(session),
        "delayed_deliveries": delayed_deliveries(session),
        "failed_deliveries": failed_deliveries(session),
        "scheduler": scheduler_state(session, now),
    }


def listing_states(session: Session, every: int, now: datetime, everything: bool = False) -> list[dict]:
    """Each active newsroom listing (every one with ``everything``) with its schedule as text
    (``6h``; its own, else ``every`` seconds), last and next read, whether it is due at ``now`` and
    the error of its last read."""
    return [
        {**listing, "schedule": format_schedule(listing["schedule_seconds"])}
        for listing in listing_schedules(session, every, now, everything)
    ]


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


def queue_state(session: Session, stalled_seconds: float) -> dict | None:
    """The job queue (PostgreSQL; None without one): workers beating, jobs waiting and running per
    queue, jobs failed for good and jobs stalled (running on a worker that stopped beating), and the
    latest failed jobs with the reason of their last attempt."""
    if not inspect(session.connection()).has_table("procrastinate_jobs"):
        return None
    age = {"age": stalled_seconds}
    workers = session.scalar(text(f"SELECT count(*) FROM procrastinate_workers w WHERE {BEATING}"), age)
    queues: dict[str, dict[str, int]] = {}
    for name, status, count in session.execute(text(JOBS_PER_QUEUE)):
        queues.setdefault(name, {"waiting": 0, "running": 0})[
            "waiting" if status == "todo" else "running"
        ] = count
    stalled = session.scalar(text(STALLED_JOBS), age)
    failed = session.scalar(text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'"))
    shown = session.execute(text(LATEST_FAILED), {"shown": FAILED_SHOWN}).all()
    reasons = {
        f.job_id: f
        for f in session.scalars(select(JobFailure).where(JobFailure.job_id.in_([j.id for j in shown])))
    }
    return {
        "workers": workers,
        "queues": queues,
        "failed": failed,
        "stalled": stalled,
        "failed_jobs": [
            {
                "job": id_,
                "task": task.rpartition(":")[2],
                "attempts": attempts,
                "reason": reasons[id_].reason if id_ in reasons else None,
                "failed_at": _iso(reasons[id_].failed_at) if id_ in reasons else None,
            }
            for id_, task, attempts in shown
        ],
    }


def _next_runs(session: Session) -> dict[str, str | None]:
    if not inspect(session.connection()).has_table(JOB_TABLE):
        return {}
    rows = session.execute(text(f"SELECT id, next_run_time FROM {JOB_TABLE} ORDER BY id")).all()
    return {job: _iso(datetime.fromtimestamp(at, UTC)) if at is not None else None for job, at in rows}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None
