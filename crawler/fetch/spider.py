"""The spider: one request per planned source, each answer turned into a FetchedPage item."""

from __future__ import annotations

import functools
import importlib
import re
import time
from collections.abc import AsyncIterator
from datetime import datetime
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from twisted.python import failure as twisted

from crawler.fetch.items import CrawlReport, FetchedPage
from crawler.fetch.middlewares import RefusedAddress
from crawler.fetch.scrapy_settings import SETTINGS_KEY
from crawler.newsroom.listing import read_listing
from crawler.newsroom.post import read_post
from crawler.sources.plan import CrawlPlan, ListingJob, SourceJob
from policywatch.verdicts import Failure, FailureKind

#: Statuses handed to the spider rather than dropped: 304 and every client or server error
#: (3xx redirects stay with Scrapy's RedirectMiddleware, which follows them).
HANDLED_STATUSES = [304, *range(400, 600)]

#: A redirect whose target path looks like one of these is a login wall, not the document.
LOGIN_PATH = re.compile(
    r"/(?:log-?in|sign-?in|signin|auth|sso|oauth2?|account/login|session/new)(?:/|$|\?|\.)", re.I
)

BROWSER_MISSING = Failure(
    FailureKind.INTERNAL,
    "fetcher browser needs the optional [browser] extra (scrapy-playwright): "
    "pip install 'policywatch[browser]'",
)


@functools.cache
def browser_available() -> bool:
    """Whether the browser fetcher (scrapy-playwright) is installed and imports."""
    try:
        importlib.import_module("scrapy_playwright.handler")
    except ImportError:
        return False
    return True


class PolicySpider(scrapy.Spider):
    """Fetch every source of a CrawlPlan once, with conditional GET; follows links only from
    newsroom listings: their next pages, and the posts they list."""

    name = "policies"

    def __init__(
        self, plan: CrawlPlan, report: CrawlReport, recorder, newsroom=None, listing_pages: int = 1, **kwargs
    ):
        """``plan`` is what to fetch; ``report`` collects what the item pipeline made of each page,
        which it hands to ``recorder`` (the store's ``FetchRecorder``, one per crawl); ``newsroom``
        (the store's ``NewsroomRecorder``) records what listings and post pages say, and hands back
        the fetches of new posts; ``listing_pages`` listing pages are read per newsroom."""
        super().__init__(**kwargs)
        self.plan = plan
        self.report = report
        self.recorder = recorder
        self.newsroom = newsroom
        self.listing_pages = listing_pages

    def now(self) -> datetime:
        """The time stamped on what the crawl observes now: the current time, or the time the
        crawl is recorded as of (``Settings.crawl_as_of``, for replaying archived pages)."""
        return self.settings[SETTINGS_KEY].crawl_time()

    async def start(self) -> AsyncIterator[scrapy.Request | FetchedPage]:
        for listing in self.plan.listings:
            yield self.listing_request(listing, listing.url, 1)
        for job in self.plan.jobs.values():
            if job.fetcher == "browser" and not browser_available():
                yield FetchedPage(job.source_id, job.url, self.now(), error=BROWSER_MISSING)
                continue
            yield self.request(job)

    def listing_request(self, listing: ListingJob, url: str, page: int) -> scrapy.Request:
        """The request for page ``page`` of a newsroom listing (conditional on page 1)."""
        headers = {}
        if page == 1 and listing.etag:
            headers["If-None-Match"] = listing.etag
        if page == 1 and listing.last_modified:
            headers["If-Modified-Since"] = listing.last_modified
        meta = {"listing": listing, "page": page, "handle_httpstatus_list": HANDLED_STATUSES}
        return scrapy.Request(
            url,
            headers=headers,
            meta=meta,
            dont_filter=page == 1,
            callback=self.parse_listing,
            errback=self.listing_failed,
            priority=10,
        )

    def parse_listing(self, response: Response):
        """The posts a listing page shows, recorded; requests for the new ones and the next pages."""
        listing: ListingJob = response.meta["listing"]
        page: int = response.meta["page"]
        now = self.now()
        if response.status == 304:  # nothing new listed; posts waiting for the budget are still due
            validators = (listing.etag, listing.last_modified)
            self.newsroom.listing_read(listing, now, listing.kind, None, validators)
            yield from self.fetch_posts(listing, [], now)
            return
        if response.status >= 400:
            self.listing_error(listing, page, f"HTTP {response.status}")
            return
        read = read_listing(
            response.body, response.url, listing.follow, now, listing.kind if page == 1 else None
        )
        if read.failure is not None:
            self.listing_error(listing, page, read.failure.detail)
            return
        if page == 1:
            validators = (_header(response, b"ETag"), _header(response, b"Last-Modified"))
            self.newsroom.listing_read(listing, now, read.kind, None, validators)
        yield from self.fetch_posts(listing, read.posts, now)
        if page < self.listing_pages:
            for url in [*read.pages, *read.sitemaps]:
                yield self.listing_request(listing, url, page + 1)

    def fetch_posts(self, listing: ListingJob, posts: list, now: datetime):
        """Record ``posts`` as listed; the requests of the posts to fetch now."""
        for job in self.newsroom.discovered(listing, posts, now):
            self.plan.add(job)
            self.plan.posts.add(job.source_id)
            yield self.request(job)

    def listing_failed(self, failure: twisted.Failure) -> None:
        """A listing page that got no usable response discovers nothing."""
        meta = failure.request.meta  # type: ignore[attr-defined]
        self.listing_error(meta["listing"], meta["page"], _reason(failure).detail)

    def listing_error(self, listing: ListingJob, page: int, reason: str) -> None:
        """Note why page 1 of a listing could not be read (later pages just end the listing)."""
        self.logger.warning("newsroom %s: %s page %d: %s", listing.slug, listing.url, page, reason)
        if page == 1:
            self.newsroom.listing_read(listing, self.now(), None, f"{listing.url}: {reason}")

    def request(self, job: SourceJob) -> scrapy.Request:
        """The request for ``job``: conditional headers, robots opt-out, status handling. A browser
        request is never conditional: Chromium has no cached body to show for a 304 and aborts the
        navigation (``net::ERR_ABORTED``), so an unchanged page is read again and found unchanged."""
        headers = {}
        if job.etag and job.fetcher != "browser":
            headers["If-None-Match"] = job.etag
        if job.last_modified and job.fetcher != "browser":
            headers["If-Modified-Since"] = job.last_modified
        meta = {
            "source_id": job.source_id,
            "handle_httpstatus_list": HANDLED_STATUSES,
            "dont_obey_robotstxt": not job.robots,
        }
        if job.fetcher == "browser":
            meta["playwright"] = True
        return scrapy.Request(
            job.url, headers=headers, meta=meta, dont_filter=True, callback=self.parse, errback=self.failed
        )

    def parse(self, response: Response) -> FetchedPage:
        """The FetchedPage of a response; HTTP errors and login redirects carry their reason."""
        request = response.request
        assert request is not None, "a callback's response carries its request"
        page = self.page(
            request,
            final_url=response.url,
            status=response.status,
            redirects=list(response.meta.get("redirect_urls", [])),
        )
        if page.redirects and LOGIN_PATH.search(urlsplit(response.url).path + "?"):
            page.error = Failure(FailureKind.LOGIN_WALL, f"redirected to a login page ({response.url})")
        elif response.status >= 400:
            page.error = Failure(FailureKind.HTTP_STATUS, f"HTTP {response.status}", response.status)
        elif response.status != 304:
            page.body = response.body
            page.content_type = _header(response, b"Content-Type")
            page.etag = _header(response, b"ETag")
            page.last_modified = _header(response, b"Last-Modified")
        if page.source_id in self.plan.posts:
            self.read_post(page)
        return page

    def read_post(self, page: FetchedPage) -> None:
        """Hand what a post's page says (or that it is gone) to the newsroom recorder."""
        body = page.body if page.status == 200 and not page.error else b""
        found = read_post(body, page.final_url or page.url, page.fetched_at) if body else None
        self.newsroom.post_read(page.source_id, page.status, found, page.fetched_at)

    def failed(self, failure: twisted.Failure) -> FetchedPage:
        """The FetchedPage of a request that got no usable response, with the reason and the
        redirects that led to it."""
        # Scrapy sets ``request`` on the failures it hands to errbacks
        request: scrapy.Request = failure.request  # type: ignore[attr-defined]
        redirects = list(request.meta.get("redirect_urls", []))
        final_url = request.url if redirects else None
        return self.page(request, final_url=final_url, redirects=redirects, error=_reason(failure))

    def page(self, request: scrapy.Request, **fields) -> FetchedPage:
        """A FetchedPage for ``request``, timed from its first attempt (0 when never sent)."""
        meta = request.meta
        started = meta.get("started")
        return FetchedPage(
            meta["source_id"],
            self.plan.jobs[meta["source_id"]].url,
            self.now(),
            duration_ms=int((time.monotonic() - started) * 1000) if started else 0,
            **fields,
        )


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _reason(failure: twisted.Failure) -> Failure:
    """Why a request got no usable response, in words an operator reads."""
    error = failure.value
    if isinstance(error, RefusedAddress):
        return error.failure
    if failure.check(IgnoreRequest) and "robots.txt" in str(error):
        return Failure(FailureKind.ROBOTS, "forbidden by robots.txt")
    if "larger than download max size" in str(error):
        cap = str(error).split("max size (")[1].split(")")[0]
        return Failure(FailureKind.TOO_LARGE, f"response larger than the size cap ({cap} bytes)")
    if "exceeded DOWNLOAD_MAXSIZE" in str(error) and "decompression" in str(error):
        return Failure(FailureKind.TOO_LARGE, "response larger than the size cap once decompressed")
    text = str(error).strip() or type(error).__name__
    return Failure(
        FailureKind.NETWORK, f"{type(error).__name__}: {text}" if type(error).__name__ not in text else text
    )
