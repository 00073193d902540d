"""Analyst pages are answered one at a time per worker process, first come, first served.

Rendering a page is Python work that holds the interpreter lock. Answered side by side (a thread
per render, kept pages answered on the event loop meanwhile), every page in flight got an equal
share of the processor, so a page rendered for the first time took as long as all the work in
flight: with 20 clients, 10 to 20 times its own cost. Taking turns, a request waits for the ones
ahead of it and then takes its own cost, so slow and fast pages wait alike. Concurrency comes from
worker processes (``policywatch web --workers N``), a turn each.

A response is collected during its turn and sent after it, so a slow reader never holds the turn.
Only the pages ``PageCache`` keeps (``web.middleware.cache.is_page``) take turns: their responses are
bounded HTML. API answers, feeds, downloads and forms go on as before.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.middleware.cache import is_page


class Turns:
    """ASGI middleware answering the requests for analyst pages one at a time, in arrival order."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.loop: asyncio.AbstractEventLoop | None = None
        self.turn: asyncio.Lock | None = None  # made in the loop that first uses it

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not is_page(scope):
            await self.app(scope, receive, send)
            return
        # a lock serves one event loop (tests start several); the loop and its lock are set together
        if self.turn is None or self.loop is not asyncio.get_running_loop():
            self.loop, self.turn = asyncio.get_running_loop(), asyncio.Lock()
        messages: list[Message] = []

        async def collect(message: Message) -> None:
            messages.append(message)

        async with self.turn:
            await self.app(scope, receive, collect)
        for message in messages:
            await send(message)
