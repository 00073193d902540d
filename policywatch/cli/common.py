"""What every data command shares: the engine in force, refused with one line when unusable."""

from __future__ import annotations

import click
from sqlalchemy import Engine

from policywatch.settings import get_settings
from store.db import StoreError, check_schema, make_engine


def open_engine(check: bool = True) -> Engine:
    """The engine for the configured database; with ``check``, refuse a schema that is behind."""
    engine = make_engine(get_settings().database)
    if check:
        try:
            check_schema(engine)
        except StoreError as exc:
            engine.dispose()
            raise click.ClickException(str(exc)) from None
    return engine
