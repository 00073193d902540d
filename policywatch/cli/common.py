"""What every data command shares: the runtime (settings and engine) in force, refused with one
line when its database is unusable."""

from __future__ import annotations

import click
from sqlalchemy import Engine

from policywatch.runtime import Runtime
from policywatch.settings import get_settings
from store.db import StoreError


def open_runtime(check: bool = True, overrides: dict[str, object] | None = None) -> Runtime:
    """The runtime on the configured settings, ``overrides`` (settings a command's options set for
    its run) applied; with ``check``, refuse a schema that is behind."""
    settings = get_settings().model_copy(update=overrides) if overrides else get_settings()
    try:
        return Runtime.from_settings(settings, check=check)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None


def open_engine(check: bool = True) -> Engine:
    """The engine for the configured database; with ``check``, refuse a schema that is behind."""
    return open_runtime(check).engine


def rich_table(*headers: str, **options):
    """A rich Table whose columns wrap long values (URLs, reasons) instead of cutting them to "…"."""
    from rich.table import Column, Table

    return Table(*(Column(header, overflow="fold") for header in headers), **options)
