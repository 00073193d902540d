"""The scheduler's jobs. Each is a plain function the persistent job store names by reference, run
on the process's runtime (``use``). On SQLite the crawl runs as a `policywatch crawl` child process
(see ``commands``: Twisted's reactor cannot restart) and alerts, digest and housekeeping run in
process; given the job queue (PostgreSQL), each job queues the work for the workers instead: one
crawl job per host with documents or newsroom listings due (see ``queue``)."""

from __future__ import annotations

import hashlib
import logging
import urllib.parse
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from policywatch import usecases
from policywatch.runtime import Runtime
from policywatch.service import housekeeping
from policywatch.service.commands import CommandRunner
from store.crawl_plan import newsroom_ids
from store.db import transaction
from store.models import AnnouncementSource, Document, Source, utcnow

if TYPE_CHECKING:
    from procrastinate import App

log = logging.getLogger("policywatch.service")
SPREAD = timedelta(minutes=10)  # first crawls of newly loaded sources are spread over this window
RUNNER = CommandRunner()
_runtime: list[Runtime] = []
_queue: list[App] = []


def use(runtime: Runtime, queue: App | None = None) -> None:
    """Run the jobs of this process on ``runtime`` (the serve command's); with ``queue`` (opened),
    queue their work for the workers instead of doing it here."""
    _runtime[:] = [runtime]
    _queue[:] = [queue] if queue is not None else []


def runtime() -> Runtime:
    """The runtime the jobs run on; RuntimeError before ``use``."""
    if not _runtime:
        raise RuntimeError("the scheduler's jobs have no runtime: call jobs.use(runtime) first")
    return _runtime[0]


def crawl_due() -> bool:
    """Crawl the sources and newsroom listings that are due, in a child process, or queue one crawl
    job per host of them; whether a crawl ran here."""
    now, settings = utcnow(), runtime().settings
    with transaction(runtime().engine) as session:
        spread_first_crawls(session, now)
        if _queue:
            batches, listings = due_batches(session, now), due_listings(session, now)
        else:
            due, listed = count_due(session, now), len(newsroom_ids(session, due=True, now=now))
    if _queue:
        from policywatch.service.queue import enqueue_crawls

        queued = enqueue_crawls(_queue[0], batches, listings)
        if queued:
            hosts = len(set(batches) | set(listings))
            log.info("queued crawl jobs for %d of %d host(s) with documents or listings due", queued, hosts)
        return False
    if not due and not listed:
        return False
    log.info("crawling %d due source(s) and %d due newsroom listing(s)", due, listed)
    RUNNER.run("crawl", "--due", timeout=settings.crawl_run_timeout)
    return True


def send_alerts() -> None:
    """Send the same-day alerts of new changes, or queue the job that does."""
    if not _queued("send_alerts"):
        run_alerts()


def send_digest() -> None:
    """Send the weekly digest, or queue the job that does."""
    if not _queued("send_digest"):
        run_digest()


def keep_house() -> None:
    """Keep house (``run_housekeeping``), or queue the job that does."""
    if not _queued("housekeeping"):
        run_housekeeping()


def _queued(task: str) -> bool:
    """Whether this process queues its jobs' work; if so, ``task`` is queued unless one waits."""
    if not _queue:
        return False
    from policywatch.service.queue import defer

    defer(_queue[0], task)
    return True


def run_alerts() -> None:
    """Send the same-day alerts of new changes."""
    _log_delivery("alerts", usecases.send_alerts(runtime()))


def run_digest() -> None:
    """Send the weekly digest."""
    _log_delivery("digest", usecases.send_digest(runtime()))


def _log_delivery(job: str, sent: usecases.AlertsSent | usecases.DigestSent) -> None:
    """Log what a sending job queued and delivered, as its command would print it."""
    report = sent.delivered.report
    if report is None:
        log.warning("%s: delivery stopped: %s", job, sent.delivered.error)
        return
    log.info(
        "%s: %d queued, %d email(s) sent, %d to retry, %d unconfirmed, %d failed, %d cancelled",
        job,
        sent.queued,
        report.sent,
        report.retried,
        report.unconfirmed,
        report.failed,
        report.cancelled,
    )
    for error in dict.fromkeys(report.errors):
        log.warning("%s: %s", job, error)


def run_housekeeping() -> None:
    """Free expired delivery claims, close killed crawl runs, prune old fetch events and rate-limit
    windows that are over, refresh statistics."""
    settings, now = runtime().settings, utcnow()
    with transaction(runtime().engine) as session:
        released = housekeeping.release_expired_claims(session, now)
        closed = housekeeping.close_interrupted_runs(session, now, settings.crawl_run_timeout)
        pruned = housekeeping.prune_fetch_events(
            session, now - timedelta(days=settings.fetch_event_retention_days)
        )
        window = timedelta(seconds=settings.subscribe_rate_window)
        forgotten = housekeeping.prune_rate_windows(session, now - window)
        housekeeping.refresh_statistics(session)
    log.info(
        "housekeeping: %d claim(s) released, %d crawl run(s) closed, %d fetch event(s) pruned, "
        "%d rate-limit window(s) forgotten",
        released,
        closed,
        pruned,
        forgotten,
    )


def due_sources():
    """The query of active sources of active documents, with their document."""
    return select(Source).join(Document).where(Source.active, Document.active)


def count_due(session: Session, now: datetime) -> int:
    """How many sources are due for a crawl at ``now``."""
    query = due_sources().where(Source.next_fetch_at <= now).with_only_columns(func.count())
    return session.scalar(query)


def due_batches(session: Session, now: datetime) -> dict[str, list[int]]:
    """The ids of the documents with a source due at ``now``, by the host (``name[:port]``) of their
    first due source: one crawl job each."""
    rows = session.execute(
        due_sources()
        .where(Source.next_fetch_at <= now)
        .with_only_columns(Source.document_id, Source.url)
        .order_by(Source.document_id, Source.position)
    ).all()
    batches: dict[str, list[int]] = {}
    for document_id, url in rows:
        if not any(document_id in ids for ids in batches.values()):
            batches.setdefault(host_of(url), []).append(document_id)
    return batches


def due_listings(session: Session, now: datetime) -> dict[str, list[int]]:
    """The ids of the newsrooms whose listing is due at ``now``, by the host of the listing."""
    due = newsroom_ids(session, due=True, now=now)
    rows = session.execute(
        select(AnnouncementSource.id, AnnouncementSource.listing)
        .where(AnnouncementSource.id.in_(due))
        .order_by(AnnouncementSource.id)
    ).all()
    batches: dict[str, list[int]] = {}
    for newsroom_id, url in rows:
        batches.setdefault(host_of(url), []).append(newsroom_id)
    return batches


def host_of(url: str) -> str:
    """The host a crawl job of ``url`` locks: its name, with the port when one is given."""
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or url).lower()
    return f"{host}:{parts.port}" if parts.port else host


def spread_first_crawls(session: Session, now: datetime) -> int:
    """Give never-scheduled sources a first crawl time within ``SPREAD``, one phase per host, so
    the sources of many hosts are not all fetched at once; how many were scheduled."""
    fresh = session.scalars(due_sources().where(Source.next_fetch_at.is_(None))).all()
    for source in fresh:
        source.next_fetch_at = now + host_phase(source.url)
    return len(fresh)


def host_phase(url: str) -> timedelta:
    """A stable offset within ``SPREAD`` for the host of ``url``."""
    host = urllib.parse.urlsplit(url).hostname or url
    digest = int.from_bytes(hashlib.sha256(host.encode()).digest()[:8], "big")
    return timedelta(seconds=digest % int(SPREAD.total_seconds()))
