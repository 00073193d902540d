"""What the spider hands the pipeline (one fetch attempt of one source, whatever happened), and what
the pipeline hands the store (that attempt judged)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from policywatch.verdicts import Failure


class RecordConflict(Exception):
    """The store could not record a fetch now: another writer (a crawl running at the same time)
    held rows it needed. Nothing of the fetch was recorded, and the store committed what it held,
    so the fetch may be recorded again at once."""


class StoreUnavailable(Exception):
    """The store cannot record anything now (its disk is full, its database went away): the crawl
    stops, and this says why in one line."""


@dataclass
class FetchedPage:
    """One fetch attempt: the response of a source, or the reason there is none usable.

    ``error`` is the Failure when the fetch failed before extraction (network, HTTP status, login redirect,
    size cap, robots.txt, missing browser fetcher); ``status`` 304 means not modified.
    """

    source_id: int
    url: str
    fetched_at: datetime
    final_url: str | None = None
    redirects: list[str] = field(default_factory=list)
    status: int | None = None
    body: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    duration_ms: int = 0
    error: Failure | None = None


@dataclass
class FetchResult:
    """One fetch as the crawler judged it, for the store to record: the page, its outcome and, when
    the page was parsed, what was accepted from it. The store adds no judgement of its own."""

    #: the source's declared URL, which the fetch event records
    url: str
    page: FetchedPage
    outcome: str
    failure: Failure | None = None
    #: the body's content address; None for a failed fetch or a 304
    sha256: str | None = None
    #: the body was parsed: the store keeps it as a snapshot, and the event points at that snapshot
    parsed: bool = False
    #: the ``page_fingerprint`` of a parsed page whose region was accepted
    fingerprint: str | None = None
    #: the region's new Markdown and digest, when its text changed
    text: str | None = None
    region_digest: str | None = None
    #: seconds until the source is due again
    schedule_seconds: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome != "error"

    @property
    def reason(self) -> str | None:
        """The failure's detail, as the crawl report and the fetch event show it."""
        return self.failure.detail if self.failure else None

    @property
    def new_text(self) -> bool:
        return self.text is not None


@dataclass
class SourceResult:
    """What one crawl did with one source: the row of the result table."""

    document: str
    url: str
    outcome: str
    reason: str | None = None
    status: int | None = None
    version: int | None = None


@dataclass
class CrawlReport:
    """Per-source results and totals of one crawl."""

    run_id: int | None = None
    #: documents left out because another crawl was fetching them
    busy: int = 0
    #: sources the crawl set out to fetch
    planned: int = 0
    results: list[SourceResult] = field(default_factory=list)
    versions: int = 0
    seconds: float = 0.0
    #: why the crawl stopped before its end (the store could not record), or None
    stopped: str | None = None

    #: told of each result as it is added (a progress display)
    progress: Callable[[CrawlReport], None] | None = field(default=None, repr=False, compare=False)

    def add(self, result: SourceResult) -> None:
        """Count one source's result, and tell ``progress``."""
        self.results.append(result)
        if self.progress is not None:
            self.progress(self)

    def totals(self) -> dict[str, int]:
        """Sources per outcome, plus versions recorded."""
        counts: dict[str, int] = {}
        for result in self.results:
            counts[result.outcome] = counts.get(result.outcome, 0) + 1
        return {**counts, "sources": len(self.results), "versions": self.versions}
