"""Scrapy settings for a policywatch crawl, derived from policywatch's own settings."""

from __future__ import annotations

from scrapy.settings import default_settings

from policywatch.settings import Settings
from policywatch.verdicts import TRANSIENT_STATUSES

BROWSER = "/usr/bin/chromium"
UNUSED_EXTENSIONS = (
    "telnet.TelnetConsole",
    "memusage.MemoryUsage",
    "memdebug.MemoryDebugger",
    "feedexport.FeedExporter",
    "logstats.LogStats",
    "spiderstate.SpiderState",
    "throttle.AutoThrottle",
    "remote_control.RemoteControl",
)
UNUSED_DOWNLOADER_MIDDLEWARES = (
    "httpauth.HttpAuthMiddleware",
    "cookies.CookiesMiddleware",
    "httpcache.HttpCacheMiddleware",
    "redirect.MetaRefreshMiddleware",
)
UNUSED_SPIDER_MIDDLEWARES = ("urllength.UrlLengthMiddleware", "depth.DepthMiddleware")
#: Requests in flight to a host when the crawl starts; one more per response (crawler.fetch.slow_start).
SLOWSTART_CONCURRENCY = 2
#: Scrapy's own components that policywatch replaces with its own.
REPLACED_DOWNLOADER_MIDDLEWARES = ("robotstxt.RobotsTxtMiddleware", "retry.RetryMiddleware")
#: Statuses that say a request timed out (408; Cloudflare's 522 and 524), retried like the transient ones.
TIMEOUT_STATUSES = frozenset({408, 522, 524})
#: The Scrapy setting holding the policywatch settings, for components built by ``from_crawler``.
SETTINGS_KEY = "POLICYWATCH_SETTINGS"


def scrapy_settings(settings: Settings, browser: bool = False) -> dict:
    """The Scrapy settings of one crawl; ``browser`` routes ``playwright`` requests to Chromium."""
    values = {
        SETTINGS_KEY: settings,
        "USER_AGENT": settings.user_agent,
        "ROBOTSTXT_OBEY": True,
        "CONCURRENT_REQUESTS": settings.crawl_concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": settings.crawl_concurrency_per_host,
        "DOWNLOAD_DELAY": settings.crawl_delay,
        "DOWNLOAD_TIMEOUT": settings.crawl_timeout,
        "DOWNLOAD_MAXSIZE": settings.crawl_max_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_TIMES": settings.crawl_retries,
        "RETRY_HTTP_CODES": sorted(TRANSIENT_STATUSES | TIMEOUT_STATUSES),
        "RETRY_BACKOFF_BASE": 0.5,
        "RETRY_AFTER_MAX": 120.0,
        "CLOSESPIDER_TIMEOUT": settings.crawl_run_timeout,
        "DOWNLOADER": "crawler.fetch.downloader.HostLimitedDownloader",
        "SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.DownloaderAwarePriorityQueue",
        # Each response gives exactly one item; Scrapy starts this many asyncio tasks per response
        # to process its items (the default, 100, is CPU spent on tasks that wait for nothing).
        "CONCURRENT_ITEMS": 1,
        "DOWNLOADER_MIDDLEWARES": {
            # first to see each request (before robots.txt is asked for), last to see each response
            "crawler.fetch.middlewares.InternalAddressMiddleware": 50,
            "crawler.fetch.middlewares.SharedRobotsTxtMiddleware": 100,
            "crawler.fetch.middlewares.FetchTimerMiddleware": 150,
            "crawler.fetch.middlewares.BackoffRetryMiddleware": 550,
        },
        "DOWNLOAD_HANDLERS": {"s3": None, "ftp": None},
        # Only what a crawl of declared pages uses; every module left out is start-up time saved.
        # Left out of the *_BASE settings: naming a component as None in EXTENSIONS and the like
        # still imports it (Scrapy loads every key it is given to compare them).
        "DOWNLOADER_MIDDLEWARES_BASE": _without(
            "DOWNLOADER_MIDDLEWARES_BASE", UNUSED_DOWNLOADER_MIDDLEWARES + REPLACED_DOWNLOADER_MIDDLEWARES
        ),
        "EXTENSIONS_BASE": _without("EXTENSIONS_BASE", UNUSED_EXTENSIONS),
        "EXTENSIONS": {"crawler.fetch.slow_start.SlowStart": 0},
        "SLOWSTART_CONCURRENCY": SLOWSTART_CONCURRENCY,
        "SPIDER_MIDDLEWARES_BASE": _without("SPIDER_MIDDLEWARES_BASE", UNUSED_SPIDER_MIDDLEWARES),
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "LOG_FORMATTER": "crawler.fetch.logformatter.QuietLogFormatter",
        "LOG_INSTALL_ROOT_HANDLER": True,
    }
    if browser:
        handler = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
        values.update(
            {
                "DOWNLOAD_HANDLERS": {"s3": None, "ftp": None, "http": handler, "https": handler},
                "PLAYWRIGHT_BROWSER_TYPE": "chromium",
                "PLAYWRIGHT_LAUNCH_OPTIONS": {"executable_path": BROWSER, "headless": True},
            }
        )
    return values


def _without(name: str, unused: tuple[str, ...]) -> dict:
    """Scrapy's default ``name`` components minus those whose path ends with one of ``unused``."""
    return {
        path: order for path, order in getattr(default_settings, name).items() if not path.endswith(unused)
    }
