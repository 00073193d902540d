"""In-process cache of rendered HTML pages, valid while the stored history is unchanged.

Stored history only grows: every new version, change or fetch event gets a higher id, and a catalog
edit moves a document's ``updated_at``. ``history.generation`` reads those few maxima in one cheap
query, at most once every ``FRESH_FOR`` seconds (a read per request cost a thread hand-off and a
database round trip even for pages answered from memory); a page is served from the cache only if
it was rendered at the same generation, so a page shows a new version, change or fetch within
``FRESH_FOR`` seconds. Edits that move none of them (a platform renamed, a source's URL changed
alone) show within ``MAX_AGE`` seconds.

Values that many pages share (every offset of ``/changes`` shows the same total; every search
page lists the platforms) are remembered the same way: ``remembered(request)`` gives a page the
function that answers them.

Only ``GET`` answers of 200 with an HTML body are kept (never their ``Set-Cookie``), for the
analyst pages listed in ``CACHED``; the least recently used pages go when they hold more than
``BUDGET`` bytes (a document page carries the whole current text).
"""
from __future__ import annotations

import functools
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from dataclasses import dataclass

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.history import Remember, count_now, generation

CACHED = re.compile(r"/(?:|platforms/[^/]+|documents/[^/]+(?:/diff|/versions/\d+)?|changes(?:/\d+)?|search|compare)")
BUDGET = 64 * 1024 * 1024
SHARED = 10_000
MAX_AGE = 60.0
FRESH_FOR = 1.0


def remembered(request: Request) -> Remember:
    """How this request answers values pages share: from the page cache's memory when it went through it."""
    return getattr(request.state, "remember", count_now)


@dataclass(frozen=True)
class Page:
    """A rendered page, the history generation it shows, and when it was rendered."""

    generation: tuple
    headers: list[tuple[bytes, bytes]]
    body: bytes
    rendered_at: float


class PageCache:
    """ASGI middleware answering repeated page requests from memory while the history is unchanged."""

    def __init__(self, app: ASGIApp, budget: int = BUDGET, max_age: float = MAX_AGE,
                 fresh_for: float = FRESH_FOR) -> None:
        self.app, self.budget, self.max_age, self.fresh_for = app, budget, max_age, fresh_for
        self.read: tuple[tuple, float] | None = None  # the last generation read, and when
        self.held = 0  # bytes of the kept pages' bodies
        self.pages: OrderedDict[tuple[str, bytes], Page] = OrderedDict()
        self.shared: OrderedDict[tuple, tuple[Any, float]] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not CACHED.fullmatch(scope["path"]):
            await self.app(scope, receive, send)
            return
        now, key = time.monotonic(), (scope["path"], scope["query_string"])
        current = await self._generation(scope["app"].state.engine, now)
        scope.setdefault("state", {})["remember"] = functools.partial(self._shared, current, now)
        kept = self.pages.get(key)
        if kept and kept.generation == current and now - kept.rendered_at < self.max_age:
            self.pages.move_to_end(key)
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
        if start.get("status") == 200 and any(name.lower() == b"content-type" and value.startswith(b"text/html")
                                              for name, value in headers):
            self._keep(key, Page(current, headers, b"".join(chunks), now))

    async def _generation(self, engine: Engine, now: float) -> tuple:
        """The history's generation, read again once the last read is ``fresh_for`` seconds old."""
        if self.read is None or now - self.read[1] >= self.fresh_for:
            self.read = (await run_in_threadpool(generation, engine), now)
        return self.read[0]

    def _shared(self, current: tuple, now: float, key: tuple, make: Callable[[], Any]) -> Any:
        """``make()``, or its value from a request at generation ``current`` less than MAX_AGE ago."""
        kept = self.shared.get((current, key))
        if kept and now - kept[1] < self.max_age:
            return kept[0]
        value = make()
        self.shared[(current, key)] = (value, now)
        while len(self.shared) > SHARED:
            self.shared.popitem(last=False)
        return value

    def _keep(self, key: tuple[str, bytes], page: Page) -> None:
        replaced = self.pages.pop(key, None)
        self.held += len(page.body) - (len(replaced.body) if replaced else 0)
        self.pages[key] = page
        while self.held > self.budget:
            _, oldest = self.pages.popitem(last=False)
            self.held -= len(oldest.body)
