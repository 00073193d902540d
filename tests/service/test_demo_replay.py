"""The demo's bundled replay of real policy pages and the loopback server that replays it."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import timedelta

import pytest

from policywatch.demo.bundle import DATA, Replay
from policywatch.demo.server import ReplayServer


@pytest.fixture(scope="module")
def replay() -> Replay:
    return Replay()


def get(url: str, **headers) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_the_bundle_holds_real_changes_and_real_noise_with_attribution(replay):
    assert len(replay.documents) >= 3
    assert {e["document"] for e in replay.substantive()} >= {"chatgpt--commercial-terms"}
    assert {e["label"] for e in replay.noise()} >= {"link_only", "flip_flop"}
    assert all(
        doc.blobs[tick] in replay.blobs for doc in replay.documents for tick in range(len(replay.ticks))
    )
    assert "Open Terms Archive" in (DATA / "ATTRIBUTION.md").read_text()
    assert (DATA / "replay.tar.zst").stat().st_size < 1_000_000


def test_each_tick_serves_the_page_of_that_crawl(replay):
    terms = replay.documents[0]
    changed = next(e["tick"] for e in replay.substantive() if e["document"] == terms.id)
    with ReplayServer(replay) as server:
        status, _, before = get(server.url(terms))
        server.tick = changed
        _, _, after = get(server.url(terms))
    assert status == 200 and before != after
    assert before == replay.page(terms, 0)[1] and after == replay.page(terms, changed)[1]
    key_added = next(e for e in replay.substantive() if e["document"] == terms.id)["key_added"][0]
    assert "ChatGPT for Clinicians" in key_added and b"ChatGPT for Clinicians" in after


def test_unchanged_pages_answer_304_to_conditional_requests(replay):
    document = replay.documents[0]
    with ReplayServer(replay) as server:
        _, headers, _ = get(server.url(document))
        assert get(server.url(document), **{"If-None-Match": headers["ETag"]})[0] == 304
        assert get(server.url(document), **{"If-Modified-Since": headers["Last-Modified"]})[0] == 304
        server.tick = 1  # a new page: the old validators no longer match
        assert get(server.url(document), **{"If-None-Match": headers["ETag"]})[0] == 200


def test_unknown_pages_are_404_and_the_server_listens_on_loopback_only(replay):
    with ReplayServer(replay) as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert get(server.base_url + "/example.com/nothing")[0] == 404
        assert get(server.base_url + "/robots.txt")[0] == 200


def test_the_sample_newsroom_lists_its_new_post_from_its_tick_and_marks_every_page_a_sample(replay):
    newsroom = replay.newsroom
    old, new = newsroom.posts
    with ReplayServer(replay) as server:
        _, headers, before = get(server.listing_url)
        post_url = f"{server.listing_url}{new.slug}/"
        missing = get(post_url)[0]
        server.tick = new.from_tick
        status, _, after = get(server.listing_url, **{"If-None-Match": headers["ETag"]})
        post = get(post_url)[2]
    assert old.title.encode() in before and new.title.encode() not in before and missing == 404
    assert status == 200 and new.title.encode() in after
    for page in (before, after, post):
        assert newsroom.notice.encode() in page and b"fictional" in page
    assert "fictional" in (DATA / "ATTRIBUTION.md").read_text()


def test_the_sample_posts_are_dated_from_the_replayed_day_that_first_lists_them(replay):
    new = replay.newsroom.posts[-1]
    with ReplayServer(replay) as server:
        pages = []
        for tick in (new.from_tick, len(replay.ticks) - 1):
            server.tick = tick
            pages.append(get(f"{server.listing_url}{new.slug}/")[2])
    day = replay.moment(new.from_tick).date() - timedelta(days=new.days_old)
    assert f'<meta property="article:published_time" content="{day.isoformat()}">'.encode() in pages[0]
    assert pages[0] == pages[1]  # the same date on every later crawl: no edit of the post
