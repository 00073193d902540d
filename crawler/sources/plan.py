"""What one crawl fetches: the plan the spider follows and the pipeline judges responses by."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SourceJob:
    """What the spider needs to fetch one source, and the pipeline to judge its response cheaply."""

    source_id: int
    document_id: int
    document_slug: str
    url: str
    select: list
    remove: list
    fetcher: str
    robots: bool
    etag: str | None
    last_modified: str | None
    last_sha256: str | None
    schedule_seconds: int | None


@dataclass(frozen=True)
class ListingJob:
    """What the spider needs to read one newsroom listing: where, which links are posts, what it was."""

    newsroom_id: int
    slug: str
    url: str
    follow: str | None
    kind: str | None
    etag: str | None
    last_modified: str | None


@dataclass
class CrawlPlan:
    """The sources of one crawl, grouped by document (a document is always crawled whole)."""

    jobs: dict[int, SourceJob] = field(default_factory=dict)
    documents: dict[int, list[int]] = field(default_factory=dict)
    #: documents whose text was not assembled from their sources' current regions (a source
    #: changed while another failed, or the ignore patterns changed): assembled even if no page changes
    stale: set[int] = field(default_factory=set)
    #: newsroom listings read in this crawl, and the sources that are posts found on them
    listings: list[ListingJob] = field(default_factory=list)
    posts: set[int] = field(default_factory=set)

    def add(self, job: SourceJob) -> None:
        """Plan ``job``."""
        self.jobs[job.source_id] = job
        self.documents.setdefault(job.document_id, []).append(job.source_id)


def inputs_digest(region_digests: list[str | None], ignore: list) -> str:
    """What a document's text is assembled from: its sources' region digests and ignore patterns."""
    return hashlib.sha256(json.dumps([region_digests, ignore]).encode()).hexdigest()
