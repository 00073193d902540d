"""The scheduler (APScheduler 3): job definitions, a job store in the policywatch database, and the
service loop that runs it only while this process holds the leader lease.

Job state lives in the database (table ``apscheduler_jobs``, created by APScheduler): a restart
reloads each job's next run time instead of recomputing it, so nothing is lost or repeated, and a
run missed during downtime runs once (``coalesce``) however late (``misfire_grace_time=None``).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, timedelta

from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from policywatch.service.commands import CommandRunner
from policywatch.service.housekeeping import release_claims_of, release_expired_claims
from policywatch.settings import Settings
from policywatch.usecases.leader import Leader
from store.db import transaction
from store.models import utcnow

log = logging.getLogger("policywatch.service")
JOB_TABLE = "apscheduler_jobs"


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job: its id, the function the job store names, and when it runs."""

    id: str
    func: str
    trigger: BaseTrigger
    first_run_now: bool = False


def job_specs(settings: Settings) -> list[JobSpec]:
    """The service's jobs, as the settings schedule them (all times UTC)."""
    utc = UTC
    return [
        JobSpec(
            "crawl",
            "policywatch.service.jobs:crawl_due",
            IntervalTrigger(seconds=settings.crawl_check_seconds, timezone=utc),
            first_run_now=True,
        ),
        JobSpec(
            "alerts",
            "policywatch.service.jobs:send_alerts",
            IntervalTrigger(minutes=settings.alerts_interval_minutes, timezone=utc),
        ),
        JobSpec(
            "digest",
            "policywatch.service.jobs:send_digest",
            CronTrigger.from_crontab(settings.digest_cron, timezone=utc),
        ),
        JobSpec(
            "housekeeping",
            "policywatch.service.jobs:keep_house",
            IntervalTrigger(hours=1, timezone=utc),
            first_run_now=True,
        ),
    ]


class Scheduler(BackgroundScheduler):
    """APScheduler's background scheduler, minus one last pass over the jobs after shutdown: in 3.11
    the loop wakes once more when stopped and would mark a job due at that moment as run (its
    executor is gone), so the run would be lost."""

    def _process_jobs(self):
        if self.state == STATE_STOPPED:
            return None
        return super()._process_jobs()


def make_scheduler(engine: Engine) -> Scheduler:
    """A scheduler whose jobs persist in ``engine``'s database, each job one instance at a time."""
    return Scheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)},
        executors={"default": ThreadPoolExecutor(4)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=UTC,
    )


def install_jobs(scheduler: Scheduler, specs: list[JobSpec]) -> None:
    """Add each job unless the store already has it with the same function and trigger: a stored job
    keeps its next run time across restarts. A new job with ``first_run_now`` runs at once; jobs no
    longer specified are removed."""
    wanted = {spec.id for spec in specs}
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            job.remove()
    for spec in specs:
        job = scheduler.get_job(spec.id)
        if job is not None and job.func_ref == spec.func and str(job.trigger) == str(spec.trigger):
            continue
        first = {"next_run_time": utcnow()} if spec.first_run_now else {}
        scheduler.add_job(spec.func, spec.trigger, id=spec.id, name=spec.id, replace_existing=True, **first)


class CrawlWatch:
    """Notes, from the job's thread, each crawl that ran; the service loop then brings the alerts job
    forward (``alert_if_crawled``). The listener itself must not touch the scheduler: it runs while
    shutdown may hold the scheduler's locks, waiting for that very thread."""

    def __init__(self, scheduler: Scheduler):
        self.crawled = threading.Event()
        scheduler.add_listener(self._executed, EVENT_JOB_EXECUTED)

    def _executed(self, event: JobExecutionEvent) -> None:
        if event.job_id == "crawl" and event.retval:
            self.crawled.set()

    def alert_if_crawled(self, scheduler: Scheduler) -> bool:
        """Run the alerts job now if a crawl ran since the last call; whether it did."""
        if not self.crawled.is_set():
            return False
        self.crawled.clear()
        try:
            scheduler.modify_job("alerts", next_run_time=utcnow())
        except JobLookupError:
            return False
        return True


class Service:
    """Leads or stands by: the scheduler runs only while this process holds the lease, renewed
    every third of its lifetime; losing it pauses the jobs and stops their children."""

    def __init__(
        self, engine: Engine, settings: Settings, runner: CommandRunner, specs: list[JobSpec] | None = None
    ):
        self.settings = settings
        self.runner = runner
        self.leader = Leader(engine, timedelta(seconds=settings.leader_lease_seconds))
        self.scheduler = make_scheduler(engine)
        self.specs = job_specs(settings) if specs is None else specs
        self.leading = False
        self.standing_by = False
        self.engine = engine
        self.watch = CrawlWatch(self.scheduler)

    def run(self, stop: threading.Event) -> None:
        """Lead or stand by until ``stop`` is set, then shut down cleanly."""
        renew = self.settings.leader_lease_seconds / 3
        log.info("scheduler %s started; waiting for the lease", self.leader.holder)
        next_renewal = 0.0
        try:
            while not stop.is_set():
                if time.monotonic() >= next_renewal:
                    self._follow(self._hold())
                    next_renewal = time.monotonic() + renew
                if self.leading:
                    self.watch.alert_if_crawled(self.scheduler)
                stop.wait(1)
        finally:
            self.shutdown()

    def _hold(self) -> bool:
        try:
            return self.leader.hold()
        except Exception as exc:  # database unreachable: cannot prove leadership
            log.warning("cannot renew the scheduler lease: %s", exc)
            return False

    def _follow(self, holds: bool) -> None:
        if not holds and not self.leading and not self.standing_by:
            self.standing_by = True
            log.info("standing by: the scheduler lease is held by %s", self.leader.holder_now())
        if holds and not self.leading:
            self.standing_by = False
            self._lead()
        elif not holds and self.leading:
            log.warning("scheduler lease lost; pausing jobs until it is back")
            self.scheduler.pause()
            self.runner.stop_all()
            self.runner.wait_all()
            self.runner.resume()
            self.leading = False

    def _lead(self) -> None:
        if self.scheduler.running:
            self.scheduler.resume()
        else:
            self.scheduler.start(paused=True)
            install_jobs(self.scheduler, self.specs)
            self.scheduler.resume()
        self.leading = True
        jobs = ", ".join(
            f"{job.id} at {job.next_run_time:%Y-%m-%d %H:%M:%S}" for job in self.scheduler.get_jobs()
        )
        log.info("leading the scheduler as %s; next runs: %s", self.leader.holder, jobs)

    def shutdown(self) -> None:
        """Stop scheduling, stop running children gracefully, free expired claims and those of the
        senders it stopped (claimed_by is ``host:pid:…``), release the lease."""
        self.runner.stop_all()
        self.runner.wait_all()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if self.leading:
            host = socket.gethostname()
            with transaction(self.engine) as session:
                release_expired_claims(session, utcnow())
                release_claims_of(session, [f"{host}:{pid}:" for pid in self.runner.stopped])
            self.leader.release()
            self.leading = False
        log.info("scheduler %s stopped", self.leader.holder)
