"""``policywatch worker``: run queued jobs (crawls, alerts, digest, housekeeping) until SIGTERM."""

from __future__ import annotations

import logging

import click

from policywatch.cli.common import open_runtime
from policywatch.service import queue
from policywatch.service.queue import QUEUES


@click.command("worker", epilog="Example: policywatch worker --queues crawl --concurrency 4")
@click.option(
    "--queues",
    default=",".join(QUEUES),
    show_default=True,
    help="Comma-separated queues to take jobs from.",
)
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(1), help="Jobs at a time.")
@click.option(
    "--health-port",
    type=click.IntRange(1, 65535),
    help="Answer GET /healthz on 127.0.0.1:PORT (200 while jobs are taken, 503 otherwise), for containers.",
)
def command(queues: str, concurrency: int, health_port: int | None) -> None:
    """Run jobs `policywatch serve` queued, on any number of machines sharing one PostgreSQL.

    One crawl of a host runs at a time across every worker; a worker killed mid-job has its job
    retried by another once its heartbeat is POLICYWATCH_WORKER_STALLED_SECONDS old. SIGTERM or
    Ctrl-C stops cleanly: running crawls record what they fetched, then the worker ends.
    """
    chosen = [name.strip() for name in queues.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(QUEUES))
    if unknown or not chosen:
        named = ", ".join(unknown) or "(none)"
        raise click.BadParameter(f"unknown queue {named}; known: {', '.join(QUEUES)}")
    with open_runtime() as runtime:
        if not queue.uses_queue(runtime.engine):
            raise click.ClickException(
                "policywatch worker needs PostgreSQL (POLICYWATCH_DATABASE_URL); on SQLite "
                "`policywatch serve` runs every job itself"
            )
        from policywatch.service import jobs

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("procrastinate").setLevel(logging.WARNING)
        jobs.use(runtime)
        jobs.RUNNER.grace = runtime.settings.shutdown_grace_seconds
        jobs.RUNNER.die_with_parent = True
        queue.run_worker(runtime.settings, chosen, concurrency, health_port)
