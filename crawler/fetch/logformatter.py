"""Scrapy's log formatter, without the two per-page DEBUG messages when the log level hides them.

Scrapy builds a "Crawled (200) <GET …>" and a "Scraped from …" record for every page and lets the
handler drop them at policywatch's level (WARNING): work for nothing on every page.
Every fetch is recorded as a fetch event in the database anyway.
"""

from __future__ import annotations

import logging

from scrapy.logformatter import LogFormatter


class QuietLogFormatter(LogFormatter):
    """No per-page "Crawled" and "Scraped" messages unless the crawl logs at DEBUG."""

    def __init__(self, per_page: bool) -> None:
        self.per_page = per_page

    @classmethod
    def from_crawler(cls, crawler) -> QuietLogFormatter:
        level = crawler.settings.get("LOG_LEVEL", "DEBUG")
        return cls((logging.getLevelName(level) if isinstance(level, str) else level) <= logging.DEBUG)

    def crawled(self, request, response, spider=None):
        return super().crawled(request, response, spider) if self.per_page else None

    def scraped(self, item, response, spider=None):
        return super().scraped(item, response, spider) if self.per_page else None
