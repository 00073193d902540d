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
from scrapy.exceptions import NotConfigured


class SlowStart:
    """Scrapy extension: ramp each new download slot's concurrency up one response at a time."""

    def __init__(self, crawler, initial: int) -> None:
        self.crawler, self.initial = crawler, initial
        #: slot key -> (slot, the concurrency it ramps up to), while it ramps
        self.ramping: dict[str, tuple[object, int]] = {}
        #: slots that ramped up already (by key, with the slot object to notice a recreated slot)
        self.ramped: dict[str, object] = {}
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
        ramp = self.ramping.get(key)
        if slot is None or (ramp and ramp[0] is slot) or self.ramped.get(key) is slot:
            return
        if slot.concurrency > self.initial:
            self.ramping[key] = (slot, slot.concurrency)
            slot.concurrency = self.initial
        else:
            self.ramped[key] = slot

    def response_downloaded(self, response, request: Request, spider=None) -> None:
        """Allow the response's slot one more request in flight, until its full concurrency."""
        key, slot = self._slot(request)
        ramp = self.ramping.get(key)
        if ramp is None or ramp[0] is not slot:
            return
        slot.concurrency += 1
        if slot.concurrency >= ramp[1]:
            del self.ramping[key]
            self.ramped[key] = slot

    def _slot(self, request: Request):
        key = request.meta.get("download_slot")
        return key, self.crawler.engine.downloader.slots.get(key)
