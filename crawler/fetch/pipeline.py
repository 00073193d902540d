"""The store pipeline: each fetched page is judged and written as it arrives (all or nothing, in a
savepoint of a transaction that batches ``BATCH_PAGES`` pages or ``BATCH_SECONDS``), and a
document's text is assembled once all its sources of this crawl are in.

Cheap paths first: a 304, the same bytes as the source's last accepted snapshot, or bytes that
differ from the last accepted page in volatile markup alone (same ``page_fingerprint``) record only
the fetch event, pointing at that snapshot: nothing is parsed or stored. A selected region with the
same digest as last time is not converted to Markdown; bytes this crawl already extracted under the
same rules (another URL serving them) are not parsed again (``RegionMemo``).
Failure is never a change: an error, an extraction refused (challenge, error page, empty
selection) or a text that shrank below ``SHRINK_RATIO`` of the last one fails the source and
records no version.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, defer
from twisted.internet import task

from crawler.extract.fingerprint import fingerprint_applies, page_fingerprint
from crawler.extract.region_memo import Extracted, RegionMemo
from crawler.fetch.items import CrawlReport, FetchedPage, SourceResult
from crawler.fetch.scrapy_settings import SETTINGS_KEY
from crawler.sources.plan import CrawlPlan, SourceJob, inputs_digest
from policywatch.settings import Settings
from policywatch.verdicts import Failure, FailureKind
from store.db import Batch
from store.models import Document, FetchEvent, Snapshot, Source, utcnow
from store.snapshots import Fetched, put_snapshot, sha256_hex
from store.versions import VersionConflict, record_version

log = logging.getLogger(__name__)

#: A new text shorter than this share of the source's last text is refused as a broken page...
SHRINK_RATIO = 0.3
#: ...when the last text had at least this many characters.
SHRINK_MIN_CHARS = 500
#: Pages written per transaction, and the longest a transaction stays open (it holds SQLite's write lock).
BATCH_PAGES = 100
BATCH_SECONDS = 1.0
#: Sources loaded per query when a crawl starts.
LOAD_CHUNK = 500


@dataclass
class Judged:
    """The outcome of one fetch: outcome word, the Failure when failed, whether a new text was extracted."""

    outcome: str
    failure: Failure | None = None
    new_text: bool = False

    @property
    def ok(self) -> bool:
        return self.outcome != "error"

    @property
    def reason(self) -> str | None:
        """The failure's detail, as the crawl report and the fetch event show it."""
        return self.failure.detail if self.failure else None


@dataclass
class Context:
    """What judging a fetch needs besides the fetch: the crawl run, the failure threshold, the
    regions this crawl already extracted, and the planned sources not yet judged (loaded at once)."""

    run_id: int | None
    broken_after: int
    regions: RegionMemo
    default_schedule: int
    sources: dict[int, Source] = field(default_factory=dict)


class StorePipeline:
    """Writes fetch events, snapshots, source state and versions as pages arrive."""

    def __init__(self, crawler, settings: Settings):
        self.crawler = crawler
        self.settings = settings

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler, crawler.settings[SETTINGS_KEY])

    def open_spider(self, spider=None) -> None:
        spider = spider or self.crawler.spider
        self.plan: CrawlPlan = spider.plan
        self.report: CrawlReport = spider.report
        self.batch = Batch(spider.engine, BATCH_PAGES, BATCH_SECONDS)
        self.committer = task.LoopingCall(self.batch.commit_if_due)
        self.committer.start(BATCH_SECONDS, now=False)
        self.arrived: dict[int, dict[int, Judged]] = {}
        self.context = Context(
            self.report.run_id,
            self.settings.broken_after,
            RegionMemo(),
            _seconds(self.settings.default_schedule),
        )
        with self.batch.unit() as session:
            self.context.sources = planned_sources(session, list(self.plan.jobs))

    def close_spider(self, spider=None) -> None:
        reason = Failure(
            FailureKind.INTERNAL, "crawl ended before this source was fetched (run timeout or shutdown)"
        )
        for job in [
            j for j in self.plan.jobs.values() if j.source_id not in self.arrived.get(j.document_id, {})
        ]:
            self.process_item(FetchedPage(job.source_id, job.url, utcnow(), error=reason))
        self.committer.stop()
        self.batch.close()

    def process_item(self, item: FetchedPage, spider=None) -> FetchedPage:
        job = self.plan.jobs[item.source_id]
        try:
            judged, version = self.record(job, item)
        except (
            Exception
        ) as exc:  # a bug or an unusable page must not lose the attempt: record it as a failure
            log.exception("%s %s: recording the fetch failed", job.document_slug, job.url)
            failed = FetchedPage(
                item.source_id,
                job.url,
                item.fetched_at,
                status=item.status,
                error=Failure(
                    FailureKind.INTERNAL, f"internal error while recording: {type(exc).__name__}: {exc}"
                ),
            )
            judged, version = self.record(job, failed)
        if version is not None:
            self.report.versions += 1
        self.report.results.append(
            SourceResult(job.document_slug, job.url, judged.outcome, judged.reason, item.status, version)
        )
        item.body = b""  # the bytes are stored; do not keep them alive in Scrapy's stats or logs
        return item

    def record(self, job: SourceJob, item: FetchedPage) -> tuple[Judged, int | None]:
        """Record one fetch (all or nothing), and the document's version once all its sources are in.

        A fetch that leaves nothing to parse, store or assemble takes no savepoint: its event joins
        the batch's inserts and its source's health is updated just after the batch commits
        (``Batch.later``; a savepoint and its flush were most of a 304's cost)."""
        arrived = self.arrived.setdefault(job.document_id, {})
        last = len(arrived) + 1 == len(self.plan.documents[job.document_id])

        def assembles(judged: Judged) -> bool:
            return last and (
                job.document_id in self.plan.stale or any(j.new_text for j in [*arrived.values(), judged])
            )

        fetch, source = (
            Fetch.of(job, item, self.context.run_id),
            self.context.sources.pop(job.source_id, None),
        )
        judged = fetch.quick(source) if source is not None else None
        if judged is not None and not assembles(judged):
            self.batch.later(
                fetch.event,
                Source,
                {"id": source.id, **fetch.settled(source, judged, self.context)},
            )
            arrived[job.source_id] = judged
            return judged, None
        with self.batch.unit() as session:
            if source is None:  # recording it failed once: the source as the rolled-back savepoint left it
                source = session.get(Source, job.source_id, options=[defer(Source.text)])
                judged = fetch.quick(source)
            judged = judged or fetch.judge(session, source, self.context)
            for name, value in fetch.settled(source, judged, self.context).items():
                setattr(source, name, value)
            version = (
                assemble(session, job.document_id, [*arrived.values(), judged], self.report.run_id)
                if assembles(judged)
                else None
            )
            self.batch.insert_at_commit(fetch.event)
        arrived[job.source_id] = judged
        return judged, version


def planned_sources(session: Session, source_ids: list[int]) -> dict[int, Source]:
    """The sources with ``source_ids`` by id, their texts left unloaded: one query per
    ``LOAD_CHUNK`` sources instead of one per page."""
    sources = {}
    for start in range(0, len(source_ids), LOAD_CHUNK):
        chunk = source_ids[start : start + LOAD_CHUNK]
        sources.update(
            (s.id, s)
            for s in session.scalars(select(Source).options(defer(Source.text)).where(Source.id.in_(chunk)))
        )
    return sources


@dataclass
class Fetch:
    """One fetch of a source being judged: its job, the page received and the event recording it."""

    job: SourceJob
    page: FetchedPage
    event: FetchEvent

    @classmethod
    def of(cls, job: SourceJob, page: FetchedPage, run_id: int | None) -> Fetch:
        """The fetch of ``page`` for ``job`` in crawl run ``run_id``, its event not yet judged."""
        return cls(
            job,
            page,
            FetchEvent(
                crawl_run_id=run_id,
                source_id=job.source_id,
                fetched_at=page.fetched_at,
                url=job.url,
                final_url=page.final_url,
                redirects=page.redirects,
                http_status=page.status,
                duration_ms=page.duration_ms,
                bytes=len(page.body),
            ),
        )

    @functools.cached_property
    def sha256(self) -> str:
        """The body's content address."""
        return sha256_hex(self.page.body)

    @functools.cached_property
    def fingerprint(self) -> str | None:
        """The body's ``page_fingerprint``, when the source's rules let it stand for the region."""
        if not fingerprint_applies(self.job.select, self.job.remove):
            return None
        return page_fingerprint(self.page.body, self.page.content_type)

    def quick(self, source: Source) -> Judged | None:
        """The outcome when nothing needs parsing or storing: an error, a 304, the same bytes as the
        source's last snapshot, or a page whose fingerprint is the last accepted page's (volatile
        markup alone changed); None for a page to parse."""
        page, event = self.page, self.event
        if page.error:
            return Judged("error", page.error)
        event.snapshot_id = source.last_snapshot_id
        if page.status == 304:
            return Judged("not_modified")
        event.sha256 = self.sha256
        if source.region_digest is None:  # nothing extracted under the current rules yet
            return None
        if self.sha256 == self.job.last_sha256:
            return Judged("unchanged")
        if self.fingerprint is not None and self.fingerprint == source.page_fingerprint:
            return Judged("unchanged")
        return None

    def judge(self, session: Session, source: Source, context: Context) -> Judged:
        """The outcome of a fetch ``quick`` could not judge: its snapshot stored, its region extracted."""
        page = self.page
        snapshot, _ = put_snapshot(
            session,
            source.id,
            Fetched(
                page.final_url or self.job.url,
                page.body,
                page.content_type,
                page.etag,
                page.last_modified,
                page.fetched_at,
                self.sha256,
            ),
        )
        self.event.snapshot_id = snapshot.id
        judged = _extract(source, self.job, page, snapshot, context)
        if judged.ok:
            source.page_fingerprint = self.fingerprint
        return judged

    def settled(self, source: Source, judged: Judged, context: Context) -> dict:
        """Write ``judged`` into the event; the source's health after it, to be written by the caller."""
        self.event.outcome, self.event.reason = judged.outcome, judged.reason
        self.event.failure_kind = judged.failure.kind if judged.failure else None
        return _health(source, self.job, judged, self.page, context)


def _extract(
    source: Source, job: SourceJob, page: FetchedPage, snapshot: Snapshot, context: Context
) -> Judged:
    key = context.regions.key(snapshot.sha256, page.content_type, job.select, job.remove)
    extracted, region = context.regions.get(key), None
    if extracted is None:
        extracted, region = _extracted(job, page)
        context.regions.put(key, extracted)
    if extracted.failure:
        return Judged("error", extracted.failure)
    if extracted.digest == source.region_digest:
        source.last_snapshot_id = snapshot.id
        return Judged("unchanged")
    text = extracted.text
    if text is None:
        text = (region or _extracted(job, page)[1]).markdown()
        context.regions.put(key, Extracted(extracted.digest, text))
    shrank = _shrank(source.text, text)
    if shrank and not (source.broken and source.last_failure_kind == FailureKind.SHRANK):
        return Judged("error", shrank)
    source.text, source.region_digest, source.last_snapshot_id = text, extracted.digest, snapshot.id
    return Judged("changed", new_text=True)


def _extracted(job: SourceJob, page: FetchedPage):
    """What extraction makes of ``page`` under ``job``'s rules, and the region when there is one."""
    from crawler.extract.extraction import ExtractionError, select_region

    try:
        region = select_region(
            page.body,
            url=page.final_url or job.url,
            content_type=page.content_type,
            select=job.select,
            remove=job.remove,
        )
    except ExtractionError as exc:
        return Extracted(failure=exc.failure), None
    return Extracted(region.digest), region


def _shrank(before: str | None, after: str) -> Failure | None:
    """The failure when ``after`` lost most of ``before``'s text, else None."""
    if before and len(before) >= SHRINK_MIN_CHARS and len(after) < SHRINK_RATIO * len(before):
        detail = f"text shrank from {len(before)} to {len(after)} characters (below {SHRINK_RATIO:.0%})"
        return Failure(FailureKind.SHRANK, detail)
    return None


def _health(source: Source, job: SourceJob, judged: Judged, page: FetchedPage, context: Context) -> dict:
    """The source's health after ``judged``: when it was fetched and is due next, its failures, last
    error and since when it is broken, and the validators for the next conditional request."""
    now = utcnow()
    health = {
        "last_fetched_at": now,
        "next_fetch_at": now + timedelta(seconds=job.schedule_seconds or context.default_schedule),
        "consecutive_failures": 0,
        "last_error": None,
        "last_failure_kind": None,
        "broken_since": None,
        "etag": source.etag,
        "last_modified": source.last_modified,
    }
    if not judged.ok:
        failures = source.consecutive_failures + 1
        broken = source.broken_since or (now if failures >= context.broken_after else None)
        health.update(
            consecutive_failures=failures,
            last_error=judged.reason,
            last_failure_kind=judged.failure.kind,
            broken_since=broken,
        )
    elif page.status != 304 and (page.etag or page.last_modified):
        health.update(etag=page.etag, last_modified=page.last_modified)
    return health


def _seconds(schedule: str) -> int:
    from crawler.sources.declarations import parse_schedule

    return parse_schedule(schedule)


def assemble(session: Session, document_id: int, judged: list[Judged], run_id: int | None):
    """A new version of the document when all its sources succeeded in this crawl and the text
    they form differs from the latest version; None otherwise."""
    if not all(j.ok for j in judged):
        return None
    document = session.get(Document, document_id)
    sources = [s for s in document.sources if s.active]
    if any(s.text is None for s in sources):
        return None
    inputs = inputs_digest([s.region_digest for s in sources], document.ignore)
    if inputs == document.inputs_digest:
        return None
    document.inputs_digest = inputs
    snapshots = [(s.id, session.get(Snapshot, s.last_snapshot_id)) for s in sources]
    try:
        version = record_version(
            session, document, document_text(document, sources), snapshots, crawl_run_id=run_id
        )
    except VersionConflict as exc:
        log.info("skipped: %s", exc)
        return None
    return version.seq if version else None


def document_text(document: Document, sources: list[Source]) -> str:
    """The document's text: its sources' Markdown in order, ignore patterns applied, normalized."""
    from crawler.extract.extraction import normalize_markdown

    if len(sources) == 1 and not document.ignore:
        return sources[0].text  # a source's text is normalised Markdown already
    text = "\n\n".join(s.text for s in sources)
    if document.ignore:
        patterns = [re.compile(p) for p in document.ignore]
        text = "\n".join(line for line in text.splitlines() if not any(p.search(line) for p in patterns))
    return normalize_markdown(text)
