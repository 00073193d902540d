"""Slow start: a host's connections are opened a few at a time, not all at once.

Every request of a crawl may be waiting on the same host (for its robots.txt, or at the first
tick), and Scrapy would then open ``CONCURRENT_REQUESTS_PER_DOMAIN`` connections in the same
instant. A server with a short accept queue drops that burst's SYNs, and each dropped one costs a
TCP retransmission timeout (a second or more). Like TCP's own slow start, a host's download slot
starts at ``SLOWSTART_CONCURRENCY`` requests in flight and allows one more per response, up to
the configured concurrency: full speed after a handful of responses, and never a burst.
"""

from __future__ import annotations

from scrapy import Request, signals
from scrapy.core.downloader import Slot
from scrapy.exceptions import NotConfigured


class SlowStart:
    """Scrapy extension: ramp each new download slot's concurrency up one response at a time."""

    def __init__(self, crawler, initial: int) -> None:
        self.crawler, self.initial = crawler, initial
        #: slot key -> (the slot, the concurrency it ramps up to, or None once it got there); the
        #: slot object tells a slot Scrapy recreated after collecting an idle one
        self.slots: dict[str, tuple[Slot, int | None]] = {}
        crawler.signals.connect(self.request_reached_downloader, signal=signals.request_reached_downloader)
        crawler.signals.connect(self.response_downloaded, signal=signals.response_downloaded)

    @classmethod
    def from_crawler(cls, crawler) -> SlowStart:
        initial = crawler.settings.getint("SLOWSTART_CONCURRENCY", 0)
        if initial <= 0:
            raise NotConfigured
        return cls(crawler, initial)

    def request_reached_downloader(self, request: Request, spider=None) -> None:
        """Start a slot seen for the first time at the initial concurrency."""
        key, slot = self._slot(request)
        known = self.slots.get(key)
        if slot is None or (known and known[0] is slot):
            return
        target = slot.concurrency if slot.concurrency > self.initial else None
        self.slots[key] = (slot, target)
        if target:
            slot.concurrency = self.initial

    def response_downloaded(self, response, request: Request, spider=None) -> None:
        """Allow the response's slot one more request in flight, until its full concurrency."""
        key, slot = self._slot(request)
        known = self.slots.get(key)
        if not known or known[0] is not slot or known[1] is None:
            return
        slot.concurrency += 1
        if slot.concurrency >= known[1]:
            self.slots[key] = (slot, None)

    def _slot(self, request: Request):
        key = request.meta.get("download_slot")
        return key, self.crawler.engine.downloader.slots.get(key)
