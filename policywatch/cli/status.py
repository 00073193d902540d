"""``policywatch status``: crawl health of sources and newsroom listings, changes and deliveries
waiting, scheduler leader."""

from __future__ import annotations

import json
import sys

import click

from policywatch.cli.common import open_runtime, rich_table


@click.command("status", epilog="Example: policywatch status --json")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def command(as_json: bool) -> None:
    """Show last and next crawl per source, broken sources, newsroom listings due or failing,
    changes waiting to be alerted, deliveries pending or failed, and which scheduler leads."""
    from crawler.sources.declarations import parse_schedule
    from policywatch.usecases.status import service_status
    from store.db import transaction
    from store.models import utcnow

    with open_runtime() as runtime, transaction(runtime.engine) as session:
        settings = runtime.settings
        status = service_status(
            session,
            utcnow(),
            settings.worker_stalled_seconds,
            parse_schedule(settings.announcement_schedule),
        )
    if as_json:
        click.echo(json.dumps(status, indent=2))
    elif sys.stdout.isatty():
        _print_rich(status)
    else:
        _print_plain(status)


def _leader_line(status: dict) -> str:
    leader = status["scheduler"]["leader"]
    if leader is None or not leader["alive"]:
        return "scheduler: no leader (is `policywatch serve` running?)"
    return f"scheduler: led by {leader['holder']} since {leader['since']} (lease until {leader['expires']})"


def _job_line(status: dict) -> str:
    jobs = status["scheduler"]["jobs"]
    return "next runs: " + (
        ", ".join(f"{job} {at or 'paused'}" for job, at in jobs.items()) or "none scheduled yet"
    )


def _summary_lines(status: dict) -> list[str]:
    deliveries = status["deliveries"]
    broken = [s for s in status["sources"] if s["broken"]]
    failing = [s for s in status["sources"] if s["failures"] and not s["broken"]]
    listings = status["listings"]
    lines = [
        f"sources: {len(status['sources'])}, broken: {len(broken)}, failing: {len(failing)}",
        f"newsroom listings: {len(listings)}, due: {sum(n['due'] for n in listings)}, "
        f"failing: {sum(n['failing'] for n in listings)}",
        f"changes waiting to be alerted: {len(status['changes_waiting'])}",
        "deliveries: "
        + ", ".join(
            f"{deliveries.get(state, 0)} {state}"
            for state in ("pending", "sending", "unconfirmed", "failed", "sent")
        ),
    ]
    lines.extend(_queue_lines(status["queue"]))
    delayed = status["delayed_deliveries"]
    if delayed:
        lines.append(
            f"delivery delayed: {delayed['deliveries']} pending after provider errors, queued since "
            f"{delayed['since']}, next attempt {delayed['next_attempt']}: {delayed['error']}"
        )
    return lines


def _queue_lines(queue: dict | None) -> list[str]:
    """The job queue in a few lines: workers, jobs per queue, failed and stalled jobs and why."""
    if queue is None:
        return []
    per_queue = "; ".join(
        f"{name} {jobs['waiting']} waiting, {jobs['running']} running"
        for name, jobs in queue["queues"].items()
    )
    lines = [
        f"job queue: {queue['workers']} worker(s) beating; {per_queue or 'no job waiting or running'}; "
        f"{queue['failed']} failed, {queue['stalled']} stalled"
    ]
    for job in queue["failed_jobs"]:
        reason = " ".join((job["reason"] or "no reason recorded").split())
        lines.append(f"failed: job {job['job']} {job['task']} after {job['attempts']} attempts: {reason}")
    return lines


def _health(source: dict) -> str:
    """``ok``, or ``failing``/``broken`` with the consecutive failures and the last reason on one line."""
    if not source["failures"]:
        return "ok"
    reason = " ".join((source["reason"] or "no reason recorded").split())
    state = "broken" if source["broken"] else "failing"
    return f"{state} ({source['failures']} failures in a row): {reason}"


def _listing_health(listing: dict) -> str:
    """``ok``, or ``failing`` with the error of the listing's last read on one line."""
    if not listing["failing"]:
        return "ok"
    return "failing: " + " ".join(listing["reason"].split())


def _listing_next(listing: dict) -> str:
    """When the listing is read next: ``due`` when it is due now."""
    return "due" if listing["due"] else listing["next_read"]


def _print_plain(status: dict) -> None:
    click.echo(_leader_line(status))
    click.echo(_job_line(status))
    for line in _summary_lines(status):
        click.echo(line)
    for s in status["sources"]:
        state = _health(s).upper() if s["broken"] else _health(s)
        click.echo(
            f"{s['document']}\t{s['url']}\tlast {s['last_crawl'] or 'never'}"
            f"\tnext {s['next_crawl'] or 'now'}\t{state}"
        )
    for n in status["listings"]:
        click.echo(
            f"listing {n['platform']}/{n['slug']}\t{n['listing']}\tevery {n['schedule']}"
            f"\tlast {n['last_read'] or 'never'}\tnext {_listing_next(n)}\t{_listing_health(n)}"
        )
    for c in status["changes_waiting"]:
        click.echo(f"waiting: change {c['change']} {c['document']} {c['significance']} {c['detected_at']}")
    for d in status["failed_deliveries"]:
        click.echo(
            f"{d['status']}: delivery {d['delivery']} {d['kind']} "
            f"after {d['attempts']} attempts: {d['error']}"
        )


def _print_rich(status: dict) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console()
    console.print(_leader_line(status), highlight=False)
    console.print(_job_line(status), highlight=False)
    for line in _summary_lines(status):
        console.print(line, highlight=False)
    table = rich_table("document", "url", "last crawl", "next crawl", "health", title="Sources")
    for s in status["sources"]:
        colour = "red" if s["broken"] else "yellow" if s["failures"] else "green"
        health = f"[{colour}]{escape(_health(s))}[/]"
        table.add_row(s["document"], s["url"], s["last_crawl"] or "never", s["next_crawl"] or "now", health)
    console.print(table)
    if status["listings"]:
        console.print(_listings_table(status["listings"]))
    if status["changes_waiting"]:
        waiting = rich_table(
            "change", "document", "significance", "detected", title="Changes waiting to be alerted"
        )
        for c in status["changes_waiting"]:
            waiting.add_row(str(c["change"]), c["document"], c["significance"], c["detected_at"])
        console.print(waiting)
    if status["failed_deliveries"]:
        failed = rich_table("delivery", "kind", "status", "attempts", "error", title="Failed deliveries")
        for d in status["failed_deliveries"]:
            failed.add_row(str(d["delivery"]), d["kind"], d["status"], str(d["attempts"]), d["error"] or "")
        console.print(failed)


def _listings_table(listings: list[dict]):
    """The newsroom listings as a rich table: schedule, last and next read, health."""
    from rich.markup import escape

    header = ("platform", "listing", "url", "schedule", "last read", "next read", "health")
    table = rich_table(*header, title="Newsroom listings")
    for n in listings:
        colour = "yellow" if n["failing"] else "green"
        due = "[cyan]due[/]" if n["due"] else n["next_read"]
        health = f"[{colour}]{escape(_listing_health(n))}[/]"
        last = n["last_read"] or "never"
        table.add_row(n["platform"], n["slug"], n["listing"], n["schedule"], last, due, health)
    return table
