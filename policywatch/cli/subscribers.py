"""``policywatch subscribers``: add, list, confirm and remove email subscribers (operator tools)."""

from __future__ import annotations

import click

from alerts.audience.tiers import TIERS
from policywatch.cli.common import open_engine
from policywatch.verdicts import Significance


@click.group("subscribers")
def command() -> None:
    """Add, list, confirm and remove email subscribers."""


@command.command(
    "add", epilog="Example: policywatch subscribers add ann@example.com --tier watcher --platform openai"
)
@click.argument("email")
@click.option("--tier", type=click.Choice(list(TIERS)), help="Tier (new subscribers: free).")
@click.option("--platform", help="Platform slug to follow.")
@click.option("--document", help="Follow only this document (slug).")
@click.option(
    "--topic", "topics", multiple=True, help="Only changes touching this topic (professional; repeatable)."
)
@click.option(
    "--provision",
    "provisions",
    multiple=True,
    help="Only changes of this catalog provision, e.g. government_carve_out (professional; repeatable).",
)
@click.option(
    "--min-significance",
    type=click.Choice(Significance.values()),
    help="Least significant change to be told about.",
)
def add(
    email: str,
    tier: str | None,
    platform: str | None,
    document: str | None,
    topics: tuple[str, ...],
    provisions: tuple[str, ...],
    min_significance: str | None,
) -> None:
    """Subscribe EMAIL (or add a subscription to it); a new address gets a confirmation email."""
    from alerts.audience.subscribers import mask_email, subscribe
    from changes.provisions import catalog_for
    from changes.taxonomy import taxonomy_for
    from policywatch.settings import get_settings

    taxonomy, catalog = taxonomy_for(get_settings()), catalog_for(get_settings())
    subscriber = _in_transaction(
        lambda session: subscribe(
            session,
            email,
            tier,
            platform,
            document,
            topics,
            min_significance,
            taxonomy=taxonomy,
            provisions=provisions,
            catalog=catalog,
        )
    )
    click.echo(f"{mask_email(subscriber.email)}: {subscriber.tier}, {subscriber.status}")
    if subscriber.status == "pending":
        _send_now()


@command.command("list", epilog="Example: policywatch subscribers list --full")
@click.option("--full", is_flag=True, help="Show whole addresses instead of masked ones.")
def list_(full: bool) -> None:
    """List subscribers and their subscriptions (addresses masked unless --full)."""
    from alerts.audience.subscribers import all_subscribers, mask_email
    from store.models import Document, Platform

    def rows(session):
        platforms = {p.id: p.slug for p in session.query(Platform)}
        documents = {d.id: d.slug for d in session.query(Document)}
        return [
            (
                s.email,
                s.tier,
                s.status,
                [
                    (
                        documents[sub.document_id] if sub.document_id else platforms[sub.platform_id],
                        sub.topics,
                        sub.provisions,
                        sub.min_significance_alert,
                        sub.min_significance_digest,
                    )
                    for sub in s.subscriptions
                ],
            )
            for s in all_subscribers(session)
        ]

    for email, tier, status, subscriptions in _in_transaction(rows):
        click.echo(f"{email if full else mask_email(email)}\t{tier}\t{status}")
        for target, topics, provisions, alert, digest in subscriptions:
            filters = f" topics={','.join(topics)}" if topics else ""
            filters += f" provisions={','.join(provisions)}" if provisions else ""
            click.echo(f"  {target}{filters} alert>={alert} digest>={digest}")


@command.command("remove", epilog="Example: policywatch subscribers remove ann@example.com")
@click.argument("email")
def remove(email: str) -> None:
    """Delete EMAIL with its subscriptions and outbox rows."""
    from alerts.audience.subscribers import mask_email
    from alerts.audience.subscribers import remove as remove_subscriber

    _in_transaction(lambda session: remove_subscriber(session, email))
    click.echo(f"{mask_email(email)} removed")


@command.command("confirm", epilog="Example: policywatch subscribers confirm ann@example.com")
@click.argument("email")
def confirm(email: str) -> None:
    """Confirm EMAIL without its link (operator override)."""
    from alerts.audience.subscribers import confirm_email, mask_email

    _in_transaction(lambda session: confirm_email(session, email))
    click.echo(f"{mask_email(email)} confirmed")


def _in_transaction(work):
    from alerts.audience.subscribers import SubscriberError
    from store.db import transaction

    engine = open_engine()
    try:
        with transaction(engine) as session:
            return work(session)
    except SubscriberError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()


def _send_now() -> None:
    from policywatch import usecases
    from policywatch.cli.alerts import echo_delivered
    from policywatch.cli.common import open_runtime

    with open_runtime() as runtime:
        delivered = usecases.send_outbox(runtime)
    echo_delivered(delivered)
