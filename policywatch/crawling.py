"""One crawl, in this process: plan the sources, run Scrapy once, record the crawl run.

Twisted's reactor cannot restart, so ``run_crawl`` runs at most once per process (the CLI and the
scheduler start a process per crawl).
"""

from __future__ import annotations

import time

from scrapy.crawler import CrawlerProcess
from sqlalchemy.engine import Engine

from crawler.fetch.items import CrawlReport
from crawler.fetch.scrapy_settings import scrapy_settings
from crawler.fetch.spider import PolicySpider, browser_available
from policywatch.settings import Settings
from store.announcements import NewsroomRecorder, listing_jobs, post_sources
from store.crawl_plan import build_plan
from store.db import transaction
from store.fetches import FetchRecorder
from store.models import CrawlRun, utcnow

#: Crawled pages go to the store as they arrive.
PIPELINES = {"crawler.fetch.pipeline.FetchPipeline": 300}
#: Scrapy stats copied into the crawl run's stats.
SCRAPY_STATS = (
    "downloader/request_count",
    "downloader/response_bytes",
    "retry/count",
    "retry/max_reached",
    "robotstxt/forbidden",
    "elapsed_time_seconds",
    "finish_reason",
)


def run_crawl(
    settings: Settings, engine: Engine, document_ids: list[int], trigger: str = "cli", newsrooms: bool = True
) -> CrawlReport:
    """Fetch every active source of ``document_ids`` once, and read every newsroom listing when
    ``newsrooms``, and record what was found through ``engine``, which the caller owns."""
    started = time.monotonic()
    with transaction(engine) as session:
        plan = build_plan(session, document_ids)
        plan.posts = post_sources(session, list(plan.jobs))
        plan.listings = listing_jobs(session) if newsrooms else []
        run = CrawlRun(trigger=trigger, stats={"sources": len(plan.jobs), "documents": len(plan.documents)})
        session.add(run)
        session.flush()
    report = CrawlReport(run_id=run.id)
    browser = browser_available() and any(job.fetcher == "browser" for job in plan.jobs.values())
    process = CrawlerProcess({**scrapy_settings(settings, browser), "ITEM_PIPELINES": PIPELINES})
    crawler = process.create_crawler(PolicySpider)
    if plan.jobs or plan.listings:
        recorder = FetchRecorder(engine, settings.broken_after, report.run_id)
        newsroom = NewsroomRecorder(recorder.batch, settings.announcement_budget)
        process.crawl(
            crawler,
            plan=plan,
            report=report,
            recorder=recorder,
            newsroom=newsroom,
            listing_pages=settings.announcement_pages,
        )
        process.start()
    report.seconds = time.monotonic() - started
    with transaction(engine) as session:
        run = session.get_one(CrawlRun, report.run_id)
        stats = crawler.stats.get_stats() if crawler.stats else {}
        run.finished_at, run.status = utcnow(), "finished"
        run.stats = {
            **run.stats,
            **report.totals(),
            "seconds": round(report.seconds, 2),
            **{key: _plain(stats[key]) for key in SCRAPY_STATS if key in stats},
        }
    return report


def _plain(value):
    return value if isinstance(value, (int, float, str)) else str(value)
