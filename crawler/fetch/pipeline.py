"""The Scrapy item pipeline: each fetched page is judged as it arrives and handed to the store,
which records it (all or nothing) in a transaction batching many pages; a document's text is
assembled once all its sources of this crawl are in.

Cheap paths first: a 304, the same bytes as the source's last accepted snapshot, or bytes that
differ from the last accepted page in volatile markup alone (same ``page_fingerprint``) record only
the fetch event, pointing at that snapshot: nothing is parsed or stored. A selected region with the
same digest as last time is not converted to Markdown; bytes this crawl already extracted under the
same rules (another URL serving them) are not parsed again (``RegionMemo``).
Failure is never a change: an error, an extraction refused (challenge, error page, empty
selection, not a document) or a text that shrank below ``SHRINK_RATIO`` of the last one fails
the source and records no version; a shortening is accepted once the source is broken by it.

The store comes from the spider (``PolicySpider.recorder``, made by the composition root): the
pipeline reads a source's state through it and hands it ``FetchResult``s.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from dataclasses import dataclass

import regex
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

from crawler.extract.fingerprint import fingerprint_applies, page_fingerprint
from crawler.extract.region_memo import Extracted, RegionMemo
from crawler.fetch.items import (
    CrawlReport,
    FetchedPage,
    FetchResult,
    RecordConflict,
    SourceResult,
    StoreUnavailable,
)
from crawler.fetch.scrapy_settings import SETTINGS_KEY
from crawler.sources.plan import CrawlPlan, SourceJob, inputs_digest
from policywatch.settings import Settings
from policywatch.verdicts import Failure, FailureKind

log = logging.getLogger(__name__)

#: A new text shorter than this share of the source's last text is refused as a broken page...
SHRINK_RATIO = 0.3
#: ...when the last text had at least this many characters.
SHRINK_MIN_CHARS = 500
#: Seconds a document's ignore patterns may spend on its text: a pattern that backtracks
#: catastrophically fails the source instead of hanging the crawl.
IGNORE_SECONDS = 1.0


class PatternTimeout(Exception):
    """A document's ignore pattern took longer than ``IGNORE_SECONDS`` over its text."""

    def __init__(self, pattern: str) -> None:
        self.failure = Failure(
            FailureKind.SLOW_PATTERN,
            f"ignore pattern {pattern!r} took over {IGNORE_SECONDS:g} s on the document's text "
            "(it backtracks catastrophically, e.g. a nested quantifier such as (a+)+): simplify it",
        )
        super().__init__(self.failure.detail)


class FetchPipeline:
    """Judges each fetched page and hands the result to the store's recorder."""

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
        self.recorder = spider.recorder
        self.committer = task.LoopingCall(self.commit_if_due)
        self.committer.start(self.recorder.commit_seconds, now=False)
        self.arrived: dict[int, dict[int, FetchResult]] = {}
        self.regions = RegionMemo()
        self.default_schedule = _seconds(self.settings.default_schedule)
        self.recorder.load(list(self.plan.jobs))

    def close_spider(self, spider=None) -> None:
        reason = Failure(
            FailureKind.INTERNAL, "crawl ended before this source was fetched (run timeout or shutdown)"
        )
        for job in [
            j for j in self.plan.jobs.values() if j.source_id not in self.arrived.get(j.document_id, {})
        ]:
            self.process_item(FetchedPage(job.source_id, job.url, self.settings.crawl_time(), error=reason))
        self.committer.stop()
        try:
            self.recorder.close()
        except StoreUnavailable as exc:
            self.report.stopped = self.report.stopped or _stopped(exc)

    def commit_if_due(self) -> None:
        """Commit the store's open batch when it is due; stop the crawl if the store cannot."""
        if self.report.stopped is None:
            try:
                self.recorder.commit_if_due()
            except StoreUnavailable as exc:
                self.stop(exc)

    def stop(self, unavailable: StoreUnavailable) -> None:
        """Stop the crawl, since the store can record nothing more; the report says why."""
        if self.report.stopped is None:
            self.report.stopped = _stopped(unavailable)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="store_unavailable"))

    def process_item(self, item: FetchedPage, spider=None) -> FetchedPage:
        job = self.plan.jobs[item.source_id]
        if self.report.stopped is not None:  # the store records nothing more
            return item
        try:
            result, version = self.retried(job, item)
        except RecordConflict as conflict:
            result, version = self.unrecorded(job, item, conflict), None
        except StoreUnavailable as exc:
            self.stop(exc)
            return item
        if version is not None:
            self.report.versions += 1
        self.report.add(
            SourceResult(job.document_slug, job.url, result.outcome, result.reason, item.status, version)
        )
        item.body = b""  # the bytes are stored; do not keep them alive in Scrapy's stats or logs
        return item

    def retried(self, job: SourceJob, item: FetchedPage) -> tuple[FetchResult, int | None]:
        """``recorded``, once more when another crawl held rows it needed: the store committed what
        this crawl held, so the second try waits for the other crawl instead of deadlocking with it."""
        try:
            return self.recorded(job, item)
        except RecordConflict as conflict:
            log.info("%s %s: recording again (%s)", job.document_slug, job.url, conflict)
            return self.recorded(job, item)

    def recorded(self, job: SourceJob, item: FetchedPage) -> tuple[FetchResult, int | None]:
        """``record``; when that fails (but for the store, which raises RecordConflict or
        StoreUnavailable), the fetch recorded as a failure."""
        try:
            return self.record(job, item)
        except (RecordConflict, StoreUnavailable):
            raise
        except Exception as exc:  # a bug or an unusable page must not lose the attempt
            failed = FetchedPage(item.source_id, job.url, item.fetched_at, status=item.status)
            failed.error = _failure(job, exc)
            return self.record(job, failed)

    def unrecorded(self, job: SourceJob, item: FetchedPage, conflict: RecordConflict) -> FetchResult:
        """The result of a fetch the store could not record, twice: one line in the log, nothing in
        the source's health (it stays due, so the next crawl fetches it again)."""
        log.warning(
            "%s %s: not recorded, another crawl held its rows twice (%s); the next crawl fetches it again",
            job.document_slug,
            job.url,
            conflict,
        )
        failure = Failure(FailureKind.INTERNAL, f"not recorded: another crawl held its rows ({conflict})")
        result = FetchResult(job.url, item, "error", failure)
        self.arrived.setdefault(job.document_id, {})[job.source_id] = result
        return result

    def record(self, job: SourceJob, item: FetchedPage) -> tuple[FetchResult, int | None]:
        """Judge and record one fetch (all or nothing), and the document's version once all its
        sources are in.

        A fetch that leaves nothing to parse, store or assemble takes no savepoint
        (``record_later``: a savepoint and its flush were most of a 304's cost)."""
        arrived = self.arrived.setdefault(job.document_id, {})
        last = len(arrived) + 1 == len(self.plan.documents[job.document_id])

        def assembles(result: FetchResult) -> bool:
            return last and (
                job.document_id in self.plan.stale or any(r.new_text for r in [*arrived.values(), result])
            )

        fetch = Fetch(job, item, job.schedule_seconds or self.default_schedule)
        state = self.recorder.state(job.source_id)
        result = fetch.quick(state) if state is not None else None
        if result is not None and not assembles(result):
            self.recorder.record_later(result, state)
            arrived[job.source_id] = result
            return result, None
        with self.recorder.unit() as unit:
            if state is None:  # recording it failed once: the source as the rolled-back savepoint left it
                state = unit.state(job.source_id)
                result = fetch.quick(state)
            result = result or fetch.judge(state, self.regions)
            unit.record(result, state)
            version = (
                assemble(unit, job.document_id, [*arrived.values(), result]) if assembles(result) else None
            )
        arrived[job.source_id] = result
        return result, version


@dataclass
class Fetch:
    """One fetch of a source being judged: its job, the page received, and the seconds until the
    source is due again."""

    job: SourceJob
    page: FetchedPage
    schedule_seconds: int

    @functools.cached_property
    def sha256(self) -> str:
        """The body's content address."""
        return hashlib.sha256(self.page.body).hexdigest()

    @functools.cached_property
    def fingerprint(self) -> str | None:
        """The body's ``page_fingerprint``, when the source's rules let it stand for the region."""
        if not fingerprint_applies(self.job.select, self.job.remove):
            return None
        return page_fingerprint(self.page.body, self.page.content_type)

    def result(self, outcome: str, failure: Failure | None = None, **fields) -> FetchResult:
        """The result of this fetch with ``outcome``."""
        return FetchResult(
            self.job.url, self.page, outcome, failure, schedule_seconds=self.schedule_seconds, **fields
        )

    def quick(self, source) -> FetchResult | None:
        """The result when nothing needs parsing or storing: an error, a 304, the same bytes as the
        source's last snapshot, or a page whose fingerprint is the last accepted page's (volatile
        markup alone changed); None for a page to parse. ``source`` is the store's ``SourceState``."""
        page = self.page
        if page.error:
            return self.result("error", page.error)
        if page.status == 304:
            return self.result("not_modified")
        if source.region_digest is None:  # nothing extracted under the current rules yet
            return None
        if self.sha256 == self.job.last_sha256:
            return self.result("unchanged", sha256=self.sha256)
        if self.fingerprint is not None and self.fingerprint == source.page_fingerprint:
            return self.result("unchanged", sha256=self.sha256)
        return None

    def judge(self, source, regions: RegionMemo) -> FetchResult:
        """The result of a fetch ``quick`` could not judge: its region extracted and compared with the
        source's (``source`` is the store's ``SourceState``); the store keeps the page as a snapshot."""
        job, page = self.job, self.page
        key = regions.key(self.sha256, page.content_type, job.select, job.remove)
        extracted, region = regions.get(key), None
        if extracted is None:
            extracted, region = _extracted(job, page)
            regions.put(key, extracted)
        if extracted.failure:
            return self.parsed("error", extracted.failure)
        if extracted.digest == source.region_digest:
            return self.parsed("unchanged", fingerprint=self.fingerprint)
        text = extracted.text
        if text is None:
            text = (region or _extracted(job, page)[1]).markdown()
            regions.put(key, Extracted(extracted.digest, text))
        shrank = _shrank(source.text, text)
        if shrank and not (source.broken and source.last_failure_kind == FailureKind.SHRANK):
            return self.parsed("error", shrank)
        return self.parsed("changed", fingerprint=self.fingerprint, text=text, region_digest=extracted.digest)

    def parsed(self, outcome: str, failure: Failure | None = None, **accepted) -> FetchResult:
        """The result of this fetch parsed, with ``outcome`` and what was ``accepted`` from it."""
        return self.result(outcome, failure, sha256=self.sha256, parsed=True, **accepted)


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


def _stopped(unavailable: StoreUnavailable) -> str:
    return f"the database cannot record: {unavailable}"


def _failure(job: SourceJob, exc: Exception) -> Failure:
    """Why recording ``job``'s fetch failed: a declaration that cannot be applied in one line, any
    other error with its traceback in the log."""
    if isinstance(exc, PatternTimeout):
        log.warning("%s %s: %s", job.document_slug, job.url, exc.failure.detail)
        return exc.failure
    log.exception("%s %s: recording the fetch failed", job.document_slug, job.url)
    return Failure(FailureKind.INTERNAL, f"internal error while recording: {type(exc).__name__}: {exc}")


def _shrank(before: str | None, after: str) -> Failure | None:
    """The failure when ``after`` lost most of ``before``'s text, else None."""
    if before and len(before) >= SHRINK_MIN_CHARS and len(after) < SHRINK_RATIO * len(before):
        detail = f"text shrank from {len(before)} to {len(after)} characters (below {SHRINK_RATIO:.0%})"
        return Failure(FailureKind.SHRANK, detail)
    return None


def _seconds(schedule: str) -> int:
    from crawler.sources.declarations import parse_schedule

    return parse_schedule(schedule)


def assemble(unit, document_id: int, results: list[FetchResult]) -> int | None:
    """The number of the document's new version when all its sources succeeded in this crawl and
    the text they form differs from the latest version; None otherwise. The version is dated when
    its last source was fetched. ``unit`` is the store's ``FetchUnit`` recording the document's
    last fetch."""
    if not all(r.ok for r in results):
        return None
    document = unit.document(document_id)
    if any(text is None for text in document.texts):
        return None
    inputs = inputs_digest(document.region_digests, document.ignore)
    if inputs == document.inputs_digest:
        return None
    text = document_text(document.texts, document.ignore)
    return unit.record_version(document_id, inputs, text, max(r.page.fetched_at for r in results))


def document_text(texts: list[str], ignore: list[str]) -> str:
    """A document's text: its sources' Markdown in order, ``ignore`` patterns applied, normalized."""
    from crawler.extract.extraction import normalize_markdown

    if len(texts) == 1 and not ignore:
        return texts[0]  # a source's text is normalised Markdown already
    text = "\n\n".join(texts)
    if ignore:
        text = "\n".join(_kept_lines(text, ignore))
    return normalize_markdown(text)


def _kept_lines(text: str, ignore: list[str]) -> list[str]:
    """The lines of ``text`` no ``ignore`` pattern matches; PatternTimeout when the patterns take
    longer than ``IGNORE_SECONDS`` (the ``regex`` module's timeout bounds each search)."""
    patterns = [regex.compile(pattern) for pattern in ignore]
    deadline = time.monotonic() + IGNORE_SECONDS
    kept = []
    for line in text.splitlines():
        for pattern in patterns:
            try:
                if pattern.search(line, timeout=max(deadline - time.monotonic(), 0.001)):
                    break
            except TimeoutError:
                raise PatternTimeout(pattern.pattern) from None
        else:
            kept.append(line)
    return kept
