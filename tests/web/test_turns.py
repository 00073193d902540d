"""Analyst pages take turns in a worker: one renders at a time, in arrival order; other routes and
slow readers never wait for a turn."""

from __future__ import annotations

import asyncio

from web.middleware.turns import Turns


class Recorder:
    """A stand-in app: records when each path starts and ends, and holds a path until released."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.held: dict[str, asyncio.Event] = {}

    async def __call__(self, scope, receive, send) -> None:
        path = scope["path"]
        self.log.append(f"start {path}")
        if path in self.held:
            await self.held[path].wait()
        self.log.append(f"end {path}")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": path.encode()})


def request(app, path: str, sent: list | None = None, reader: asyncio.Event | None = None):
    """``app``'s answer to GET ``path``, its messages put in ``sent``; a slow reader until ``reader``
    is set."""
    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": []}
    sent = [] if sent is None else sent

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if reader is not None:
            await reader.wait()
        sent.append(message)

    return app(scope, receive, send)


async def holding(path: str) -> tuple[Turns, Recorder, asyncio.Task]:
    """Turns over a recorder, with a request for ``path`` started and held inside the app."""
    inner = Recorder()
    inner.held[path] = asyncio.Event()
    app = Turns(inner)
    task = asyncio.create_task(request(app, path))
    await asyncio.sleep(0)
    return app, inner, task


def test_pages_render_one_at_a_time_in_arrival_order():
    async def scenario():
        app, inner, first = await holding("/documents/a")
        second = asyncio.create_task(request(app, "/documents/b"))
        third = asyncio.create_task(request(app, "/search"))
        await asyncio.sleep(0.01)
        assert inner.log == ["start /documents/a"]  # the others wait for their turn
        inner.held["/documents/a"].set()
        await asyncio.gather(first, second, third)
        return inner.log

    assert asyncio.run(scenario()) == [
        "start /documents/a",
        "end /documents/a",
        "start /documents/b",
        "end /documents/b",
        "start /search",
        "end /search",
    ]


def test_other_routes_and_slow_readers_do_not_wait_for_a_turn():
    async def scenario():
        app, inner, page = await holding("/documents/a")
        await asyncio.wait_for(request(app, "/api/documents"), 1)  # the API is not a page: no turn
        inner.held["/documents/a"].set()
        await page
        reader, sent = asyncio.Event(), []
        slow = asyncio.create_task(request(app, "/documents/c", sent, reader))
        await asyncio.sleep(0.01)
        await asyncio.wait_for(request(app, "/documents/d"), 1)  # c's turn ended before c was read
        assert sent == []
        reader.set()
        await slow
        return inner.log, sent

    log, sent = asyncio.run(scenario())
    assert log[:3] == ["start /documents/a", "start /api/documents", "end /api/documents"]
    assert [message["type"] for message in sent] == ["http.response.start", "http.response.body"]
    assert sent[1]["body"] == b"/documents/c"
