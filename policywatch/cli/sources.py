"""``policywatch sources``: load, import, export and list the declared policy sources."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from policywatch.cli.common import open_engine, open_runtime, rich_table
from policywatch.cli.progress import stages

#: Colours of rows on a terminal, by status.
ROW_STYLES = {"broken": "red", "failing": "yellow"}


@click.group("sources")
def command() -> None:
    """Load, import, export and list the declared policy sources."""


@command.command(epilog="Example: policywatch sources load sources.yaml")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def load(file: Path) -> None:
    """Load a sources FILE (YAML or JSON) in one transaction; documents left out are deactivated."""
    from policywatch.usecases import load_sources

    with open_runtime() as runtime:
        report = _read(lambda path: load_sources(runtime, path), file)
    click.echo(f"{file}: {report.line()}")


@command.command(
    "import-ota", epilog="Example: policywatch sources import-ota ../genai-eu-declarations/declarations"
)
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def import_ota(path: Path) -> None:
    """Import Open Terms Archive declarations: a <Service>.json file or a folder of them."""
    from policywatch.usecases.sources import import_ota as load_ota

    with open_runtime() as runtime, stages() as show:
        report, warnings, skipped = _read(lambda found: load_ota(runtime, found, show), path)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    for line in skipped:
        click.echo(f"skipped: {line}", err=True)
    click.echo(f"{path}: {report.line()}" + (f"; {len(skipped)} declaration(s) skipped" if skipped else ""))


def _read(reader, path: Path):
    """What ``reader`` makes of ``path``, or one clear line saying what is wrong with it."""
    from crawler.sources.declarations import DeclarationError

    try:
        return reader(path)
    except DeclarationError as exc:
        raise click.ClickException(str(exc)) from None


@command.command(epilog="Example: policywatch sources export -o sources.yaml")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout."
)
def export(output: Path | None) -> None:
    """Write the active sources as a sources file (YAML)."""
    from crawler.sources.declarations import dump_yaml
    from store.db import transaction
    from store.sources_file import dump_declarations

    engine = open_engine()
    with transaction(engine) as session:
        text = dump_yaml(dump_declarations(session))
    engine.dispose()
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


@command.command("list", epilog="Example: policywatch sources list --all")
@click.option(
    "--all", "everything", is_flag=True, help="Include inactive documents, sources and newsroom listings."
)
def list_(everything: bool) -> None:
    """Per source: document, URL, last fetch, status, failure reason and version count; then per
    newsroom listing: platform, slug, listing URL, schedule, last read, next due, status and reason."""
    from sqlalchemy import func, select

    from crawler.sources.declarations import parse_schedule
    from policywatch.usecases.status import listing_states
    from store.db import transaction
    from store.models import Document, Source, Version, utcnow

    runtime = open_runtime()
    with transaction(runtime.engine) as session:
        counts = dict(
            session.execute(select(Version.document_id, func.count()).group_by(Version.document_id)).all()
        )
        query = select(Source, Document).join(Document).order_by(Document.slug, Source.position)
        if not everything:
            query = query.where(Document.active, Source.active)
        rows = [
            (
                document.slug,
                source.url,
                source.last_fetched_at.strftime("%Y-%m-%d %H:%M") if source.last_fetched_at else "never",
                _status(source, document),
                str(source.consecutive_failures),
                str(counts.get(document.id, 0)),
                source.last_error or "",
            )
            for source, document in session.execute(query)
        ]
        every = parse_schedule(runtime.settings.announcement_schedule)
        listings = [_listing_row(n) for n in listing_states(session, every, utcnow(), everything)]
    runtime.close()
    _print_table(("document", "url", "last fetch", "status", "failures", "versions", "reason"), rows)
    if listings:
        header = ("platform", "newsroom", "listing", "schedule", "last read", "next due", "status", "reason")
        _print_table(header, listings, gap=True)


def _listing_row(listing: dict) -> tuple[str, ...]:
    """A newsroom listing's row: its times to the minute, its status ``inactive``, ``failing``,
    ``due``, ``ok`` or ``new`` (never read)."""
    if not listing["active"]:
        status = "inactive"
    elif listing["failing"]:
        status = "failing"
    elif not listing["last_read"]:
        status = "new"
    else:
        status = "due" if listing["due"] else "ok"
    return (
        listing["platform"],
        listing["slug"],
        listing["listing"],
        listing["schedule"],
        _minute(listing["last_read"]) or "never",
        "now" if listing["due"] else _minute(listing["next_read"]) or "",
        status,
        listing["reason"] or "",
    )


def _minute(moment: str | None) -> str | None:
    """An ISO 8601 time as ``YYYY-MM-DD HH:MM``."""
    return moment[:16].replace("T", " ") if moment else None


def _status(source, document) -> str:
    if not (source.active and document.active):
        return "inactive"
    if source.broken:
        return "broken"
    if source.consecutive_failures:
        return "failing"
    return "ok" if source.last_fetched_at else "new"


def _print_table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]], gap: bool = False) -> None:
    """A rich table on a terminal (broken or failing rows in colour), else tab-separated lines;
    ``gap`` puts an empty line before it."""
    if gap:
        click.echo()
    if sys.stdout.isatty():
        from rich.console import Console

        table = rich_table(*header)
        for row in rows:
            table.add_row(*row, style=ROW_STYLES.get(row[header.index("status")]))
        Console().print(table)
        return
    for row in (header, *rows):
        click.echo("\t".join(row))
