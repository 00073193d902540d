"""Which sources and newsroom listings the crawl job finds due, and how first crawls are spread over
hosts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from policywatch.runtime import Runtime
from policywatch.service import jobs
from policywatch.service.jobs import SPREAD, count_due, due_listings, host_phase, spread_first_crawls
from policywatch.settings import get_settings
from store.db import transaction
from store.models import AnnouncementSource, utcnow
from tests.factories import make_document

NOW = datetime(2026, 5, 18, 10, 0, tzinfo=UTC)


def test_new_sources_get_a_first_crawl_within_the_spread_one_phase_per_host(engine):
    with transaction(engine) as session:
        a = make_document(
            session, "a-terms", ("https://a.example/terms", "https://a.example/annex"), platform_slug="a"
        )
        b = make_document(session, "b-terms", ("https://b.example/terms",), platform_slug="b")
        assert spread_first_crawls(session, NOW) == 3
        assert spread_first_crawls(session, NOW) == 0  # scheduled once, then the crawler owns it
        first, annex = (s.next_fetch_at for s in a.sources)
        assert first == annex  # one host's pages go together, politely spaced by the crawl delay
        assert NOW <= first < NOW + SPREAD and NOW <= b.sources[0].next_fetch_at < NOW + SPREAD
    hosts = [f"https://host{i}.example/policy" for i in range(50)]
    assert len({host_phase(url) for url in hosts}) > 40  # fifty hosts do not start together


def test_due_counts_active_sources_whose_time_has_come(engine):
    with transaction(engine) as session:
        due = make_document(session, "due-terms", ("https://a.example/terms",))
        later = make_document(session, "later-terms", ("https://b.example/terms",))
        paused = make_document(session, "paused-terms", ("https://c.example/terms",))
        due.sources[0].next_fetch_at = NOW - timedelta(minutes=1)
        later.sources[0].next_fetch_at = NOW + timedelta(hours=1)
        paused.sources[0].next_fetch_at = NOW - timedelta(hours=1)
        paused.active = False
        session.flush()
        assert count_due(session, NOW) == 1
        assert count_due(session, NOW + timedelta(hours=2)) == 2


def test_newsroom_listings_are_due_by_their_own_schedule_grouped_by_host(engine):
    with transaction(engine) as session:
        platform = make_document(session, "acme-terms", ("https://acme.test/terms",)).platform
        platform.documents[0].sources[0].next_fetch_at = NOW + timedelta(days=1)  # no document due

        def newsroom(slug: str, listing: str, next_read_at=None, active=True) -> AnnouncementSource:
            source = AnnouncementSource(
                slug=slug, platform=platform, listing=listing, next_read_at=next_read_at, active=active
            )
            session.add(source)
            return source

        never = newsroom("never-read", "https://acme.test/news")
        due = newsroom("due", "https://acme.test/blog/feed.xml", NOW - timedelta(minutes=1))
        newsroom("later", "https://acme.test/press", NOW + timedelta(hours=1))
        newsroom("paused", "https://acme.test/old", NOW - timedelta(hours=1), active=False)
        other = newsroom("other-host", "https://news.acme.test:8443/", NOW)
        session.flush()
        assert count_due(session, NOW) == 0
        expected = {"acme.test": [never.id, due.id], "news.acme.test:8443": [other.id]}
        assert due_listings(session, NOW) == expected
        assert len(due_listings(session, NOW + timedelta(hours=2))["acme.test"]) == 3


def test_the_crawl_job_starts_a_crawl_when_only_a_listing_is_due_and_none_when_nothing_is(
    engine, monkeypatch
):
    started = []
    monkeypatch.setattr(jobs.RUNNER, "run", lambda *args, timeout: started.append(args))
    monkeypatch.setattr(jobs, "_runtime", [Runtime(get_settings(), engine)])  # as jobs.use, undone after
    monkeypatch.setattr(jobs, "_queue", [])  # SQLite: the crawl runs as a child process
    with transaction(engine) as session:
        platform = make_document(session, "acme-terms", ("https://acme.test/terms",)).platform
        platform.documents[0].sources[0].next_fetch_at = utcnow() + timedelta(days=1)
        newsroom = AnnouncementSource(slug="acme-news", platform=platform, listing="https://acme.test/news")
        session.add(newsroom)

    assert jobs.crawl_due() and started == [("crawl", "--due")]  # never read: due at once
    with transaction(engine) as session:
        session.get_one(AnnouncementSource, newsroom.id).next_read_at = utcnow() + timedelta(hours=1)
    assert not jobs.crawl_due() and len(started) == 1
