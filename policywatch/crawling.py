"""One crawl, in this process: plan the sources and newsroom listings, run Scrapy once, record the
crawl run.

Twisted's reactor cannot restart, so ``run_crawl`` runs at most once per process (the CLI and the
scheduler start a process per crawl).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from scrapy.crawler import CrawlerProcess
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from crawler.fetch.items import CrawlReport
from crawler.fetch.scrapy_settings import scrapy_settings
from crawler.fetch.spider import PolicySpider, browser_available
from crawler.sources.declarations import parse_schedule
from crawler.sources.plan import CrawlPlan
from policywatch.settings import Settings
from policywatch.usecases.leader import holder_gone, holder_id
from store.announcements import NewsroomRecorder, listing_jobs, post_sources
from store.crawl_plan import build_plan
from store.db import error_line, transaction
from store.fetches import FetchRecorder
from store.leases import acquire_leases, release_leases
from store.models import CrawlRun, utcnow
from store.versions import refuse_earlier

#: Lease name prefix of a document being crawled (``crawl:document:ID``).
CRAWL_LEASE = "crawl:document:"
#: Lease name prefix of a newsroom whose listing is being read (``crawl:newsroom:ID``).
LISTING_LEASE = "crawl:newsroom:"
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
    settings: Settings,
    engine: Engine,
    document_ids: list[int],
    trigger: str = "cli",
    newsroom_ids: list[int] = [],  # noqa: B006 (never changed)
    progress: Callable[[CrawlReport], None] | None = None,
) -> CrawlReport:
    """Fetch every active source of ``document_ids`` once, read the listings of ``newsroom_ids``,
    and record what was found through ``engine``, which the caller owns; ``progress`` is told of
    each source's result; ``CrawlReport.stopped`` says why a crawl stopped early. Documents and
    newsrooms another running crawl is reading are left out. A crawl recorded as of an earlier time
    than a document's latest version is refused (``EarlierThanRecorded``) before it fetches anything."""
    started, holder = time.monotonic(), holder_id()
    with transaction(engine) as session:
        leased = _lease(session, CRAWL_LEASE, document_ids, holder, settings)
        if settings.crawl_as_of is not None:
            refuse_earlier(session, leased, settings.crawl_as_of)
        plan = build_plan(session, leased)
        plan.posts = post_sources(session, list(plan.jobs))
        plan.listings = listing_jobs(session, _lease(session, LISTING_LEASE, newsroom_ids, holder, settings))
        run = CrawlRun(
            trigger=trigger,
            started_at=settings.crawl_time(),
            stats={"sources": len(plan.jobs), "documents": len(plan.documents)},
        )
        session.add(run)
        session.flush()
    report = CrawlReport(
        run_id=run.id, busy=len(document_ids) - len(leased), planned=len(plan.jobs), progress=progress
    )
    try:
        stats = _fetch(settings, engine, plan, report) if plan.jobs or plan.listings else {}
    finally:
        _release(engine, holder)
    report.seconds = time.monotonic() - started
    try:
        _close_run(engine, report, stats, settings)
    except OperationalError as exc:
        if report.stopped is None:
            raise
        report.stopped += f"; nor could the crawl run be closed ({error_line(exc)})"
    return report


def _lease(session, prefix: str, ids: list[int], holder: str, settings: Settings) -> list[int]:
    """Those of ``ids`` (documents or newsrooms, by lease ``prefix``) no other running crawl is
    reading, leased to ``holder`` for as long as a crawl may run (a crawl of this host that was
    killed frees its own at once)."""
    names = {f"{prefix}{id_}": id_ for id_ in ids}
    ttl = timedelta(seconds=settings.crawl_run_timeout)
    taken = acquire_leases(session, list(names), holder, utcnow(), ttl, gone=holder_gone)
    return [id_ for name, id_ in names.items() if name in taken]


def _release(engine: Engine, holder: str) -> None:
    """Free the documents this crawl leased; left to expire when the database cannot write."""
    try:
        with transaction(engine) as session:
            release_leases(session, holder)
    except OperationalError:
        pass


def _close_run(engine: Engine, report: CrawlReport, stats: dict, settings: Settings) -> None:
    """Record the crawl run's end: finished, or failed with the reason it stopped; its totals."""
    with transaction(engine) as session:
        run = session.get_one(CrawlRun, report.run_id)
        run.finished_at, run.status = settings.crawl_time(), "failed" if report.stopped else "finished"
        run.stats = {
            **run.stats,
            **report.totals(),
            "seconds": round(report.seconds, 2),
            **{key: _plain(stats[key]) for key in SCRAPY_STATS if key in stats},
            **({"error": report.stopped} if report.stopped else {}),
        }


def _fetch(settings: Settings, engine: Engine, plan: CrawlPlan, report: CrawlReport) -> dict:
    """Run Scrapy once over ``plan``, its pages recorded into ``report``; Scrapy's stats."""
    browser = browser_available() and any(job.fetcher == "browser" for job in plan.jobs.values())
    process = CrawlerProcess({**scrapy_settings(settings, browser), "ITEM_PIPELINES": PIPELINES})
    crawler = process.create_crawler(PolicySpider)
    recorder = FetchRecorder(engine, settings.broken_after, report.run_id)
    newsroom = NewsroomRecorder(
        recorder.batch, settings.announcement_budget, parse_schedule(settings.announcement_schedule)
    )
    process.crawl(
        crawler,
        plan=plan,
        report=report,
        recorder=recorder,
        newsroom=newsroom,
        listing_pages=settings.announcement_pages,
    )
    process.start()
    return crawler.stats.get_stats()


def _plain(value):
    return value if isinstance(value, (int, float, str)) else str(value)
