"""Housekeeping: small repairs and pruning the scheduler runs every hour and on shutdown."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from store.db import affected_rows
from store.models import CrawlRun, Delivery, FetchEvent, RateWindow


def release_expired_claims(session: Session, now: datetime) -> int:
    """Free deliveries whose sender's claim expired (it died mid-send): they go out on the next run,
    counting an unconfirmed attempt (the provider may have accepted the request in flight)."""
    return affected_rows(
        session,
        update(Delivery)
        .where(Delivery.claimed_until.is_not(None), Delivery.claimed_until <= now)
        .values(
            claimed_by=None,
            claimed_until=None,
            status=case((Delivery.status == "sending", "pending"), else_=Delivery.status),
            unconfirmed_attempts=Delivery.unconfirmed_attempts
            + case((Delivery.status == "sending", 1), else_=0),
        )
        .execution_options(synchronize_session=False),
    )


def release_claims_of(session: Session, holders: list[str]) -> int:
    """Free the deliveries claimed by senders that are known dead (``claimed_by`` starting with one of
    ``holders``), without waiting for their claims to expire; each counts an unconfirmed attempt."""
    if not holders:
        return 0
    return affected_rows(
        session,
        update(Delivery)
        .where(
            Delivery.status == "sending",
            or_(*(Delivery.claimed_by.startswith(h, autoescape=True) for h in holders)),
        )
        .values(
            status="pending",
            claimed_by=None,
            claimed_until=None,
            unconfirmed_attempts=Delivery.unconfirmed_attempts + 1,
        )
        .execution_options(synchronize_session=False),
    )


def close_interrupted_runs(session: Session, now: datetime, run_timeout: float) -> int:
    """Mark crawl runs still 'running' long after any run may last as 'interrupted' (killed crawls)."""
    return affected_rows(
        session,
        update(CrawlRun)
        .where(CrawlRun.status == "running", CrawlRun.started_at < now - timedelta(seconds=2 * run_timeout))
        .values(status="interrupted", finished_at=now)
        .execution_options(synchronize_session=False),
    )


def prune_fetch_events(session: Session, before: datetime) -> int:
    """Delete fetch events older than ``before``, keeping each source's latest one."""
    latest = select(func.max(FetchEvent.id)).group_by(FetchEvent.source_id)
    return affected_rows(
        session,
        delete(FetchEvent)
        .where(FetchEvent.fetched_at < before, FetchEvent.id.not_in(latest))
        .execution_options(synchronize_session=False),
    )


def prune_rate_windows(session: Session, before: datetime) -> int:
    """Delete the rate-limit counts of windows that started before ``before`` (clients gone quiet)."""
    return affected_rows(session, delete(RateWindow).where(RateWindow.window_start < before))


def refresh_statistics(session: Session) -> None:
    """Let the query planner see the tables as they are now (ANALYZE; SQLite's PRAGMA optimize)."""
    session.execute(text("PRAGMA optimize" if session.get_bind().dialect.name == "sqlite" else "ANALYZE"))
