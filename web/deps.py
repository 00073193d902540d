"""Request dependencies shared by the routers: a database session, paging parameters and the topics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Annotated

from fastapi import Path, Query, Request
from sqlalchemy.orm import Session

from changes.taxonomy import Topic

MAX_LIMIT = 200
MAX_ID = 2**31 - 1  # row ids and positions are 32-bit integers in PostgreSQL
RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="A row id.")]
Seq = Annotated[int, Path(ge=1, le=MAX_ID, description="A version's position in its document (1 = first).")]


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A read session on the app's engine for one request. Made and closed on the event loop (making
    one does no I/O, closing it ends its transaction), used by the handler in its worker thread:
    one thread hand-off per request instead of three."""
    with Session(request.app.state.engine) as session:
        yield session


def topic_index(request: Request) -> dict[str, Topic]:
    """Every topic of the app's taxonomy, by id, in taxonomy order."""
    return {topic.id: topic for topic in request.app.state.taxonomy.topics}


@dataclass(frozen=True)
class Paging:
    """``limit`` and ``offset`` of a list request."""

    limit: int
    offset: int

    def next_offset(self, total: int) -> int | None:
        """The offset of the next page, or None on the last one."""
        return self.offset + self.limit if self.offset + self.limit < total else None

    def previous_offset(self) -> int | None:
        """The offset of the previous page, or None on the first one."""
        return max(self.offset - self.limit, 0) if self.offset else None


async def paging(
    limit: int = Query(50, ge=1, le=MAX_LIMIT, description="Items per page."),
    offset: int = Query(0, ge=0, le=10_000_000, description="Items to skip."),
) -> Paging:
    """Paging parameters of every list."""
    return Paging(limit, offset)


async def search_paging(
    limit: int = Query(20, ge=1, le=MAX_LIMIT, description="Hits per page."),
    offset: int = Query(0, ge=0, le=10_000_000, description="Hits to skip."),
) -> Paging:
    """Paging of search results: smaller pages, as each hit is highlighted."""
    return Paging(limit, offset)


def day_start(day: date | None) -> datetime | None:
    """Midnight UTC at the start of ``day``."""
    return datetime.combine(day, time(), tzinfo=UTC) if day else None


def day_end(day: date | None) -> datetime | None:
    """Midnight UTC at the end of ``day`` (so a date range includes its last day)."""
    return datetime.combine(day, time.max, tzinfo=UTC) if day else None
