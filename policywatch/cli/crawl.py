"""``policywatch crawl``: fetch sources once, record snapshots, versions and changes."""

from __future__ import annotations

import sys

import click

from policywatch.cli.common import open_runtime, rich_table
from policywatch.cli.progress import progress


@click.command("crawl", epilog="Example: policywatch crawl --source openai-usage-policies")
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
def command(everything: bool, due: bool, slugs: tuple[str, ...], newsrooms: tuple[str, ...]) -> None:
    """Fetch sources and read newsroom listings once; record snapshots, versions, changes and posts.

    Exits 0 when the crawl ran, even if some sources failed (the table shows why), and when there
    is nothing to crawl; 1 when it stopped because the database could not record (disk full)."""
    if everything and (due or slugs or newsrooms):
        raise click.UsageError("--all takes neither --due, --source nor --newsroom")
    from policywatch import usecases
    from policywatch.usecases.crawl import newsroom_selection, selection
    from store.crawl_plan import UnknownDocument, UnknownNewsroom

    with open_runtime() as runtime:
        try:
            ids = selection(runtime, list(slugs), due=due) if slugs or not newsrooms else []
            listings = newsroom_selection(runtime, list(newsrooms), due=due) if newsrooms or not slugs else []
        except (UnknownDocument, UnknownNewsroom) as exc:
            raise click.ClickException(str(exc)) from None
        if not ids and not listings:
            what = "no document or newsroom listing is due" if due else "no active document or newsroom"
            click.echo(f"nothing to crawl: {what}")
            return
        with progress("sources crawled") as show:
            crawled = usecases.crawl(
                runtime,
                ids,
                newsroom_ids=listings,
                progress=lambda report: show(len(report.results), max(report.planned, len(report.results))),
            )
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
