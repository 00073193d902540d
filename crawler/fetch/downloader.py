"""The downloader: Scrapy's, with its per-host concurrency limit holding for bursts.

Scrapy 2.19 counts a request against its slot's concurrency only once the request's download
coroutine has started. When many requests reach a slot in one turn of the event loop (all the
requests that waited for a host's robots.txt, released together), each look at the queue still
sees every transfer slot free, and the whole burst goes out at once: ``CONCURRENT_REQUESTS``
connections to one host instead of ``CONCURRENT_REQUESTS_PER_DOMAIN`` (reported upstream as
scrapy/scrapy#6982, "one slot takes all CONCURRENT_REQUESTS even if it has concurrency 1"). Here a
request counts as transferring from the moment it leaves the queue; the pin ``scrapy<2.20`` in
pyproject.toml keeps this override on the version it was written for, and
``test_a_host_never_gets_more_requests_at_once_than_allowed_and_the_first_come_gently`` fails
without it.
"""

from __future__ import annotations

from time import monotonic

from scrapy.core.downloader import Downloader, Slot
from scrapy.utils.defer import _schedule_coro


class HostLimitedDownloader(Downloader):
    """Scrapy's downloader, except that a dequeued request takes its transfer slot at once."""

    def _process_queue(self, slot: Slot) -> None:
        if slot.latercall:
            return
        now = monotonic()
        delay = slot.download_delay()
        if delay and delay - now + slot.lastseen > 0:
            super()._process_queue(slot)  # Scrapy schedules the delayed call
            return
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = now
            request, queue_dfd = slot.queue.popleft()
            slot.transferring.add(request)  # counted now; _download adds it again (a set)
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))
            if delay:
                self._process_queue(slot)
                break
