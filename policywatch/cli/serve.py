"""``policywatch serve``: run the scheduler (crawls, alerts, digest, housekeeping) until SIGTERM."""

from __future__ import annotations

import logging
import signal
import threading

import click

from policywatch.cli.common import open_runtime


@click.command("serve", epilog="Example: policywatch serve")
def command() -> None:
    """Run the scheduler: crawl sources when due, send alerts and the weekly digest, keep house.

    One scheduler leads per database; others wait on standby and take over when it stops.
    SIGTERM or Ctrl-C stops cleanly: running crawls finish or are stopped, the lease is released.
    """
    from policywatch.service import jobs
    from policywatch.service.scheduler import Service

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("apscheduler.scheduler").setLevel(
        logging.ERROR
    )  # not "skipped: already running" each check
    runtime = open_runtime()
    jobs.use(runtime)
    jobs.RUNNER.grace = runtime.settings.shutdown_grace_seconds
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    Service(runtime.engine, runtime.settings, jobs.RUNNER).run(stop)
    runtime.close()
