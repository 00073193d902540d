"""``policywatch digest send``: queue and send the weekly digest."""

from __future__ import annotations

import click

from policywatch.cli.common import open_engine


@click.group("digest")
def command() -> None:
    """Send the weekly digest."""


@command.command("send")
@click.option("--week", help="ISO week YYYY-Www (default: the last complete week).")
def send(week: str | None) -> None:
    """Send each confirmed subscriber one digest of the week's changes they follow; running it
    again for the same week sends nothing more."""
    from alerts.digest import last_complete_week, parse_week, queue_week
    from policywatch.cli.alerts import send_outbox
    from store.db import transaction
    from store.models import utcnow

    week = week or last_complete_week(utcnow())
    try:
        parse_week(week)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from None
    engine = open_engine()
    try:
        with transaction(engine) as session:
            queued = queue_week(session, week)
        click.echo(f"digest {week}: {queued} subscriber(s) with something to report")
    finally:
        engine.dispose()
    send_outbox()
