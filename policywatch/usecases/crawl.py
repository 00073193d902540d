"""Crawl: fetch the chosen documents' sources and read the chosen newsroom listings once, then
record the changes of the new versions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from changes.record import record_changes
from policywatch.runtime import Runtime
from store.crawl_plan import document_ids as select_documents
from store.crawl_plan import newsroom_ids as select_newsrooms
from store.db import transaction

if TYPE_CHECKING:
    from crawler.fetch.items import CrawlReport


@dataclass
class Crawled:
    """One crawl's report and how many changes it recorded."""

    report: CrawlReport
    changes: int


def selection(runtime: Runtime, slugs: list[str], due: bool = False) -> list[int]:
    """The ids of the documents ``slugs`` name (all active ones when empty; only due ones with
    ``due``); UnknownDocument for a slug no document has."""
    with transaction(runtime.engine) as session:
        return select_documents(session, slugs, due=due)


def newsroom_selection(runtime: Runtime, slugs: list[str], due: bool = False) -> list[int]:
    """The ids of the newsrooms ``slugs`` name (all active ones when empty; only those whose listing
    is due with ``due``); UnknownNewsroom for a slug no announcement source has."""
    with transaction(runtime.engine) as session:
        return select_newsrooms(session, slugs, due=due)


def crawl(
    runtime: Runtime,
    document_ids: list[int],
    trigger: str = "cli",
    newsroom_ids: list[int] = [],  # noqa: B006 (never changed)
    progress: Callable[[CrawlReport], None] | None = None,
) -> Crawled:
    """Fetch every active source of ``document_ids`` once (at most once per process: Twisted's
    reactor cannot restart), read the listings of ``newsroom_ids``, record the changes of the
    versions found, tag the posts with their topics and ask for the provision notes still wanted
    (when notes are on), unless the crawl stopped because the store could not record
    (``report.stopped``); ``progress`` is told of each source's result."""
    from policywatch.crawling import run_crawl
    from policywatch.usecases.announcements import tag_posts
    from policywatch.usecases.notes import write_notes

    report = run_crawl(runtime.settings, runtime.engine, document_ids, trigger, newsroom_ids, progress)
    if report.stopped:  # the store cannot record: the next crawl records the changes
        return Crawled(report, 0)
    with transaction(runtime.engine) as session:
        changes = len(record_changes(session, runtime.settings))
        tag_posts(session, runtime.settings)
    write_notes(runtime, runtime.settings.notes_per_crawl)
    return Crawled(report, changes)
