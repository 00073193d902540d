"""``policywatch db``: schema migrations."""

from __future__ import annotations

import click

from policywatch.cli.common import open_engine
from policywatch.cli.progress import progress
from policywatch.settings import get_settings
from store.db import StoreError, current_revision, head_revision


@click.group("db")
def command() -> None:
    """Upgrade, downgrade or show the database schema."""


@command.command(epilog="Example: policywatch db upgrade")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Bring the schema up to REVISION (default: head)."""
    from store.migrate import upgrade as run

    with progress("revisions applied") as show:
        _migrate(lambda url, target: run(url, target, progress=show), revision)
    click.echo(f"database at {_current()} ({_where()})")


@command.command(epilog="Example: policywatch db downgrade 0009")
@click.argument("revision", default="-1")
def downgrade(revision: str) -> None:
    """Take the schema down to REVISION (default: one step; 'base' removes every table)."""
    from store.migrate import downgrade as run

    _migrate(run, revision)
    click.echo(f"database at {_current() or 'base'} ({_where()})")


@command.command(epilog="Example: policywatch db current")
def current() -> None:
    """Show the schema revision of the database and the one this code needs."""
    now, head = _current(), head_revision()
    state = "up to date" if now == head else "behind: run `policywatch db upgrade`"
    click.echo(f"database {now or 'empty'}, code {head}: {state} ({_where()})")


def _migrate(run, revision: str) -> None:
    """Run the migration ``run`` to ``revision``, or one line saying why the database is unusable."""
    try:
        run(get_settings().database, revision)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None


def _current() -> str | None:
    engine = open_engine(check=False)
    try:
        return current_revision(engine)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()


def _where() -> str:
    from sqlalchemy.engine import make_url

    return make_url(get_settings().database).render_as_string(hide_password=True)
