"""``policywatch announcements``: the posts found on the platforms' newsrooms."""

from __future__ import annotations

import json

import click

from policywatch.cli.changes import _since
from policywatch.cli.common import open_runtime


@click.group("announcements")
def command() -> None:
    """List the posts found on newsrooms."""


@command.command(
    "list", epilog="Example: policywatch announcements list --platform anthropic --since 2026-11-01 --json"
)
@click.option("--platform", help="Only this platform (slug).")
@click.option("--since", help="Only posts first seen at or after this ISO 8601 time (UTC unless given).")
@click.option("--json", "as_json", is_flag=True, help="A JSON array instead of a table.")
def list_announcements(platform: str | None, since: str | None, as_json: bool) -> None:
    """List posts, newest first."""
    from store.db import transaction
    from store.queries.announcements import list_posts

    with open_runtime() as runtime, transaction(runtime.engine) as session:
        records = list_posts(session, platform, _since(since))
    if as_json:
        click.echo(json.dumps(records, indent=1))
        return
    click.echo("\t".join(("published", "platform", "title", "topics", "versions", "url", "removed")))
    for r in records:
        row = (
            r["published"] or "",
            r["platform"],
            r["title"] or "",
            ",".join(r["topics"]),
            str(r["versions"]),
            r["url"],
            r["removed"] or "",
        )
        click.echo("\t".join(row))
