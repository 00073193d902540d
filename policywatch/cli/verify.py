"""``policywatch verify``: check the tamper-evident version chains, and signed audit exports."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from policywatch.cli.common import open_engine
from policywatch.cli.progress import progress
from policywatch.settings import get_settings


@click.command("verify")
@click.argument("export", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--public-key",
    help="Base64 Ed25519 key the EXPORT must be signed with (default: this installation's key).",
)
@click.option("--head", help="A chain hash published elsewhere (alert email, feed) the EXPORT must contain.")
@click.option("--show-key", is_flag=True, help="Print this installation's export public key and exit.")
def command(export: Path | None, public_key: str | None, head: str | None, show_key: bool) -> None:
    """Check every version's hash chain in the database, or an audit EXPORT file offline: its chain,
    its head (no version dropped at the end) and its signature.

    Example: policywatch verify acme-terms-audit.json --public-key 3q2+7w...="""
    from store.audit import public_key as public_key_of

    if show_key:
        click.echo(public_key_of(get_settings().export_signing_key()))
        return
    if export is None:
        _verify_database()
        return
    own = get_settings().existing_export_signing_key()
    trusted = public_key or (public_key_of(own) if own else None)
    if trusted is None:
        raise click.ClickException(
            "no trusted key to check the signature against: pass --public-key KEY "
            f"(the installation shows it at {get_settings().base_url}/audit/public-key)"
        )
    check = _check(export, trusted, head)
    for problem in check.problems:
        click.echo(f"TAMPERED {problem}")
    if check.problems:
        click.echo(f"{len(check.problems)} problem(s) in {check.document}'s export", err=True)
        sys.exit(1)
    click.echo(
        f"ok: {check.versions} versions, every chain intact; head v{check.head['seq'] if check.head else 0}"
        f" is the last version{'; published head found' if head else ''}; signed by {check.signed_by}"
    )


def _check(path: Path, trusted_key: str, head: str | None):
    from store.audit import check_export

    try:
        return check_export(json.loads(path.read_text(encoding="utf-8")), trusted_key, head)
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise click.ClickException(f"{path}: not a policywatch audit export ({exc})") from None


def _verify_database() -> None:
    from store.db import transaction
    from store.versions import verify_all

    engine = open_engine()
    with transaction(engine) as session, progress("documents checked") as show:
        checked, problems = verify_all(session, show)
    engine.dispose()
    for problem in problems:
        click.echo(f"TAMPERED {problem}")
    if problems:
        click.echo(f"{len(problems)} problem(s) in {checked} versions", err=True)
        sys.exit(1)
    click.echo(f"ok: {checked} versions, every chain intact")
