"""Pages are answered from memory while the stored history is unchanged, and not for long after it grew."""

from __future__ import annotations

import time
from datetime import timedelta

from fastapi.testclient import TestClient

from policywatch.settings import get_settings
from store.db import transaction
from store.models import FetchEvent
from store.queries import documents as document_queries
from store.versions import record_version
from tests.web.site import ACME_V4, START
from web.app import create_app
from web.middleware.cache import MemoryPages, PageCache


def page_cache(client) -> PageCache:
    cache = client.app.middleware_stack
    while not isinstance(cache, PageCache):
        cache = cache.app
    return cache


def test_a_cached_page_shows_a_version_recorded_after_it(fresh_client, fresh_engine):
    page_cache(fresh_client).fresh_for = 0.2
    pages = ["/documents/acme-terms", "/changes?document=acme-terms", "/search?q=arbitration", "/"]
    before = [fresh_client.get(path).text for path in pages]
    assert [fresh_client.get(path).text for path in pages] == before
    assert ">v5<" not in before[0] and "1 version" not in before[2]
    with transaction(fresh_engine) as session:
        record_version(
            session,
            document_queries.get_document(session, "acme-terms"),
            ACME_V4 + "\n\nDisputes go to arbitration.",
            [],
        )
    time.sleep(0.2)
    after = fresh_client.get("/documents/acme-terms").text
    assert ">v5<" in after and "Disputes go to arbitration." in after
    assert "1 version match." in fresh_client.get("/search?q=arbitration").text


def test_a_cached_document_page_shows_the_latest_fetch(fresh_client, fresh_engine):
    page_cache(fresh_client).fresh_for = 0.2
    assert "HTTP 503" in fresh_client.get("/documents/acme-terms").text
    with transaction(fresh_engine) as session:
        source = document_queries.get_document(session, "acme-terms", sources=True).sources[0]
        session.add(
            FetchEvent(
                source_id=source.id,
                fetched_at=START + timedelta(days=200),
                url=source.url,
                http_status=404,
                outcome="error",
                reason="HTTP 404 from https://acme.test/terms",
            )
        )
    time.sleep(0.2)
    assert "HTTP 404" in fresh_client.get("/documents/acme-terms").text


def test_cached_pages_set_no_cookie_and_keep_their_headers(client):
    first = client.get("/changes?platform=globex")
    client.cookies.clear()
    again = client.get("/changes?platform=globex")
    assert again.text == first.text and "set-cookie" not in again.headers
    assert again.headers["content-security-policy"] == first.headers["content-security-policy"]


def test_the_least_recently_used_pages_go_past_the_byte_budget(client):
    documents = ["/documents/acme-terms", "/documents/globex-privacy"]
    kept = page_cache(client).pages = MemoryPages(
        budget=sum(len(client.get(path).content) for path in documents)
    )
    for path in ["/changes", *documents]:
        client.get(path)
    assert [path for path, _ in kept.pages] == documents
    assert kept.held == sum(len(page.body) for page in kept.pages.values()) <= kept.budget


def test_workers_sharing_a_folder_answer_each_others_pages(site_engine, tmp_path):
    settings = get_settings().model_copy(update={"web_cache_dir": tmp_path / "pages"})
    with (
        TestClient(create_app(settings, site_engine)) as first,
        TestClient(create_app(settings, site_engine)) as second,
    ):
        page = first.get("/documents/acme-terms").text
        rendered = []

        async def render(scope, receive, send):  # the second worker renders nothing itself
            rendered.append(scope["path"])

        page_cache(second).app = render
        assert second.get("/documents/acme-terms").text == page and not rendered
