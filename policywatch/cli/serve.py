"""``policywatch serve``: run the scheduler (crawls, alerts, digest, housekeeping) until SIGTERM."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading

import click

from policywatch.cli.common import open_runtime


@click.command("serve", epilog="Example: policywatch serve --no-worker")
@click.option(
    "--with-worker/--no-worker",
    default=True,
    show_default=True,
    help="On PostgreSQL, also run a `policywatch worker` for the jobs it queues (--no-worker: "
    "workers run elsewhere). On SQLite every job runs in serve itself.",
)
def command(with_worker: bool) -> None:
    """Run the scheduler: crawl sources when due, send alerts and the weekly digest, keep house.

    One scheduler leads per database; others wait on standby and take over when it stops. On
    PostgreSQL the leader queues the work (one crawl job per host with sources due) for
    `policywatch worker` processes. SIGTERM or Ctrl-C stops cleanly: running crawls finish or are
    stopped, the lease is released.
    """
    from policywatch.service import jobs
    from policywatch.service.scheduler import Service

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("procrastinate").setLevel(logging.WARNING)
    logging.getLogger("apscheduler.scheduler").setLevel(
        logging.ERROR
    )  # not "skipped: already running" each check
    runtime = open_runtime()
    queue_app, worker = _queue(runtime, with_worker)
    jobs.use(runtime, queue_app)
    jobs.RUNNER.grace = runtime.settings.shutdown_grace_seconds
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        Service(runtime.engine, runtime.settings, jobs.RUNNER).run(stop)
    finally:
        if worker is not None:
            _stop_worker(worker, runtime.settings.shutdown_grace_seconds)
        if queue_app is not None:
            queue_app.close()
        runtime.close()


def _queue(runtime, with_worker: bool):
    """On PostgreSQL, the opened job queue and (``with_worker``) a `policywatch worker` child that
    dies with this process; (None, None) on SQLite."""
    from policywatch.service import queue

    if not queue.uses_queue(runtime.engine):
        return None, None
    app = queue.make_app(runtime.settings).open()
    if not with_worker:
        return app, None
    from policywatch.service.commands import killed_with_parent

    worker = subprocess.Popen(
        [sys.executable, "-m", "policywatch", "worker"], preexec_fn=killed_with_parent()
    )
    logging.getLogger("policywatch.service").info("started worker %d", worker.pid)
    return app, worker


def _stop_worker(worker: subprocess.Popen, grace: float) -> None:
    """SIGTERM the worker child; SIGKILL it if still running after its crawls' grace and a margin."""
    worker.terminate()
    try:
        worker.wait(timeout=grace + 10)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
