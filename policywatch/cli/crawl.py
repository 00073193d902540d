"""``policywatch crawl``: fetch sources once, record snapshots, versions and changes."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from policywatch.cli.common import open_runtime, rich_table
from policywatch.cli.progress import progress


class Moment(click.ParamType):
    """An ISO 8601 time with a zone (2026-05-20T10:36:08Z), as a UTC datetime."""

    name = "TIME"

    def convert(self, value, param, ctx) -> datetime:
        from policywatch.settings import zoned

        try:
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 time (write it as 2026-05-20T10:36:08Z)", param, ctx)
        try:
            return zoned(moment)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


@click.command(
    "crawl",
    epilog="Example: policywatch crawl --source openai-usage-policies\n\n"
    "Replaying an archived snapshot: policywatch crawl --all --as-of 2026-05-20T10:36:08Z",
)
@click.option(
    "--all", "everything", is_flag=True, help="Every active document and newsroom listing (the default)."
)
@click.option(
    "--due",
    is_flag=True,
    help="Only documents and newsroom listings whose schedule says they are due "
    "(with --source or --newsroom: those of them that are).",
)
@click.option(
    "--source", "slugs", multiple=True, metavar="DOCUMENT_SLUG", help="Only this document (repeatable)."
)
@click.option(
    "--newsroom",
    "newsrooms",
    multiple=True,
    metavar="ANNOUNCEMENT_SLUG",
    help="Only this newsroom listing (repeatable); newsrooms are read unless --source is given alone.",
)
@click.option(
    "--as-of",
    "as_of",
    type=Moment(),
    help="Record this crawl as of TIME (ISO 8601 with a zone) instead of now, for pages replayed "
    "from an archive (POLICYWATCH_CRAWL_AS_OF); refused if earlier than a document's latest version.",
)
def command(
    everything: bool, due: bool, slugs: tuple[str, ...], newsrooms: tuple[str, ...], as_of: datetime | None
) -> None:
    """Fetch sources and read newsroom listings once; record snapshots, versions, changes and posts.

    Exits 0 when the crawl ran, even if some sources failed (the table shows why), and when there
    is nothing to crawl; 1 when it stopped because the database could not record (disk full), or
    was refused because it would record a document's history before its latest version."""
    if everything and (due or slugs or newsrooms):
        raise click.UsageError("--all takes neither --due, --source nor --newsroom")
    from policywatch import usecases
    from policywatch.usecases.crawl import newsroom_selection, selection
    from store.crawl_plan import UnknownDocument, UnknownNewsroom
    from store.versions import EarlierThanRecorded

    with open_runtime(overrides={"crawl_as_of": as_of} if as_of else None) as runtime:
        try:
            ids = selection(runtime, list(slugs), due=due) if slugs or not newsrooms else []
            listings = newsroom_selection(runtime, list(newsrooms), due=due) if newsrooms or not slugs else []
        except (UnknownDocument, UnknownNewsroom) as exc:
            raise click.ClickException(str(exc)) from None
        if not ids and not listings:
            what = "no document or newsroom listing is due" if due else "no active document or newsroom"
            click.echo(f"nothing to crawl: {what}")
            return
        try:
            with progress("sources crawled") as show:
                crawled = usecases.crawl(
                    runtime,
                    ids,
                    newsroom_ids=listings,
                    progress=lambda r: show(len(r.results), max(r.planned, len(r.results))),
                )
        except EarlierThanRecorded as exc:
            raise click.ClickException(f"crawl refused: {exc}") from None
    _print_report(crawled.report, crawled.changes)
    if crawled.report.stopped:
        raise click.ClickException(f"crawl run {crawled.report.run_id} stopped: {crawled.report.stopped}")


def _print_report(report, changes: int) -> None:
    rows = [
        (r.document, r.url, r.outcome, str(r.status or ""), str(r.version or ""), r.reason or "")
        for r in sorted(report.results, key=lambda r: (r.document, r.url))
    ]
    header = ("document", "url", "outcome", "http", "version", "reason")
    totals = report.totals()
    summary = (
        f"{totals['sources']} sources in {report.seconds:.1f} s: "
        + ", ".join(
            f"{totals.get(k, 0)} {k.replace('_', ' ')}"
            for k in ("changed", "unchanged", "not_modified", "error")
        )
        + f"; {totals['versions']} new versions, {changes} changes (crawl run {report.run_id})"
        + (f"; {report.busy} documents left out: another crawl is fetching them" if report.busy else "")
    )
    if sys.stdout.isatty():
        from rich.console import Console

        table = rich_table(*header)
        for row in rows:
            table.add_row(*row, style="red" if row[2] == "error" else None)
        console = Console()
        console.print(table)
        console.print(summary)
        return
    for row in rows:
        click.echo("\t".join(row))
    click.echo(summary)
