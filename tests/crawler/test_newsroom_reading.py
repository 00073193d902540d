"""Reading newsroom listings and post pages: kinds told by content, post links, next pages, dates."""

from __future__ import annotations

from datetime import UTC, datetime

from crawler.newsroom.links import clean_url, posts_among
from crawler.newsroom.listing import listing_kind, read_listing
from crawler.newsroom.post import read_post

NOW = datetime(2025, 3, 5, 10, 0, tzinfo=UTC)

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Acme</title>
<entry><title>Acme and the Ministry of Defence</title><link rel="alternate" href="/blog/mod-deal"/>
<published>2025-03-01T09:00:00+01:00</published></entry>
<entry><title>Elsewhere</title><link href="https://other.example/story"/></entry></feed>"""

INDEX = b"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://acme.com/page-sitemap.xml</loc></sitemap>
<sitemap><loc>https://acme.com/post-sitemap.xml</loc></sitemap></sitemapindex>"""


def test_kinds_are_told_by_content():
    assert listing_kind(b"\xef\xbb\xbf<?xml version='1.0'?><!-- x --><rss version='2.0'/>") == "feed"
    assert listing_kind(ATOM) == "feed"
    assert listing_kind(INDEX) == "sitemap"
    assert listing_kind(b"<!DOCTYPE html><html><body>News</body></html>") == "html"


def test_an_atom_feed_lists_its_posts_on_the_site_with_their_zone():
    listing = read_listing(ATOM, "https://www.acme.com/blog/atom.xml", None, NOW)

    (post,) = listing.posts
    assert post.url == "https://www.acme.com/blog/mod-deal"
    assert post.title == "Acme and the Ministry of Defence"
    assert post.published == "2025-03-01T09:00:00+01:00"


def test_a_sitemap_index_is_read_through_its_post_sitemap():
    assert read_listing(INDEX, "https://acme.com/sitemap.xml", None, NOW).sitemaps == [
        "https://acme.com/post-sitemap.xml"
    ]


def test_a_feed_that_answers_with_a_page_has_failed():
    page = b"<html><head><title>Maintenance</title></head><body><a href='/blog/x-y'>x</a></body></html>"

    listing = read_listing(page, "https://acme.com/blog/feed", None, NOW, expected="feed")

    assert listing.posts == [] and "answered with an HTML page" in listing.failure.detail


def test_cards_give_titles_relative_dates_and_the_next_page():
    page = b"""<html><body><main>
    <a href="/news/a-post?utm_source=featured">Featured: A post</a>
    <ul><li><a href="/news/a-post"><h3>A post</h3></a><time>Yesterday</time></li>
    <li><a href="/news/category/policy">Policy</a></li><li><a href="/news/tag/ai">AI</a></li></ul>
    <a href="/news?page=2">2</a><a href="/news?page=3">3</a><a href="/careers/job-1">Jobs</a>
    </main></body></html>"""

    listing = read_listing(page, "https://acme.com/news", None, NOW)

    assert [(p.url, p.title, p.published) for p in listing.posts] == [
        ("https://acme.com/news/a-post", "A post", "2025-03-04")
    ]
    assert listing.pages == ["https://acme.com/news?page=2"]


def test_follow_decides_which_links_are_posts_and_tracking_parameters_go():
    links = ["https://acme.com/p/1?utm_medium=rss&id=7#top", "https://acme.com/about"]

    assert posts_among(links, "https://acme.com/feed", r"/p/\d") == ["https://acme.com/p/1?id=7"]
    assert clean_url("HTTPS://Acme.com/x?ref=home&fbclid=1") == "https://acme.com/x"


def test_a_post_page_gives_its_canonical_url_headline_and_date():
    page = b"""<html><head><title>Big news | Acme</title><link rel="canonical" href="/news/big-news">
    <script type="application/ld+json">{"@type": "NewsArticle", "headline": "Big news",
    "datePublished": "2025-02-27T16:00:00Z"}</script></head><body><h1>Big news</h1></body></html>"""

    post = read_post(page, "https://acme.com/news/big-news?utm_source=x", NOW)

    assert (post.canonical, post.title, post.published) == (
        "https://acme.com/news/big-news",
        "Big news",
        "2025-02-27T16:00:00+00:00",
    )
