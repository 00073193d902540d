"""``policywatch digest send``: queue and send the weekly digest."""

from __future__ import annotations

import click

from policywatch.cli.common import open_runtime


@click.group("digest")
def command() -> None:
    """Send the weekly digest."""


@command.command("send", epilog="Example: policywatch digest send --week 2026-W48")
@click.option("--week", help="ISO week YYYY-Www (default: the last complete week).")
def send(week: str | None) -> None:
    """Send each confirmed subscriber one digest of the week's changes they follow; running it
    again for the same week sends nothing more."""
    from policywatch import usecases
    from policywatch.cli.alerts import echo_delivered
    from policywatch.usecases.alerts import digest_week

    try:
        week = digest_week(week)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from None
    with open_runtime() as runtime:
        sent = usecases.send_digest(runtime, week)
    click.echo(f"digest {sent.week}: {sent.queued} subscriber(s) with something to report")
    echo_delivered(sent.delivered)
