"""``policywatch verify``: check the tamper-evident version chains."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from policywatch.cli.common import open_engine
from store.chain import check_chain


@click.command("verify")
@click.argument("export", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def command(export: Path | None) -> None:
    """Check every version's hash chain in the database, or in an audit EXPORT file offline."""
    if export is not None:
        checked, problems = _verify_export(export)
    else:
        from store.db import transaction
        from store.versions import verify_all

        engine = open_engine()
        with transaction(engine) as session:
            checked, problems = verify_all(session)
        engine.dispose()
    for problem in problems:
        click.echo(f"TAMPERED {problem}")
    if problems:
        click.echo(f"{len(problems)} problem(s) in {checked} versions", err=True)
        sys.exit(1)
    click.echo(f"ok: {checked} versions, every chain intact")


def _verify_export(path: Path) -> tuple[int, list]:
    """Check an audit export: {"document": slug, "versions": [records in seq order]}."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        document, records = data["document"], data["versions"]
    except (ValueError, KeyError, TypeError) as exc:
        raise click.ClickException(f"{path}: not a policywatch audit export ({exc})") from None
    return len(records), check_chain(document, records)
