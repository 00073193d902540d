"""The job queue on PostgreSQL (Procrastinate): the tasks workers run, deferring them, and the
worker loop.

``serve`` decides what is due and defers jobs; ``policywatch worker`` processes, on any number of
machines, run them. A crawl job fetches the due documents and reads the due newsroom listings of
one host, in a child
`policywatch crawl` as the scheduler does on SQLite (Twisted's reactor cannot restart), under the
host's lock: one crawl of a host at a time across every worker, so per-host politeness holds
globally. A worker that stops beating (killed, cut off) has its running jobs retried by another.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import procrastinate
from procrastinate import exceptions
from sqlalchemy import delete, select, text
from sqlalchemy.engine import Engine, make_url

from policywatch.service import jobs
from policywatch.service.commands import Outcome
from policywatch.settings import Settings
from policywatch.usecases.leader import holder_id
from store.db import transaction
from store.models import AnnouncementSource, Document, JobFailure, utcnow

log = logging.getLogger("policywatch.queue")
#: Hours a succeeded job stays in the queue's tables (failed ones stay until deleted).
KEPT_JOBS_HOURS = 7 * 24
NAMESPACE = "policywatch"
#: The queues: crawl jobs, email (alerts, digest), housekeeping.
QUEUES = ("crawl", "delivery", "housekeeping")


class Backoff(procrastinate.BaseRetryStrategy):
    """Retry a failed job until POLICYWATCH_JOB_ATTEMPTS attempts, the first retry after
    POLICYWATCH_JOB_RETRY_SECONDS and each next one five times later; then it stays failed."""

    def get_retry_decision(
        self, *, exception: BaseException, job: procrastinate.jobs.Job
    ) -> procrastinate.RetryDecision | None:
        settings = jobs.runtime().settings
        if job.attempts + 1 >= settings.job_attempts:
            return None
        return procrastinate.RetryDecision(retry_in={"seconds": settings.job_retry_seconds * 5**job.attempts})


RETRY = Backoff()


class CrawlFailed(Exception):
    """A crawl job's child crawl did not end well: the host, the exit and the output's last line."""

    def __init__(self, host: str, outcome: Outcome):
        ending = "timed out" if outcome.timed_out else "ended"
        last = (outcome.output.strip().splitlines() or ["no output"])[-1]
        super().__init__(f"crawl of {host} {ending} with exit {outcome.returncode}: {last}")


def uses_queue(engine: Engine) -> bool:
    """Whether ``engine``'s database has the job queue (PostgreSQL; SQLite runs jobs in `serve`)."""
    return engine.dialect.name == "postgresql"


def conninfo(url: str) -> str:
    """The libpq connection string of a SQLAlchemy PostgreSQL URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def make_app(settings: Settings) -> procrastinate.App:
    """The queue on ``settings``' database, with policywatch's tasks (not opened yet)."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(settings.database)))
    for function, queue in TASKS.items():
        name = f"{NAMESPACE}:{function.__name__}"
        app.task(name=name, queue=queue, retry=RETRY, pass_context=True)(recorded(function))
    return app


def defer(app: procrastinate.App, task: str, lock: str | None = None, key: str | None = None, **args) -> bool:
    """Queue ``task`` with ``args`` unless a job of the same ``key`` (default: the task) is waiting
    already; whether it was queued."""
    deferrer = app.configure_task(f"{NAMESPACE}:{task}", lock=lock, queueing_lock=key or task)
    try:
        deferrer.defer(**args)
    except exceptions.AlreadyEnqueued:
        return False
    return True


def enqueue_crawls(
    app: procrastinate.App, batches: dict[str, list[int]], listings: dict[str, list[int]] | None = None
) -> int:
    """Queue one crawl job per host of ``batches`` (host → due document ids) and ``listings`` (host →
    due newsroom ids), locked by the host and not queued twice while one waits; how many were queued."""
    listings = listings or {}
    return sum(
        defer(
            app,
            "crawl_batch",
            lock=f"host:{host}",
            key=f"crawl:{host}",
            document_ids=batches.get(host, []),
            host=host,
            newsroom_ids=listings.get(host, []),
        )
        for host in sorted(set(batches) | set(listings))
    )


def recorded(task: Callable[..., Any]) -> Callable[..., Any]:
    """Keep why an attempt at the job failed (``job_failure``), then let the queue retry or give up."""

    @functools.wraps(task)
    def run(context: procrastinate.JobContext, **args) -> Any:
        try:
            return task(context, **args)
        except Exception as exc:
            _record_failure(context.job, f"{type(exc).__name__}: {exc}")
            raise

    return run


def _record_failure(job: procrastinate.jobs.Job, reason: str) -> None:
    assert job.id is not None, "a running job has an id"
    with transaction(jobs.runtime().engine) as session:
        session.merge(
            JobFailure(
                job_id=job.id, task=job.task_name, attempt=job.attempts + 1, reason=reason, failed_at=utcnow()
            )
        )


def active_slugs(engine: Engine, document_ids: list[int]) -> list[str]:
    """The slugs of those of ``document_ids`` that are still active."""
    with transaction(engine) as session:
        query = select(Document.slug).where(Document.active, Document.id.in_(document_ids))
        return list(session.scalars(query.order_by(Document.id)))


def active_newsrooms(engine: Engine, newsroom_ids: list[int]) -> list[str]:
    """The slugs of those of ``newsroom_ids`` that are still active."""
    with transaction(engine) as session:
        query = select(AnnouncementSource.slug).where(
            AnnouncementSource.active, AnnouncementSource.id.in_(newsroom_ids)
        )
        return list(session.scalars(query.order_by(AnnouncementSource.id)))


def crawl_batch(
    context: procrastinate.JobContext,
    document_ids: list[int],
    host: str,
    newsroom_ids: list[int] | None = None,
) -> None:
    """Crawl those of ``document_ids`` (documents on ``host``) and of ``newsroom_ids`` (listings on
    it) still due, in a child `policywatch crawl` with the scheduler's timeout; it records the
    changes; then queue the alerts. CrawlFailed when the crawl did not end well (the job is retried)."""
    runtime = jobs.runtime()
    slugs = active_slugs(runtime.engine, document_ids)
    newsrooms = active_newsrooms(runtime.engine, newsroom_ids or [])
    if not slugs and not newsrooms:
        return
    log.info(
        "crawling those of %d document(s) and %d listing(s) on %s still due", len(slugs), len(newsrooms), host
    )
    named = [f"--source={slug}" for slug in slugs] + [f"--newsroom={slug}" for slug in newsrooms]
    outcome = jobs.RUNNER.run("crawl", "--due", *named, timeout=runtime.settings.crawl_run_timeout)
    if not outcome.ok:
        raise CrawlFailed(host, outcome)
    defer(context.app, "send_alerts")


def send_alerts(context: procrastinate.JobContext) -> None:
    """Send the same-day alerts of new changes (the outbox keeps each email to one sending)."""
    jobs.run_alerts()


def send_digest(context: procrastinate.JobContext) -> None:
    """Send the weekly digest of the last complete week."""
    jobs.run_digest()


def housekeeping(context: procrastinate.JobContext) -> None:
    """The scheduler's housekeeping, then retry the jobs of workers that stopped beating and forget
    jobs that succeeded more than ``KEPT_JOBS_HOURS`` ago, with the reasons of their failed attempts."""
    jobs.run_housekeeping()
    from asgiref.sync import async_to_sync

    async_to_sync(_tidy_queue)(context.app, jobs.runtime().settings.worker_stalled_seconds)
    with transaction(jobs.runtime().engine) as session:
        session.execute(delete(JobFailure).where(text("job_id NOT IN (SELECT id FROM procrastinate_jobs)")))


async def _tidy_queue(app: procrastinate.App, stalled: float) -> None:
    await retry_stalled(app, stalled)
    await app.job_manager.delete_old_jobs(nb_hours=KEPT_JOBS_HOURS)


#: The tasks workers run, each on its queue.
TASKS: dict[Callable[..., Any], str] = {
    crawl_batch: "crawl",
    send_alerts: "delivery",
    send_digest: "delivery",
    housekeeping: "housekeeping",
}


async def retry_stalled(app: procrastinate.App, seconds: float) -> int:
    """Put back in the queue the running jobs of workers without a heartbeat for ``seconds`` (killed
    or cut off); how many."""
    retried = 0
    for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=seconds):
        try:
            await app.job_manager.retry_job(job)
        except exceptions.ConnectorException:  # another worker retried it first
            continue
        retried += 1
        log.warning(
            "job %s (%s, lock %s): its worker stopped beating; retried", job.id, job.task_name, job.lock
        )
    return retried


def run_worker(
    settings: Settings, queues: Iterable[str], concurrency: int, health_port: int | None = None
) -> None:
    """Run jobs of ``queues``, ``concurrency`` at a time, until SIGTERM or SIGINT:
    then running crawls get SIGTERM (they record what they fetched) and the worker ends once its
    jobs have. With ``health_port``, ``GET /healthz`` on 127.0.0.1 answers whether it takes jobs."""
    asyncio.run(_work(make_app(settings), settings, list(queues), concurrency, health_port))


@dataclass
class Health:
    """Whether the worker takes jobs, or why not, since when (what ``/healthz`` answers)."""

    taking_jobs: bool = False
    reason: str = "starting"
    since: float = field(default_factory=time.time)

    def set(self, taking_jobs: bool, reason: str) -> None:
        self.taking_jobs, self.reason, self.since = taking_jobs, reason, time.time()

    async def answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One HTTP answer: 200 while jobs are taken, else 503, with the state as JSON."""
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
            body = json.dumps(
                {
                    "status": "ok" if self.taking_jobs else "unavailable",
                    "taking_jobs": self.taking_jobs,
                    "reason": self.reason,
                    "since": round(self.since),
                }
            ).encode()
            status = b"200 OK" if self.taking_jobs else b"503 Service Unavailable"
            writer.write(
                b"HTTP/1.1 "
                + status
                + b"\r\nContent-Type: application/json\r\nConnection: close\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        writer.close()


#: Seconds a worker that lost the database waits before taking jobs again, doubled up to the max.
RECONNECT_SECONDS, RECONNECT_MAX_SECONDS = 1.0, 60.0


async def _work(
    app: procrastinate.App, settings: Settings, queues: list[str], concurrency: int, health_port: int | None
) -> None:
    """Take jobs until SIGTERM or SIGINT; a worker that loses the database stops taking jobs, says
    so in one line, and takes them again once it is back."""
    health = Health()
    server = await asyncio.start_server(health.answer, "127.0.0.1", health_port) if health_port else None
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    wait = RECONNECT_SECONDS
    while not stopping.is_set():
        started = loop.time()
        try:
            await _work_until_stopped(app, settings, queues, concurrency, stopping, health)
            if stopping.is_set():
                break
            reason = "its connection to the database failed"
        except (exceptions.ConnectorException, OSError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
        if loop.time() - started > RECONNECT_MAX_SECONDS:  # it had worked a while: try again soon
            wait = RECONNECT_SECONDS
        reason = " ".join(reason.split())
        log.warning("worker lost the database (%s); taking jobs again in %.0f s", reason, wait)
        health.set(False, f"lost the database: {reason}")
        try:
            await asyncio.wait_for(stopping.wait(), wait)
        except TimeoutError:
            wait = min(2 * wait, RECONNECT_MAX_SECONDS)
    if server is not None:
        server.close()
    log.info("worker stopped")


async def _work_until_stopped(
    app: procrastinate.App,
    settings: Settings,
    queues: list[str],
    concurrency: int,
    stopping: asyncio.Event,
    health: Health,
) -> None:
    """Run Procrastinate's worker until ``stopping`` is set (running crawls then get SIGTERM and
    the jobs end) or until the worker stops by itself (it lost the database)."""
    stalled = settings.worker_stalled_seconds
    async with app.open_async():
        worker = asyncio.create_task(
            app.run_worker_async(
                queues=queues,
                concurrency=concurrency,
                name=holder_id(),
                install_signal_handlers=False,
                update_heartbeat_interval=stalled / 3,
                stalled_worker_timeout=stalled,
            )
        )
        recovery = asyncio.create_task(_recover(app, stalled))
        stop = asyncio.create_task(stopping.wait())
        log.info("worker %s on queues %s, %d at a time", holder_id(), ", ".join(queues), concurrency)
        health.set(True, "taking jobs")
        try:
            await asyncio.wait({worker, stop}, return_when=asyncio.FIRST_COMPLETED)
            if stopping.is_set():
                _stop(worker)
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        finally:
            recovery.cancel()
            stop.cancel()


def _stop(worker: asyncio.Task) -> None:
    jobs.RUNNER.stop_all()
    worker.cancel()


async def _recover(app: procrastinate.App, stalled: float) -> None:
    """Every third of ``stalled`` seconds, retry the jobs of workers that stopped beating."""
    while True:
        await asyncio.sleep(stalled / 3)
        try:
            await retry_stalled(app, stalled)
        except exceptions.ConnectorException as exc:
            log.warning("cannot look for stalled jobs: %s", exc)
