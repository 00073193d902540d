"""The scheduler: jobs on their schedule, persisted in the database so a restart neither loses nor
repeats a run, missed runs coalesced into one, alerts right after a crawl."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.interval import IntervalTrigger

from policywatch.service.scheduler import CrawlWatch, JobSpec, install_jobs, job_specs, make_scheduler
from policywatch.settings import load_settings
from tests.service import probe

WEDNESDAY = datetime(2026, 5, 20, 10, 0, tzinfo=UTC)
HOURLY = [JobSpec("probe", "tests.service.probe:tick", IntervalTrigger(hours=1, timezone=UTC))]


@pytest.fixture(autouse=True)
def _no_runs():
    probe.RUNS.clear()


def wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def started(engine, specs):
    scheduler = make_scheduler(engine)
    scheduler.start(paused=True)
    install_jobs(scheduler, specs)
    return scheduler


def fire_times(trigger, after: datetime, count: int) -> list[datetime]:
    times, previous, now = [], None, after
    for _ in range(count):
        previous = trigger.get_next_fire_time(previous, now)
        times.append(previous)
        now = previous
    return times


def test_digest_fires_every_monday_at_eight_utc_by_default():
    digest = {spec.id: spec for spec in job_specs(load_settings())}["digest"]
    assert fire_times(digest.trigger, WEDNESDAY, 2) == [
        datetime(2026, 5, 25, 8, 0, tzinfo=UTC),
        datetime(2026, 6, 1, 8, 0, tzinfo=UTC),
    ]


def test_schedules_follow_the_settings(monkeypatch):
    monkeypatch.setenv("POLICYWATCH_DIGEST_CRON", "30 6 * * fri")
    monkeypatch.setenv("POLICYWATCH_ALERTS_INTERVAL_MINUTES", "15")
    monkeypatch.setenv("POLICYWATCH_CRAWL_CHECK_SECONDS", "120")
    specs = {spec.id: spec for spec in job_specs(load_settings())}
    assert fire_times(specs["digest"].trigger, WEDNESDAY, 1) == [datetime(2026, 5, 22, 6, 30, tzinfo=UTC)]
    alerts = fire_times(specs["alerts"].trigger, WEDNESDAY, 3)
    assert [b - a for a, b in zip(alerts, alerts[1:])] == [timedelta(minutes=15)] * 2
    crawls = fire_times(specs["crawl"].trigger, WEDNESDAY, 2)
    assert crawls[1] - crawls[0] == timedelta(minutes=2)


def test_a_restart_keeps_each_jobs_next_run_instead_of_rescheduling_it(engine):
    first = started(engine, HOURLY)
    planned = first.get_job("probe").next_run_time
    first.shutdown()
    time.sleep(0.05)
    second = started(engine, HOURLY)
    assert second.get_job("probe").next_run_time == planned
    second.shutdown()


def test_a_changed_schedule_replaces_the_stored_job(engine):
    started(engine, HOURLY).shutdown()
    daily = [JobSpec("probe", "tests.service.probe:tick", IntervalTrigger(days=1, timezone=UTC))]
    scheduler = started(engine, daily)
    next_run = scheduler.get_job("probe").next_run_time
    assert next_run - datetime.now(UTC) > timedelta(hours=23)
    scheduler.shutdown()


def test_runs_missed_during_downtime_run_once_and_a_restart_does_not_repeat_them(engine):
    scheduler = started(engine, HOURLY)
    scheduler.modify_job("probe", next_run_time=datetime.now(UTC) - timedelta(hours=10))
    scheduler.shutdown()  # ten hourly runs were missed while it was down

    scheduler = started(engine, HOURLY)
    scheduler.resume()
    assert wait_for(lambda: probe.RUNS)
    time.sleep(0.5)
    scheduler.shutdown()
    assert probe.RUNS == ["tick"]

    scheduler = started(engine, HOURLY)
    after_restart = scheduler.get_job("probe").next_run_time
    scheduler.resume()
    time.sleep(0.5)
    scheduler.shutdown()
    assert probe.RUNS == ["tick"]
    assert after_restart > datetime.now(UTC) + timedelta(minutes=50)


def test_a_crawl_that_ran_brings_the_alerts_forward(engine):
    specs = [
        JobSpec(
            "crawl",
            "tests.service.probe:crawled",
            IntervalTrigger(hours=1, timezone=UTC),
            first_run_now=True,
        ),
        JobSpec("alerts", "tests.service.probe:alerted", IntervalTrigger(hours=1, timezone=UTC)),
    ]
    scheduler = started(engine, specs)
    watch = CrawlWatch(scheduler)
    assert not watch.alert_if_crawled(scheduler)
    scheduler.resume()
    assert wait_for(lambda: watch.crawled.is_set())
    assert watch.alert_if_crawled(scheduler)
    assert wait_for(lambda: "alerts" in probe.RUNS)
    scheduler.shutdown()
    assert probe.RUNS == ["crawl", "alerts"]


def test_jobs_no_longer_specified_are_removed(engine):
    started(
        engine, HOURLY + [JobSpec("old", "tests.service.probe:tick", IntervalTrigger(hours=2))]
    ).shutdown()
    scheduler = started(engine, HOURLY)
    assert [job.id for job in scheduler.get_jobs()] == ["probe"]
    scheduler.shutdown()


def test_the_job_table_stays_out_of_the_migrations(migrated_url):
    from alembic import command
    from sqlalchemy import inspect

    from store.db import alembic_config, make_engine

    engine = make_engine(migrated_url)
    started(engine, HOURLY).shutdown()
    assert "apscheduler_jobs" in inspect(engine).get_table_names()
    engine.dispose()
    command.check(alembic_config(migrated_url))  # raises when autogenerate would touch the table


def test_a_service_runs_jobs_only_while_it_holds_the_lease(engine):
    from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING

    from policywatch.service.commands import CommandRunner
    from policywatch.service.scheduler import Service
    from policywatch.usecases.leader import Leader

    service = Service(engine, load_settings(), CommandRunner(), specs=HOURLY)
    service._follow(service.leader.hold())
    assert service.leading and [job.id for job in service.scheduler.get_jobs()] == ["probe"]
    service._follow(False)  # the lease was lost: jobs pause until it is back
    assert not service.leading and service.scheduler.state == STATE_PAUSED
    service._follow(service.leader.hold())
    assert service.leading and service.scheduler.state == STATE_RUNNING
    assert not Leader(engine, timedelta(seconds=30), holder="standby").hold()
    service.shutdown()
    assert Leader(engine, timedelta(seconds=30), holder="standby").hold()  # released for the standby
