"""``policywatch alerts send``: queue same-day alerts for new changes and send the outbox."""

from __future__ import annotations

import click

from policywatch.cli.common import open_engine


@click.group("alerts")
def command() -> None:
    """Send same-day alerts for new changes."""


@command.command("send")
def send() -> None:
    """Queue alerts for changes not yet alerted, then send every due email (alerts, confirmations,
    digest retries)."""
    from alerts.outbox import queue_alerts
    from store.db import transaction

    engine = open_engine()
    try:
        with transaction(engine) as session:
            changes, queued = queue_alerts(session)
        click.echo(f"{changes} new change(s), {queued} alert(s) queued")
    finally:
        engine.dispose()
    send_outbox()


def send_outbox() -> None:
    """Send every due outbox row with the configured backend and print what happened."""
    from alerts.backends import DeliveryError
    from alerts.sender import Sender

    engine = open_engine()
    try:
        report = Sender(engine).run()
    except DeliveryError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    click.echo(
        f"{report.sent} email(s) sent in {report.requests} request(s), {report.retried} to retry, "
        f"{report.failed} failed, {report.cancelled} cancelled"
    )
    for error in dict.fromkeys(report.errors):
        click.echo(f"error: {error}", err=True)
    if report.failed:
        raise SystemExit(1)
