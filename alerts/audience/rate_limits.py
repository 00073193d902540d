"""Requests counted per client and fixed time window (the subscribe form's rate limit), kept in the
database so every process serving it (each web worker, on every host) counts the same requests."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from store.models import RateWindow


def count_hit(session: Session, key: str, window_start: datetime) -> int:
    """Count one hit of ``key`` in the window starting at ``window_start`` (one atomic upsert) and
    return the window's hits, this one included; the key's earlier windows are forgotten."""
    session.execute(delete(RateWindow).where(RateWindow.key == key, RateWindow.window_start < window_start))
    table = cast(Table, RateWindow.__table__)  # a declarative class's table; typed only as a FromClause
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(table)
        .values(key=key, window_start=window_start, hits=1)
        .on_conflict_do_update(index_elements=["key", "window_start"], set_={"hits": table.c.hits + 1})
        .returning(table.c.hits)
    )
    return session.execute(statement).scalar_one()
