"""Crawls recorded as of a given time (archived pages replayed): everything the crawl observes carries
that time, and a time before a document's latest version is refused."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from store.db import transaction
from store.models import Announcement, AnnouncementSource, CrawlRun, FetchEvent, Snapshot, Source, Version
from tests.crawler.conftest import Page, document, sources_yaml
from tests.crawler.test_announcements import card, listing_page, serve_post

pytestmark = pytest.mark.slow  # crawls run in a child process

FIRST, SECOND = datetime.fromisoformat("2026-05-17T22:34:15Z"), datetime.fromisoformat("2026-05-18T10:36:16Z")
POLICY = "<h1>Usage Policy</h1><p>" + "You may not use the service to deceive people. " * 12 + "</p>"


def catalog(site) -> str:
    """One policy and one newsroom of platform acme, served by ``site``."""
    return (
        sources_yaml(document("acme-aup", f"{site.url}/aup", "select: [main]"))
        + f"    announcements:\n      - slug: acme-news\n        listing: {site.url}/news\n"
    )


def recorded(db) -> dict[str, list]:
    """The times the crawls recorded, by what carries them."""
    with transaction(db.engine) as session:
        newsroom = session.scalars(select(AnnouncementSource)).one()
        source = session.scalars(select(Source).where(Source.url.endswith("/aup"))).one()
        return {
            "fetch events": sorted(set(session.scalars(select(FetchEvent.fetched_at)))),
            "snapshots": sorted(set(session.scalars(select(Snapshot.fetched_at)))),
            "versions": list(session.scalars(select(Version.created_at).order_by(Version.id))),
            "crawl runs": list(session.scalars(select(CrawlRun.started_at).order_by(CrawlRun.id))),
            "posts first seen": list(
                session.scalars(select(Announcement.first_seen).order_by(Announcement.id))
            ),
            "source health": [source.last_fetched_at, source.next_fetch_at],
            "listing read": [newsroom.last_read_at],
        }


def test_a_crawl_as_of_a_time_records_its_fetches_versions_changes_and_posts_at_that_time(
    site, load, crawl, cli, db
):
    site.html("/aup", POLICY)
    site.pages["/news"] = Page(listing_page(card("/news/first", "First", "May 17, 2026")))
    serve_post(site, "/news/first", "First", "Our first post.", date="2026-05-17")
    load(catalog(site))
    crawl("--all", "--as-of", "2026-05-17T22:34:15Z")
    site.html("/aup", POLICY.replace("deceive people", "deceive or defraud people"))
    cards = card("/news/second", "Second", "May 18, 2026") + card("/news/first", "First", "May 17, 2026")
    site.pages["/news"] = Page(listing_page(cards))
    serve_post(site, "/news/second", "Second", "Our second post.", date="2026-05-18")

    crawl(env={"POLICYWATCH_CRAWL_AS_OF": "2026-05-18T12:36:16+02:00"})  # the same instant as SECOND

    assert recorded(db) == {
        "fetch events": [FIRST, SECOND],
        "snapshots": [FIRST, SECOND],
        "versions": [FIRST, FIRST, SECOND, SECOND],  # the policy, the first post; the policy, the second post
        "crawl runs": [FIRST, SECOND],
        "posts first seen": [FIRST, SECOND],
        "source health": [SECOND, SECOND + timedelta(hours=12)],
        "listing read": [SECOND],
    }
    [change] = json.loads(cli("changes", "list", "--json").output)
    assert change["document"] == "acme-aup" and change["detected_at"].startswith("2026-05-18T10:36:16")


def test_a_crawl_as_of_a_time_before_a_documents_latest_version_is_refused_naming_it(site, load, crawl, db):
    site.html("/aup", POLICY)
    site.pages["/news"] = Page(listing_page(card("/news/first", "First", "May 17, 2026")))
    serve_post(site, "/news/first", "First", "Our first post.", date="2026-05-17")
    load(catalog(site))
    crawl("--all", "--as-of", "2026-05-18T10:36:16Z")
    site.html("/aup", POLICY.replace("deceive people", "deceive or defraud people"))
    before = recorded(db)

    refused = crawl("--all", "--as-of", "2026-05-17T22:34:15Z", ok=False)

    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        "Error: crawl refused: acme-aup: 2026-05-17T22:34:15Z is earlier than its latest version "
        "(2026-05-18T10:36:16Z); history never goes backwards"
    ]
    assert recorded(db) == before and len(site.hits("/aup")) == 1  # nothing fetched, nothing recorded
    crawl("--all", "--as-of", "2026-05-18T10:36:16Z")  # the same time again is no step back
    assert len(recorded(db)["versions"]) == 3


def test_an_as_of_time_without_a_zone_is_refused(cli):
    result = cli("crawl", "--as-of", "2026-05-17 22:34", ok=False)
    assert result.exit_code == 2
    assert "Invalid value for '--as-of': 2026-05-17T22:34:00 has no time zone" in result.output
