"""Downloader middlewares: internal addresses refused at every hop; the start time of a fetch;
retries of 5xx, 429 and timeouts with exponential backoff that honours Retry-After, in place of
Scrapy's RetryMiddleware (which retries at once); robots.txt that holds for every request waiting
on it."""

from __future__ import annotations

import asyncio
import time

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message
from twisted.internet.defer import Deferred

from crawler.fetch.scrapy_settings import SETTINGS_KEY
from crawler.sources.addresses import AddressPolicy
from policywatch.verdicts import Failure, FailureKind, retry_after_seconds


class RefusedAddress(IgnoreRequest):
    """A request or response refused because of the address it goes to or came from."""

    def __init__(self, url: str, reason: str) -> None:
        self.failure = Failure(FailureKind.REFUSED_ADDRESS, f"refused {url}: {reason}")
        super().__init__(self.failure.detail)


class InternalAddressMiddleware:
    """Refuse a request whose host is an internal address not allowed (``AddressPolicy``), or
    resolves to one; each redirect hop is a request of its own, so every hop is judged. A response
    whose server address is refused (a name that resolved elsewhere when connecting) is dropped too:
    nothing from a refused address reaches the spider, so nothing of it is stored."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self.hosts: dict[str, str | None] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(AddressPolicy(crawler.settings[SETTINGS_KEY].allowed_networks))

    async def process_request(self, request: Request, spider=None) -> None:
        host = urlparse_cached(request).hostname or ""
        if host not in self.hosts:  # resolved once per crawl, off the reactor's thread
            self.hosts[host] = await asyncio.to_thread(self.policy.host_refusal, host)
        refusal = self.hosts[host]
        if refusal:
            raise RefusedAddress(request.url, refusal)

    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        address = response.ip_address
        refusal = self.policy.refusal(str(address)) if address is not None else None
        if refusal:
            raise RefusedAddress(response.url, f"the server's address {refusal}")
        return response


class FetchTimerMiddleware:
    """Stamp ``started`` in a request's meta when the downloader first takes it (retries keep it),
    so a fetch event's duration counts the fetch and its retries, not the wait in the queue."""

    def process_request(self, request: Request, spider=None) -> None:
        request.meta.setdefault("started", time.monotonic())


class BackoffRetryMiddleware(RetryMiddleware):
    """Retry after ``RETRY_BACKOFF_BASE * 2**n`` seconds, or after Retry-After when the server says;
    give up at once when Retry-After exceeds ``RETRY_AFTER_MAX``."""

    def __init__(self, settings):
        super().__init__(settings)
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE", 0.5)
        self.retry_after_max = settings.getfloat("RETRY_AFTER_MAX", 120.0)

    # Scrapy runs coroutine middleware methods; RetryMiddleware's annotations declare the plain form
    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response, spider=None
    ) -> Request | Response:
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        wait = retry_after_seconds(_text(response.headers.get(b"Retry-After")))
        if wait is not None and wait > self.retry_after_max:
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        await asyncio.sleep(self.delay(request, wait))
        return retry

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception, spider=None
    ) -> Request | None:
        if request.meta.get("dont_retry") or not isinstance(exception, self.exceptions_to_retry):
            return None
        retry = self._retry(request, exception)
        if retry is not None:
            await asyncio.sleep(self.delay(request, None))
        return retry

    def delay(self, request: Request, retry_after: float | None) -> float:
        """Seconds to wait before the next attempt of ``request``."""
        if retry_after is not None:
            return retry_after
        return self.backoff_base * 2 ** request.meta.get("retry_times", 0)


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, except that every request waiting for a host's robots.txt
    gets the parser: in Scrapy 2.19 the first waiter consumes the shared Deferred's result and the
    others see None, so they are let through whatever robots.txt says (``robot_parser`` awaits the
    shared Deferred since scrapy/scrapy#6802). tests/crawler/test_crawl.py's robots.txt case fails
    without it."""

    async def robot_parser(self, request: Request):
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if isinstance(pending, Deferred):
            mine: Deferred = Deferred()
            pending.addBoth(_relay, mine)
            return await maybe_deferred_to_future(mine)
        return await super().robot_parser(request)


def _relay(result, waiter: Deferred):
    waiter.callback(result)
    return result


def _text(value: bytes | None) -> str | None:
    return value.decode("latin-1") if value else None
