"""``policywatch alerts send``: queue same-day alerts for new changes and send the outbox."""

from __future__ import annotations

import click

from policywatch.cli.common import open_runtime


@click.group("alerts")
def command() -> None:
    """Send same-day alerts for new changes."""


@command.command("send", epilog="Example: policywatch alerts send")
def send() -> None:
    """Queue alerts for changes not yet alerted, then send every due email (alerts, confirmations,
    digest retries)."""
    from policywatch import usecases

    with open_runtime() as runtime:
        sent = usecases.send_alerts(runtime)
    posts = f", {sent.posts} new post(s)" if sent.posts else ""
    click.echo(f"{sent.changes} new change(s){posts}, {sent.queued} alert(s) queued")
    echo_delivered(sent.delivered)


def echo_delivered(delivered) -> None:
    """Print what sending the outbox did; exit 1 when an email failed or was left unconfirmed, or
    delivery stopped. Emails kept pending through a provider error are not a failure: they are retried."""
    if delivered.error is not None:
        raise click.ClickException(delivered.error)
    report = delivered.report
    click.echo(
        f"{report.sent} email(s) sent in {report.requests} request(s), {report.retried} to retry, "
        f"{report.unconfirmed} unconfirmed, {report.failed} failed, {report.cancelled} cancelled"
    )
    for error in dict.fromkeys(report.errors):
        click.echo(f"error: {error}", err=True)
    if report.failed or report.unconfirmed:
        raise SystemExit(1)
