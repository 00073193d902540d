"""Recording judged fetches: the fetch event, the snapshot, the source's state and health, and a
document's new version, in a transaction that batches ``BATCH_PAGES`` pages or ``BATCH_SECONDS``.

The crawler judges each fetch (``crawler.fetch.pipeline``) and hands the store a ``FetchResult``;
this module persists it as given. A fetch that leaves nothing to store or assemble is ``record_later``
(no savepoint: its event joins the batch's inserts, its source's health is updated just after the
commit); any other is recorded in a ``unit``, a savepoint of its own (all or nothing).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, defer

from crawler.fetch.items import FetchResult, RecordConflict, StoreUnavailable
from store.db import Batch, contended, error_line
from store.models import Document, FetchEvent, Snapshot, Source
from store.snapshots import Fetched, put_snapshot
from store.versions import VersionConflict, record_version

log = logging.getLogger(__name__)

#: Pages written per transaction, and the longest a transaction stays open (it holds SQLite's write lock).
BATCH_PAGES = 100
BATCH_SECONDS = 1.0
#: Sources loaded per query when a crawl starts.
LOAD_CHUNK = 500


class SourceState:
    """What judging a fetch reads of its source, read-only; the text is loaded when first read."""

    def __init__(self, source: Source) -> None:
        self._row = source

    @property
    def last_snapshot_id(self) -> int | None:
        return self._row.last_snapshot_id

    @property
    def region_digest(self) -> str | None:
        return self._row.region_digest

    @property
    def page_fingerprint(self) -> str | None:
        return self._row.page_fingerprint

    @property
    def text(self) -> str | None:
        return self._row.text

    @property
    def broken(self) -> bool:
        return self._row.broken

    @property
    def last_failure_kind(self) -> str | None:
        return self._row.last_failure_kind


@dataclass(frozen=True)
class DocumentInputs:
    """What a document's next version is made of: its active sources' texts and region digests in
    order, its ignore patterns, and the inputs digest of its latest version."""

    texts: list[str | None]
    region_digests: list[str | None]
    ignore: list[str]
    inputs_digest: str | None


class FetchRecorder:
    """Writes the fetches of one crawl run through ``engine``: sources fail once ``broken_after``
    fetches in a row failed. Every write raises StoreUnavailable when the database cannot record
    (disk full, connection lost), and RecordConflict from ``unit`` when another writer held rows."""

    def __init__(self, engine: Engine, broken_after: int, run_id: int | None) -> None:
        self.batch = Batch(engine, BATCH_PAGES, BATCH_SECONDS)
        self.broken_after, self.run_id = broken_after, run_id
        #: how often ``commit_if_due`` should be called while pages arrive
        self.commit_seconds = BATCH_SECONDS
        self.sources: dict[int, Source] = {}

    def load(self, source_ids: list[int]) -> None:
        """Load the sources about to be fetched, their texts left unloaded: one query per
        ``LOAD_CHUNK`` sources instead of one per page."""
        with self.batch.unit() as session:
            for start in range(0, len(source_ids), LOAD_CHUNK):
                chunk = source_ids[start : start + LOAD_CHUNK]
                query = select(Source).options(defer(Source.text)).where(Source.id.in_(chunk))
                self.sources.update((s.id, s) for s in session.scalars(query))

    def state(self, source_id: int) -> SourceState | None:
        """The loaded source's state, once: None when it was taken already (``FetchUnit.state`` reads
        it again)."""
        source = self.sources.pop(source_id, None)
        return SourceState(source) if source is not None else None

    def record_later(self, result: FetchResult, state: SourceState) -> None:
        """Record a fetch that stores and assembles nothing, without a savepoint."""
        source = state._row
        event = _event(result, source.id, self.run_id, _last_snapshot_id(result, source))
        with self._recording():
            self.batch.later(event, Source, {"id": source.id, **_health(source, result, self.broken_after)})

    @contextlib.contextmanager
    def unit(self) -> Iterator[FetchUnit]:
        """A savepoint of the open batch in which one fetch, and its document's version, are recorded.

        RecordConflict when another writer held rows it needed (two crawls at once, each batch
        holding rows the other wants, deadlock): the savepoint is rolled back and the batch committed,
        so this crawl holds no row the other waits for and the fetch can be recorded again."""
        try:
            with self.batch.unit() as session:
                yield FetchUnit(self, session)
        except OperationalError as exc:
            if not contended(exc):
                self.batch.abandon()
                raise StoreUnavailable(error_line(exc)) from None
            with self._recording():
                self.batch.commit()
            raise RecordConflict(error_line(exc)) from None

    def commit_if_due(self) -> None:
        """Commit the open batch if it is older than ``commit_seconds``."""
        with self._recording():
            self.batch.commit_if_due()

    def close(self) -> None:
        """Commit the last batch and end the session."""
        with self._recording():
            self.batch.close()

    @contextlib.contextmanager
    def _recording(self) -> Iterator[None]:
        """StoreUnavailable, in one line, for a database error that leaves nothing recordable; the
        open batch is abandoned (its pages are fetched again by the next crawl)."""
        try:
            yield
        except OperationalError as exc:
            self.batch.abandon()
            raise StoreUnavailable(error_line(exc)) from None


class FetchUnit:
    """One savepoint's recording: the source's state, its fetch, and its document's version."""

    def __init__(self, recorder: FetchRecorder, session: Session) -> None:
        self.recorder, self.session = recorder, session

    def state(self, source_id: int) -> SourceState:
        """The source's state as this savepoint sees it (after a failed savepoint, as it left it)."""
        return SourceState(self.session.get_one(Source, source_id, options=[defer(Source.text)]))

    def record(self, result: FetchResult, state: SourceState) -> None:
        """Store a parsed page's snapshot, write what was accepted from it into the source, and the
        source's health after the fetch; its event is inserted when the batch commits."""
        source, page = state._row, result.page
        snapshot_id = _last_snapshot_id(result, source)
        if result.parsed:
            snapshot, _ = put_snapshot(
                self.session,
                source.id,
                Fetched(
                    page.final_url or result.url,
                    page.body,
                    page.content_type,
                    page.etag,
                    page.last_modified,
                    page.fetched_at,
                    result.sha256,
                ),
            )
            snapshot_id = snapshot.id
            if result.ok:
                source.last_snapshot_id, source.page_fingerprint = snapshot.id, result.fingerprint
            if result.text is not None:
                source.text, source.region_digest = result.text, result.region_digest
        for name, value in _health(source, result, self.recorder.broken_after).items():
            setattr(source, name, value)
        self.recorder.batch.insert_at_commit(_event(result, source.id, self.recorder.run_id, snapshot_id))

    def document(self, document_id: int) -> DocumentInputs:
        """The inputs of the document's next version, as recorded so far in this savepoint."""
        document = self.session.get_one(Document, document_id)
        sources = [s for s in document.sources if s.active]
        return DocumentInputs(
            [s.text for s in sources],
            [s.region_digest for s in sources],
            document.ignore,
            document.inputs_digest,
        )

    def record_version(
        self, document_id: int, inputs_digest: str, text: str, created_at: datetime
    ) -> int | None:
        """The number of the document's new version with ``text`` dated ``created_at``, made of its
        active sources' last snapshots; None when it repeats the latest version or another writer
        recorded one first."""
        document = self.session.get_one(Document, document_id)
        document.inputs_digest = inputs_digest
        snapshots = [
            (s.id, self.session.get_one(Snapshot, s.last_snapshot_id))
            for s in document.sources
            if s.active and s.last_snapshot_id is not None
        ]
        try:
            version = record_version(
                self.session,
                document,
                text,
                snapshots,
                crawl_run_id=self.recorder.run_id,
                created_at=created_at,
            )
        except VersionConflict as exc:
            log.info("skipped: %s", exc)
            return None
        return version.seq if version else None


def _last_snapshot_id(result: FetchResult, source: Source) -> int | None:
    """The snapshot an unparsed fetch points at: the source's last one, none for a failed fetch."""
    return None if result.page.error else source.last_snapshot_id


def _event(result: FetchResult, source_id: int, run_id: int | None, snapshot_id: int | None) -> FetchEvent:
    page = result.page
    return FetchEvent(
        crawl_run_id=run_id,
        source_id=source_id,
        fetched_at=page.fetched_at,
        url=result.url,
        final_url=page.final_url,
        redirects=page.redirects,
        http_status=page.status,
        duration_ms=page.duration_ms,
        bytes=len(page.body),
        snapshot_id=snapshot_id,
        sha256=result.sha256,
        outcome=result.outcome,
        reason=result.reason,
        failure_kind=result.failure.kind if result.failure else None,
    )


def _health(source: Source, result: FetchResult, broken_after: int) -> dict:
    """The source's health after ``result``: when it was fetched (the page's time) and is due next,
    its failures, last error and since when it is broken, and the validators for the next
    conditional request."""
    page = result.page
    now = page.fetched_at
    health: dict[str, object] = {
        "last_fetched_at": now,
        "next_fetch_at": now + timedelta(seconds=result.schedule_seconds),
        "consecutive_failures": 0,
        "last_error": None,
        "last_failure_kind": None,
        "broken_since": None,
        "etag": source.etag,
        "last_modified": source.last_modified,
    }
    if not result.ok:
        failures = source.consecutive_failures + 1
        broken: datetime | None = source.broken_since or (now if failures >= broken_after else None)
        health.update(
            consecutive_failures=failures,
            last_error=result.reason,
            last_failure_kind=result.failure.kind if result.failure else None,
            broken_since=broken,
        )
    elif page.status != 304 and (page.etag or page.last_modified):
        health.update(etag=page.etag, last_modified=page.last_modified)
    return health
