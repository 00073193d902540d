"""Recording what a crawl found on newsrooms: the posts each listing shows (new ones become
documents of terms type ``Announcement``), what each post's page says, and posts unpublished.

Discovery is an event, not a diff: a listing is never a document and its cards make no version. A
listing that fails records its error and nothing else. A post is removed only when its page
answered 404 or 410 (or an error page such as "Page not found" with 200) on two crawls in a row
after it had been published. New posts beyond a crawl's
budget wait (their document inactive) and are fetched by later crawls, newest first.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from crawler.newsroom.items import POST_CHROME, Listed, PostPage
from crawler.sources.plan import ListingJob, SourceJob
from store.db import Batch
from store.models import Announcement, AnnouncementSource, Document, Source

#: The terms type of a post's document.
ANNOUNCEMENT = "Announcement"
#: Statuses that say a page is gone.
GONE = (404, 410)


def listing_jobs(session: Session, ids: list[int]) -> list[ListingJob]:
    """The active newsrooms of ``ids``, as the spider reads them."""
    rows = session.scalars(
        select(AnnouncementSource)
        .where(AnnouncementSource.active, AnnouncementSource.id.in_(ids))
        .order_by(AnnouncementSource.id)
    )
    return [ListingJob(n.id, n.slug, n.listing, n.follow, n.kind, n.etag, n.last_modified) for n in rows]


def post_sources(session: Session, source_ids: list[int]) -> set[int]:
    """Those of ``source_ids`` that fetch a post's page."""
    query = (
        select(Source.id)
        .join(Announcement, Announcement.document_id == Source.document_id)
        .where(Source.id.in_(source_ids))
    )
    return set(session.scalars(query))


class NewsroomRecorder:
    """Writes one crawl's newsroom findings in the crawl's batch (``FetchRecorder.batch``), so that
    the pipeline sees the documents of posts found during the crawl; ``budget`` new posts per newsroom;
    a listing without a schedule of its own is read again ``schedule_seconds`` after each read."""

    def __init__(self, batch: Batch, budget: int, schedule_seconds: int) -> None:
        self.batch, self.budget, self.schedule_seconds = batch, budget, schedule_seconds
        self.started: dict[int, int] = {}

    def discovered(self, job: ListingJob, listed: list[Listed], now: datetime) -> list[SourceJob]:
        """Record the posts a listing page shows; the fetches of the new ones within the budget."""
        with self.batch.unit() as session:
            newsroom = session.get_one(AnnouncementSource, job.newsroom_id)
            known = {a.listed_url: a for a in newsroom.posts} | {a.url: a for a in newsroom.posts}
            for post in listed:
                found = known.get(post.url)
                if found is None:
                    found = known[post.url] = _new_post(session, newsroom, post, now)
                found.last_listed = now
                found.listed_title = post.title or found.listed_title
                found.listed_published = post.published or found.listed_published
            session.flush()
            return self._start(session, newsroom)

    def listing_read(
        self, job: ListingJob, now: datetime, kind: str | None, error: str | None, validators=(None, None)
    ):
        """Note how reading a listing at ``now`` went: its kind and validators when it was read, else
        the error; either way, when it is due next."""
        with self.batch.unit() as session:
            newsroom = session.get_one(AnnouncementSource, job.newsroom_id)
            newsroom.last_read_at = now
            every = timedelta(seconds=newsroom.schedule_seconds or self.schedule_seconds)
            newsroom.next_read_at = newsroom.last_read_at + every
            newsroom.last_error = error
            if error is None:
                newsroom.kind = kind or newsroom.kind
                newsroom.etag, newsroom.last_modified = validators

    def post_read(self, source_id: int, status: int | None, page: PostPage | None, now: datetime) -> None:
        """Record a post page's answer: what it says (200), unchanged (304), or gone (404, 410)."""
        with self.batch.unit() as session:
            post = session.scalars(
                select(Announcement)
                .join(Source, Source.document_id == Announcement.document_id)
                .where(Source.id == source_id)
            ).one()
            if status in GONE or (page is not None and page.gone):
                post.gone += 1 if post.fetched else 0
                if post.gone >= 2 and post.removed_at is None:
                    post.removed_at = now
            elif status == 304 or (page is not None and not page.gone):
                post.gone, post.removed_at, post.fetched = 0, None, True
            if page is not None and not page.gone:
                _read_page(session, post, page)

    def _start(self, session: Session, newsroom: AnnouncementSource) -> list[SourceJob]:
        """Activate the newest waiting posts within the budget left; their fetches."""
        left = self.budget - self.started.get(newsroom.id, 0)
        waiting = list(
            session.scalars(
                select(Announcement)
                .join(Document, Document.id == Announcement.document_id)
                .where(
                    Announcement.source_id == newsroom.id,
                    Document.active.is_(False),
                    Announcement.removed_at.is_(None),
                )
                .options(selectinload(Announcement.document).selectinload(Document.sources))
            )
        )
        waiting.sort(key=lambda a: (a.listed_published or a.published or "", -a.id), reverse=True)
        jobs = []
        for post in waiting[: max(left, 0)]:
            post.document.active = True
            source = post.document.sources[0]
            jobs.append(
                SourceJob(
                    source.id,
                    post.document_id,
                    post.document.slug,
                    source.url,
                    list(source.select),
                    list(source.remove),
                    "http",
                    True,
                    None,
                    None,
                    None,
                    None,
                )
            )
        self.started[newsroom.id] = self.started.get(newsroom.id, 0) + len(jobs)
        return jobs


def _new_post(session: Session, newsroom: AnnouncementSource, listed: Listed, now: datetime) -> Announcement:
    """A post first seen now, with its document (inactive until its fetch is started)."""
    document = Document(
        slug=_slug(session, newsroom.platform.slug, listed.url),
        platform=newsroom.platform,
        title=(listed.title or listed.url)[:300],
        terms_type=ANNOUNCEMENT,
        active=False,
        sources=[Source(position=0, url=listed.url, select=list(newsroom.select), remove=POST_CHROME)],
    )
    post = Announcement(
        source=newsroom, document=document, url=listed.url, listed_url=listed.url, first_seen=now
    )
    session.add(post)
    return post


def _slug(session: Session, platform: str, url: str) -> str:
    """A document slug for the post at ``url``: the platform's slug and the URL's last segment."""
    tail = [s for s in urlsplit(url).path.split("/") if s][-1:] or ["post"]
    words = re.sub(r"[^a-z0-9]+", "-", tail[0].lower()).strip("-")[:80] or "post"
    slug = f"{platform}-{words}"[:110]
    if session.scalar(select(Document.id).where(Document.slug == slug)) is None:
        return slug
    return f"{slug}-{hashlib.sha256(url.encode()).hexdigest()[:8]}"


def _read_page(session: Session, post: Announcement, page: PostPage) -> None:
    post.title = page.title or post.title
    post.published = page.published or post.published
    post.document.title = (post.title or post.listed_title or post.url)[:300]
    if page.canonical and page.canonical != post.url:
        taken = session.scalar(
            select(Announcement.id).where(
                Announcement.source_id == post.source_id, Announcement.url == page.canonical
            )
        )
        if taken is None:
            post.url = page.canonical
