"""The stored history's generation: a tuple that moves whenever a page's content may, read in one
cheap query (the page cache compares it to decide whether a kept page still holds)."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from store.models import Change, Document, FetchEvent, Version

GENERATION = select(
    *(
        select(func.max(column)).scalar_subquery()
        for column in (Version.id, Change.id, FetchEvent.id, Document.updated_at)
    )
)


def generation(engine: Engine) -> tuple:
    """What the stored history looks like, in one cheap query: the newest version, change and fetch
    event ids and the latest catalog edit of a document. Any of them moves when a page's content may."""
    with engine.connect() as connection:
        return tuple(connection.execute(GENERATION).one())
