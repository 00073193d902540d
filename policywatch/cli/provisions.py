"""``policywatch provisions``: where each document states the catalog's provisions, and their history."""

from __future__ import annotations

import json

import click

from policywatch.cli.common import open_runtime


@click.group("provisions")
def command() -> None:
    """List the provisions each document states, follow one provision's changes, ask for notes on
    them, rebuild them."""


def _text(clauses: list[str]) -> str:
    from changes.provisions import Instance

    return Instance("", None, (), tuple(clauses)).text


@command.command("list", epilog="Example: policywatch provisions list --platform openai --json")
@click.option("--document", help="Only this document (slug).")
@click.option("--platform", help="Only this platform (slug).")
@click.option("--json", "as_json", is_flag=True, help="A JSON array instead of a table.")
def list_provisions(document: str | None, platform: str | None, as_json: bool) -> None:
    """For the latest version of each document, the provisions it states, with heading, clauses and
    the machine-written note kept on them, if any."""
    from changes.notes import kept_notes
    from changes.provisions import catalog_for
    from store.db import transaction
    from store.queries.provisions import latest_instances

    with open_runtime() as runtime, transaction(runtime.engine) as session:
        rows = latest_instances(session, document=document, platform=platform)
        catalog = catalog_for(runtime.settings)
        records = [
            {
                "document": r.document,
                "platform": r.platform,
                "provision": r.provision,
                "present": r.present,
                "heading": r.heading,
                "text": _text(r.clauses),
                "version": r.seq,
                "card": _card(catalog, r) if r.present else None,
                "note": note,
            }
            for r, note in zip(rows, kept_notes(session, rows), strict=True)
        ]
    if as_json:
        click.echo(json.dumps(records, indent=1, ensure_ascii=False))
        return
    _table([r for r in records if r["present"]])


def _card(catalog, row) -> dict | None:
    from changes.cards import card
    from changes.provisions import Instance

    kind = catalog.get(row.provision)
    return card(kind, Instance(row.provision, row.heading, (), tuple(row.clauses))) if kind else None


def _table(records: list[dict]) -> None:
    if not records:
        click.echo("no provisions found (crawl first, or run `policywatch provisions rebuild`)")
        return
    for r in records:
        heading = f"  [{r['heading']}]" if r["heading"] else ""
        click.echo(f"{r['platform']}/{r['document']}  {r['provision']}{heading}")
        clauses = r["text"].splitlines()
        for clause in clauses[:3]:
            click.echo(f"  {clause if len(clause) <= 160 else clause[:159] + '…'}")
        if len(clauses) > 3:
            click.echo(f"  (and {len(clauses) - 3} more clauses: --json shows them all)")
        says = sorted({s["says"] for s in (r["card"] or {}).get("statements", [])})
        if says:
            click.echo(f"  card: {', '.join(says)} (--json cites each clause)")


@command.command(
    "history", epilog="Example: policywatch provisions history military_weapons --platform openai"
)
@click.argument("provision")
@click.option("--platform", help="Only this platform (slug).")
@click.option("--json", "as_json", is_flag=True, help="A JSON array instead of text.")
def history(provision: str, platform: str | None, as_json: bool) -> None:
    """Every change of PROVISION (a catalog id), oldest first, with the word-level redline of its clauses."""
    from changes.provisions import catalog_for
    from store.db import transaction
    from store.queries.provisions import provision_changes

    with open_runtime() as runtime, transaction(runtime.engine) as session:
        if catalog_for(runtime.settings).get(provision) is None:
            known = ", ".join(t.id for t in catalog_for(runtime.settings).types)
            raise click.BadParameter(f"{provision!r} is not a catalog provision ({known})")
        records = [
            {
                "change": r.id,
                "detected_at": r.detected_at.isoformat().replace("+00:00", "Z"),
                "significance": r.significance,
                "platform": r.platform,
                "document": r.document,
                "versions": [r.from_seq, r.to_seq],
                "before": list(r.before or []),
                "after": list(r.after or []),
            }
            for r in provision_changes(session, provision, platform)
        ]
    if as_json:
        click.echo(json.dumps(records, indent=1, ensure_ascii=False))
        return
    _history(provision, records)


def _history(provision: str, records: list[dict]) -> None:
    if not records:
        click.echo(f"no changes of {provision}")
        return
    click.echo("[-removed-] {+added+}")
    for r in records:
        status = "appeared" if not r["before"] else "removed" if not r["after"] else "reworded"
        click.echo(
            f"\n{r['detected_at'][:16].replace('T', ' ')}  {r['platform']}/{r['document']}  {status}  "
            f"change {r['change']} ({r['significance']}), version {r['versions'][0]} → {r['versions'][1]}"
        )
        for line in _redline_lines(r["before"], r["after"]):
            click.echo(f"  {line}")


def _redline_lines(before: list[str], after: list[str]) -> list[str]:
    """The word-level redline of clauses ``before`` against ``after`` as plain text lines (one per
    clause): removed words in ``[-…-]``, added ones in ``{+…+}`` (red and green on a terminal),
    unchanged clauses away from an edit folded into one line."""
    from changes.redline import compare_texts

    lines: list[str] = []
    for block in compare_texts("\n".join(before), "\n".join(after), context=1).blocks:
        if block.kind == "gap":
            lines.append(f"… {block.skipped} unchanged clause{'' if block.skipped == 1 else 's'} …")
        elif block.kind == "same":
            lines.extend(block.lines)
        else:
            lines.extend("".join(_marked(s.op, s.text) for s in block.inline).split("\n"))
    return lines


def _marked(op: str, text: str) -> str:
    """``text`` as it reads in the redline: each line's piece of a deletion or insertion marked."""
    if op == "equal":
        return text
    opening, closing, colour = ("[-", "-]", "red") if op == "delete" else ("{+", "+}", "green")
    return "\n".join(
        click.style(f"{opening}{piece}{closing}", fg=colour) if piece else piece for piece in text.split("\n")
    )


@command.command("compare", epilog="Example: policywatch provisions compare government_carve_out")
@click.argument("provision")
@click.option("--json", "as_json", is_flag=True, help="A JSON array instead of text.")
def compare(provision: str, as_json: bool) -> None:
    """PROVISION side by side across platforms: each document that states it now (heading, clauses,
    last change), and the platforms that do not state it."""
    from changes.provisions import catalog_for
    from store.db import transaction
    from store.queries.provisions import last_changes, latest_instances, platform_names

    with open_runtime() as runtime, transaction(runtime.engine) as session:
        if catalog_for(runtime.settings).get(provision) is None:
            raise click.BadParameter(f"{provision!r} is not a catalog provision")
        stated = [r for r in latest_instances(session) if r.provision == provision and r.present]
        changed = last_changes(session, provision)
        platforms = platform_names(session)
    records: list[dict] = [
        {
            "platform": slug,
            "platform_name": name,
            "documents": [
                {
                    "document": r.document,
                    "heading": r.heading,
                    "text": _text(r.clauses),
                    "last_changed": _moment(changed.get(r.document)),
                }
                for r in stated
                if r.platform == slug
            ],
        }
        for slug, name in sorted(platforms.items())
    ]
    if as_json:
        click.echo(json.dumps(records, indent=1, ensure_ascii=False))
        return
    for record in records:
        click.echo(f"{record['platform_name']} ({record['platform']})")
        if not record["documents"]:
            click.echo("  not stated")
        for d in record["documents"]:
            heading = f" [{d['heading']}]" if d["heading"] else ""
            since = (
                f", last changed {d['last_changed'][:10]}"
                if d["last_changed"]
                else ", unchanged since recorded"
            )
            click.echo(f"  {d['document']}{heading}{since}")
            first = d["text"].splitlines()[0]
            click.echo(f"    {first if len(first) <= 160 else first[:159] + '…'}")


def _moment(moment) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


@command.command("notes", epilog="Example: policywatch provisions notes --limit 50")
@click.option("--limit", type=click.IntRange(min=1), help="Ask for at most this many notes.")
def notes(limit: int | None) -> None:
    """Ask the LLM provider the settings name for a machine-written note on each provision text of
    the documents' latest versions that has none yet (each text is asked once)."""
    from policywatch.usecases.notes import write_notes

    with open_runtime() as runtime:
        done = write_notes(runtime, limit)
    if done is None:
        raise click.ClickException("notes are off: set POLICYWATCH_NOTE_URL and POLICYWATCH_NOTE_MODEL")
    click.echo(
        f"{done.written} notes written, {done.failed} requests failed, {done.waiting} texts without a note"
    )
    if done.failed:
        raise SystemExit(1)


@command.command("rebuild", epilog="Example: policywatch provisions rebuild")
def rebuild() -> None:
    """Recompute every version's provision instances and every change's provisions (after the catalog
    or its rules changed)."""
    from changes.record import rebuild_provisions
    from store.db import transaction

    with open_runtime() as runtime, transaction(runtime.engine) as session:
        versions, changes = rebuild_provisions(session, runtime.settings)
    click.echo(f"provisions rebuilt for {versions} versions and {changes} changes")
