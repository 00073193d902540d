"""Cache of rendered HTML pages, valid while the stored history is unchanged.

Stored history only grows: every new version, change or fetch event gets a higher id, and a catalog
edit moves a document's ``updated_at``. ``store.queries.generation`` reads those few maxima in one cheap
query, at most once every ``FRESH_FOR`` seconds (a read per request cost a thread hand-off and a
database round trip even for pages answered from memory); a page is served from the cache only if
it was rendered at the same generation, so a page shows a new version, change or fetch within
``FRESH_FOR`` seconds. Edits that move none of them (a platform renamed, a source's URL changed
alone) show within ``MAX_AGE`` seconds.

Values that many pages share (every offset of ``/changes`` shows the same total; every search
page lists the platforms; a document's diff, version and timeline pages load the same document)
are remembered the same way, in the process's memory:
``remembered(request)`` gives a page the function that answers them.

Only ``GET`` answers of 200 with an HTML body are kept (never their ``Set-Cookie``), for the
analyst pages listed in ``CACHED``, up to ``BUDGET`` bytes (a document page carries the whole
current text). They are kept in the process's memory (``MemoryPages``, least recently used go
first), or, for the worker processes of one server, in a folder they all share (``SharedPages``):
a page one worker rendered is then a hit in every other.
"""

from __future__ import annotations

import functools
import hashlib
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import diskcache
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from store.queries.changes import Remember, count_now
from store.queries.generation import generation

CACHED = re.compile(
    r"/(?:|platforms/[^/]+|documents/[^/]+(?:/diff|/versions/\d+)?|changes(?:/\d+)?|search|compare)"
)
BUDGET = 64 * 1024 * 1024
VALUES = 10_000
MAX_AGE = 60.0
FRESH_FOR = 1.0


def is_page(scope: Scope) -> bool:
    """Whether a request asks for an analyst page (``CACHED``), the kind this module keeps."""
    return (
        scope["type"] == "http" and scope["method"] == "GET" and CACHED.fullmatch(scope["path"]) is not None
    )


def remembered(request: Request) -> Remember:
    """How this request answers values pages share: from the page cache's memory when it went through it."""
    return getattr(request.state, "remember", count_now)


@dataclass(frozen=True)
class Page:
    """A rendered page, the history generation it shows, and when it was rendered (epoch seconds)."""

    generation: tuple
    headers: list[tuple[bytes, bytes]]
    body: bytes
    rendered_at: float


Key = tuple[str, bytes]  # path and query string


class Pages(Protocol):
    """Where kept pages live."""

    def get(self, key: Key) -> Page | None: ...

    def put(self, key: Key, page: Page) -> None: ...


class MemoryPages:
    """Pages kept in this process's memory; the least recently used go past ``budget`` bytes."""

    def __init__(self, budget: int = BUDGET) -> None:
        self.budget, self.held = budget, 0  # held: bytes of the kept pages' bodies
        self.pages: OrderedDict[Key, Page] = OrderedDict()

    def get(self, key: Key) -> Page | None:
        """The page kept for ``key``, if any."""
        page = self.pages.get(key)
        if page is not None:
            self.pages.move_to_end(key)
        return page

    def put(self, key: Key, page: Page) -> None:
        """Keep ``page`` for ``key``."""
        replaced = self.pages.pop(key, None)
        self.held += len(page.body) - (len(replaced.body) if replaced else 0)
        self.pages[key] = page
        while self.held > self.budget:
            _, oldest = self.pages.popitem(last=False)
            self.held -= len(oldest.body)


class SharedPages:
    """Pages kept in ``folder`` for every worker process of a server (diskcache: an SQLite index
    and files, safe across processes), in a subfolder per database; the oldest stored go past
    ``budget`` bytes."""

    def __init__(self, folder: Path, database: str, budget: int = BUDGET) -> None:
        where = folder / hashlib.sha256(database.encode()).hexdigest()[:16]
        self.store = diskcache.Cache(str(where), size_limit=budget, eviction_policy="least-recently-stored")

    def get(self, key: Key) -> Page | None:
        """The page kept for ``key``, if any."""
        return self.store.get(key)

    def put(self, key: Key, page: Page) -> None:
        """Keep ``page`` for ``key``."""
        self.store.set(key, page)


class PageCache:
    """ASGI middleware answering repeated page requests from ``pages`` while the history is unchanged."""

    def __init__(
        self, app: ASGIApp, pages: Pages | None = None, max_age: float = MAX_AGE, fresh_for: float = FRESH_FOR
    ) -> None:
        self.app, self.max_age, self.fresh_for = app, max_age, fresh_for
        self.pages = pages if pages is not None else MemoryPages()
        self.read: tuple[tuple, float] | None = None  # the last generation read, and when
        self.values: OrderedDict[tuple, tuple[Any, float]] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not is_page(scope):
            await self.app(scope, receive, send)
            return
        now, key = time.monotonic(), (scope["path"], scope["query_string"])
        current = await self._generation(scope["app"].state.engine, now)
        scope.setdefault("state", {})["remember"] = functools.partial(self._remembered, current, now)
        kept = self.pages.get(key)
        if kept and kept.generation == current and time.time() - kept.rendered_at < self.max_age:
            await send({"type": "http.response.start", "status": 200, "headers": kept.headers})
            await send({"type": "http.response.body", "body": kept.body})
            return
        start: dict = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        headers = [(name, value) for name, value in start.get("headers", []) if name.lower() != b"set-cookie"]
        if start.get("status") == 200 and any(
            name.lower() == b"content-type" and value.startswith(b"text/html") for name, value in headers
        ):
            self.pages.put(key, Page(current, headers, b"".join(chunks), time.time()))

    async def _generation(self, engine: Engine, now: float) -> tuple:
        """The history's generation, read again once the last read is ``fresh_for`` seconds old."""
        if self.read is None or now - self.read[1] >= self.fresh_for:
            self.read = (await run_in_threadpool(generation, engine), now)
        return self.read[0]

    def _remembered(self, current: tuple, now: float, key: tuple, make: Callable[[], Any]) -> Any:
        """``make()``, or its value from a request at generation ``current`` less than MAX_AGE ago."""
        kept = self.values.get((current, key))
        if kept and now - kept[1] < self.max_age:
            return kept[0]
        value = make()
        self.values[(current, key)] = (value, now)
        while len(self.values) > VALUES:
            self.values.popitem(last=False)
        return value
