"""``policywatch changes``: list and show the changes found between versions."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click
from sqlalchemy import select

from policywatch.cli.common import open_engine, rich_table
from policywatch.verdicts import Significance


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date or time", param_hint="--since") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@click.group("changes")
def command() -> None:
    """List and show the changes found between versions."""


@command.command(
    "list", epilog="Example: policywatch changes list --platform openai --since 2026-11-01 --json"
)
@click.option("--platform", help="Only this platform (slug).")
@click.option("--document", help="Only this document (slug).")
@click.option("--since", help="Only changes detected at or after this ISO 8601 time (UTC unless given).")
@click.option(
    "--min-significance", type=click.Choice(Significance.values()), default="cosmetic", show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="A JSON array instead of a table.")
def list_changes(
    platform: str | None, document: str | None, since: str | None, min_significance: str, as_json: bool
) -> None:
    """List changes, oldest first."""
    from changes.export import as_record
    from store.db import transaction
    from store.models import Change, Document, Platform
    from store.queries.changes import ChangeFilter

    where = ChangeFilter(
        platform=platform, document=document, since=_since(since), min_significance=min_significance
    )
    query = (
        select(Change, Platform.slug, Document.slug)
        .join(Document, Document.id == Change.document_id)
        .join(Platform, Platform.id == Document.platform_id)
        .where(*where.conditions())
        .order_by(Change.detected_at, Change.id)
    )
    engine = open_engine()
    with transaction(engine) as session:
        records = [as_record(change, p, d) for change, p, d in session.execute(query)]
    engine.dispose()
    if as_json:
        click.echo(json.dumps(records, indent=1, ensure_ascii=False))
        return
    _table(records)


def _table(records: list[dict]) -> None:
    from rich.console import Console

    table = rich_table("id", "detected (UTC)", "platform", "document", "significance", "summary", box=None)
    for r in records:
        table.add_row(
            str(r["id"]),
            r["detected_at"][:16].replace("T", " "),
            r["platform"],
            r["document"],
            r["significance"],
            r["summary"],
        )
    if not records:
        click.echo("no changes")
        return
    Console(soft_wrap=True).print(table)


@command.command("show", epilog="Example: policywatch changes show 42 --format markdown")
@click.argument("change_id", type=int)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("text", "markdown", "html", "json")),
    default="text",
    show_default=True,
)
def show_change(change_id: int, fmt: str) -> None:
    """Show one change with its redline."""
    from changes.export import render
    from store.db import transaction
    from store.models import Change, Document

    engine = open_engine()
    with transaction(engine) as session:
        change = session.get(Change, change_id)
        if change is None:
            engine.dispose()
            raise click.ClickException(f"no change with id {change_id}")
        document = session.get_one(Document, change.document_id)
        output = render(change, fmt, document.platform.slug, document.slug)
    engine.dispose()
    click.echo(output, nl=False)
