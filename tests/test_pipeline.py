"""The crawl pipeline and the store's fetch recorder, fed pages directly: a page that cannot be
recorded becomes a failure of its own source, and the crawl's other pages are recorded as usual."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select

from crawler.fetch.items import CrawlReport, FetchedPage
from crawler.fetch.pipeline import FetchPipeline
from crawler.sources.declarations import parse_declarations
from policywatch.settings import load_settings
from store.crawl_plan import build_plan
from store.db import make_engine, transaction
from store.fetches import FetchRecorder
from store.models import FetchEvent, Source, utcnow
from store.sources_file import load_declarations

PAGE = b"<html><head><title>Terms</title></head><body><main><p>%s</p></main></body></html>"


def _crawl(url: str, pages: dict[int, bytes]) -> CrawlReport:
    """One crawl of the sources ``pages`` answers, through the crawl pipeline into the store."""
    engine = make_engine(url)
    with transaction(engine) as session:
        plan = build_plan(session, list(pages))
    settings = load_settings()
    pipeline = FetchPipeline(None, settings)
    recorder = FetchRecorder(engine, settings.broken_after, None)
    pipeline.open_spider(SimpleNamespace(plan=plan, report=CrawlReport(), recorder=recorder))
    for source_id, body in pages.items():
        pipeline.process_item(
            FetchedPage(
                source_id,
                plan.jobs[source_id].url,
                utcnow(),
                status=200,
                body=body,
                content_type="text/html; charset=utf-8",
            )
        )
    pipeline.close_spider()
    engine.dispose()
    return pipeline.report


def test_a_page_that_cannot_be_recorded_fails_alone_and_is_tried_again_next_crawl(migrated_url, monkeypatch):
    import store.fetches

    engine = make_engine(migrated_url)
    with transaction(engine) as session:
        load_declarations(
            session,
            parse_declarations(
                {
                    "platforms": [
                        {
                            "slug": "acme",
                            "name": "Acme",
                            "documents": [
                                {
                                    "slug": f"acme-{n}",
                                    "title": "Terms",
                                    "type": "Terms of Service",
                                    "url": f"https://acme.test/{n}",
                                    "select": ["main"],
                                }
                                for n in (1, 2)
                            ],
                        }
                    ]
                },
                "test",
            ),
        )
    first = _crawl(migrated_url, {1: PAGE % b"First terms.", 2: PAGE % b"Second terms."})
    real_put = store.fetches.put_snapshot

    def broken_put(session, source_id, fetched):
        if source_id == 1:
            raise OSError("disk full")
        return real_put(session, source_id, fetched)

    monkeypatch.setattr(store.fetches, "put_snapshot", broken_put)
    second = _crawl(migrated_url, {1: PAGE % b"First terms, amended.", 2: PAGE % b"Second terms, amended."})
    monkeypatch.setattr(store.fetches, "put_snapshot", real_put)
    third = _crawl(migrated_url, {1: PAGE % b"First terms, amended.", 2: PAGE % b"Second terms, amended."})

    assert [r.outcome for r in first.results] == ["changed", "changed"]
    assert [(r.outcome, r.reason) for r in second.results] == [
        ("error", "internal error while recording: OSError: disk full"),
        ("changed", None),
    ]
    assert [r.outcome for r in third.results] == ["changed", "unchanged"]
    with transaction(engine) as session:
        failures = session.scalars(select(Source.consecutive_failures).order_by(Source.id)).all()
        events = session.scalars(
            select(FetchEvent.outcome).where(FetchEvent.source_id == 1).order_by(FetchEvent.id)
        ).all()
    engine.dispose()
    assert failures == [0, 0] and events == ["changed", "error", "changed"]
