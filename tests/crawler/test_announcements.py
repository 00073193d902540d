"""Newsrooms: posts discovered on HTML listings (with next pages), feeds and sitemaps, each watched as
an Announcement document with its title, date, topics, edits and removal; noise discovers nothing."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from store.db import transaction
from store.models import AnnouncementSource, utcnow
from tests.crawler.conftest import Page, document, sources_yaml


def newsroom(slug: str, listing: str, *extra: str) -> str:
    """A sources file of platform ``acme`` with one announcement source."""
    lines = "".join(f"        {line}\n" for line in extra)
    return (
        "platforms:\n  - slug: acme\n    name: Acme\n    documents: []\n    announcements:\n"
        f"      - slug: {slug}\n        listing: {listing}\n{lines}"
    )


def post_page(title: str, body: str, date: str = "2025-03-01T09:00:00+00:00", related: str = "") -> str:
    return (
        f"<html><head><title>{title} | Acme</title><link rel=canonical href='{{base}}'></head><body>"
        "<header><nav><a href='/careers'>Careers</a></nav></header><main><article>"
        f"<h1>{title}</h1><time datetime='{date}'>Mar 1, 2025</time><p>{body}</p>"
        "<p>Acme builds models for businesses and the public sector.</p></article>"
        f"<aside><h2>More news</h2>{related}</aside></main></body></html>"
    )


def card(path: str, title: str, date: str) -> str:
    return f"<a class=card href='{path}'><time>{date}</time><h3>{title}</h3><p>Summary.</p></a>"


def serve_post(site, path: str, title: str, body: str, **kwargs) -> None:
    html = post_page(title, body, **kwargs).replace("{base}", f"{site.url}{path}")
    site.pages[path] = Page(html.encode())


def listing_page(cards: str, more: str = "") -> bytes:
    """A listing whose Featured strip repeats its first card with tracking parameters."""
    featured = re.sub(r"href='([^']+)'", r"href='\1?utm_source=news&amp;utm_medium=featured'", cards)
    return (
        "<html><head><title>News | Acme</title></head><body><header><nav>"
        "<a href='/news/category/policy'>Policy</a><a href='/careers'>Careers</a></nav></header><main>"
        f"<section class=featured>{featured.split('</a>')[0]}</a></section>"
        f"<section>{cards}</section><nav>{more}</nav>"
        "<p><a href='https://press.example/story'>In the press</a> <a href='/legal/terms'>Terms</a></p>"
        "</main><footer><a href='/legal/privacy'>Privacy</a></footer></body></html>"
    ).encode()


@pytest.fixture
def announcements(cli):
    def run(*args: str) -> list[dict]:
        return json.loads(cli("announcements", "list", "--json", *args).output)

    return run


GOV = "Acme signs an agreement with the Department of Defense for government logistics."


def test_an_html_listing_and_its_next_page_give_each_post_once_with_title_date_and_topics(
    site, load, crawl, announcements, cli
):
    site.pages["/news"] = Page(
        listing_page(
            card("/news/defense-deal", "Defence deal", "Mar 1, 2025")
            + card("/news/new-prices", "New prices", "Feb 20, 2025"),
            "<a href='/news/page/2' rel=next>Older posts</a>",
        )
    )
    site.pages["/news/page/2"] = Page(listing_page(card("/news/old-post", "Old post", "Jan 2, 2025")))
    serve_post(site, "/news/defense-deal", "Acme and the Department of Defense", GOV)
    serve_post(site, "/news/new-prices", "New prices", "Prices fall by half.", date="2025-02-20")
    serve_post(site, "/news/old-post", "Old post", "Nothing new.", date="2025-01-02")
    load(newsroom("acme-news", f"{site.url}/news"))

    crawl()

    posts = {p["url"]: p for p in announcements()}
    assert sorted(posts) == [f"{site.url}/news/{slug}" for slug in ("defense-deal", "new-prices", "old-post")]
    deal = posts[f"{site.url}/news/defense-deal"]
    assert deal["title"] == "Acme and the Department of Defense"
    assert deal["published"] == "2025-03-01T09:00:00+00:00"
    assert {"government"} <= set(deal["topics"]) and deal["versions"] == 1
    assert "government" not in posts[f"{site.url}/news/new-prices"]["topics"]  # only the boilerplate says it
    assert posts[f"{site.url}/news/new-prices"]["published"] == "2025-02-20"
    assert json.loads(cli("changes", "list", "--json").output) == []  # discovery is not a change


FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Acme blog</title>
<item><title>Acme for government</title><link>{url}/blog/gov/?utm_source=rss&amp;utm_medium=rss</link>
<pubDate>Tue, 25 Feb 2025 16:00:00 GMT</pubDate></item>
<item><title>Press: Acme in the news</title><link>https://press.example/acme</link></item>
</channel></rss>"""

SITEMAP = """<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{url}/</loc></url><url><loc>{url}/about</loc></url><url><loc>{url}/careers/engineer-12</loc></url>
<url><loc>{url}/legal/terms</loc></url><url><loc>{url}/newsroom</loc></url>
<url><loc>{url}/newsroom/series-b</loc><lastmod>2025-01-16</lastmod></url></urlset>"""


def test_a_feed_and_a_sitemap_are_told_by_their_content_and_list_only_posts(
    site, load, crawl, announcements, tmp_path
):
    site.pages["/blog/feed"] = Page(FEED.format(url=site.url).encode(), content_type="text/html")
    site.pages["/sitemap.xml"] = Page(SITEMAP.format(url=site.url).encode(), content_type="text/plain")
    serve_post(site, "/blog/gov/", "Acme for government", GOV, date="2025-02-25T16:00:00Z")
    site.html("/newsroom/series-b", "<h1>Acme raises a Series B</h1><p>Money for compute.</p>")
    for path in ("/", "/about", "/careers/engineer-12", "/legal/terms", "/newsroom"):
        site.html(path, "<p>Not a post.</p>")
    text = newsroom("acme-blog", f"{site.url}/blog/feed") + (
        f"      - slug: acme-press\n        listing: {site.url}/sitemap.xml\n"
    )
    load(text)

    crawl()

    posts = {p["url"]: p for p in announcements()}
    assert sorted(posts) == [f"{site.url}/blog/gov/", f"{site.url}/newsroom/series-b"]
    assert posts[f"{site.url}/blog/gov/"]["source"] == "acme-blog"
    assert posts[f"{site.url}/newsroom/series-b"]["title"] == "Acme raises a Series B"
    assert posts[f"{site.url}/newsroom/series-b"]["published"] == "2025-01-16"


def test_a_listing_error_page_discovers_and_removes_nothing_and_an_unpublished_post_goes_after_two_404s(
    site, load, crawl, announcements, cli
):
    both = card("/news/one", "One", "Mar 1, 2025") + card("/news/two", "Two", "Mar 2, 2025")
    site.pages["/news"] = Page(listing_page(both))
    serve_post(site, "/news/one", "One", "Prices are 10 dollars per million tokens.")
    serve_post(site, "/news/two", "Two", "A post that will be unpublished.")
    load(newsroom("acme-news", f"{site.url}/news", "follow: '/news/[a-z]+$'", "select: [article]"))
    crawl()

    error = b"<html><head><title>Maintenance</title></head><body><h1>503 Service Unavailable</h1></body>"
    site.pages["/news"] = Page(error)  # an error page with status 200
    site.pages.pop("/news/two")  # unpublished: 404 from now on
    serve_post(site, "/news/one", "One", "Prices are 12 dollars per million tokens.")
    crawl()
    after_one = {p["url"]: p for p in announcements()}
    site.pages["/news"] = Page(listing_page(card("/news/one", "One", "Mar 1, 2025")))
    crawl()
    after_two = {p["url"]: p for p in announcements()}

    assert after_one[f"{site.url}/news/two"]["removed"] is None  # one 404 is not enough
    assert after_two[f"{site.url}/news/two"]["removed"] is not None
    edited = after_two[f"{site.url}/news/one"]
    assert edited["removed"] is None and edited["versions"] == 2
    changes = json.loads(cli("changes", "list", "--json").output)
    assert [(c["document"], c["significance"]) for c in changes] == [(edited["document"], "substantive")]


def test_a_first_crawl_fetches_the_newest_posts_within_the_budget_and_the_rest_later(
    site, load, crawl, announcements
):
    cards = "".join(card(f"/news/post-{n}", f"Post {n}", f"Jan {n}, 2025") for n in (1, 3, 2))
    site.pages["/news"] = Page(listing_page(cards), etag='"v1"')  # the second crawl gets a 304
    for n in (1, 2, 3):
        serve_post(site, f"/news/post-{n}", f"Post {n}", "Text.", date=f"2025-01-0{n}")
    load(newsroom("acme-news", f"{site.url}/news"))

    crawl(env={"POLICYWATCH_ANNOUNCEMENT_BUDGET": "2"})
    first = {p["title"]: p["versions"] for p in announcements()}
    crawl(env={"POLICYWATCH_ANNOUNCEMENT_BUDGET": "2"})

    assert first == {"Post 3": 1, "Post 2": 1, "Post 1": 0}
    assert {p["title"]: p["versions"] for p in announcements()} == {"Post 3": 1, "Post 2": 1, "Post 1": 1}
    assert len(site.hits("/news/post-3")) == 2  # the posts fetched already are crawled again
    assert site.hits("/news")[-1][1].get("If-None-Match") == '"v1"'  # the listing's conditional GET


def test_announcements_list_filters_by_platform_and_time_and_prints_a_table(
    site, load, crawl, announcements, cli
):
    site.pages["/news"] = Page(listing_page(card("/news/gov-deal", "Gov deal", "Mar 1, 2025")))
    serve_post(site, "/news/gov-deal", "Gov deal", GOV)
    load(newsroom("acme-news", f"{site.url}/news"))
    crawl()

    (post,) = announcements("--platform", "acme")
    assert announcements("--platform", "other") == []
    assert announcements("--since", post["first_seen"]) == [post]
    assert announcements("--since", "2999-01-01") == []
    table = cli("announcements", "list").output.splitlines()
    assert table[0].split("\t")[:3] == ["published", "platform", "title"]
    assert table[1].split("\t")[:4] == [post["published"], "acme", "Gov deal", ",".join(post["topics"])]


def test_dates_written_out_are_read_and_a_page_not_found_served_with_200_is_gone(
    site, load, crawl, announcements
):
    cards = (
        "<article><h2><a href='/press/one'>First release</a></h2><span>March 3, 2025</span>"
        "<a href='/press/one'>Read more</a></article>"
        "<article><h2><a href='/press/two'>Second release</a></h2><span>2 March 2025</span>"
        "<a href='/press/two'>Read more</a></article>"
    )
    site.html("/press", f"<h1>Press</h1>{cards}", title="Press")
    release = "<h1>{}</h1><p>LONDON, 3 March 2025</p><p>Acme opens an office for public agencies.</p>"
    site.html("/press/one", release.format("First release"), title="First release")
    load(newsroom("acme-press", f"{site.url}/press"))
    crawl()
    site.html("/press/one", "<p>Sorry, this page could not be found.</p>", title="Page not found")
    crawl()
    once = {p["title"]: p for p in announcements()}
    crawl()
    twice = {p["title"]: p for p in announcements()}

    assert once["First release"]["published"] == "2025-03-03" and once["First release"]["removed"] is None
    assert once["Second release"]["published"] == "2025-03-02"  # from the card: its page never answered
    assert twice["First release"]["removed"] is not None and twice["Second release"]["removed"] is None


def test_a_related_posts_box_that_changes_with_every_new_post_is_no_edit(site, load, crawl, cli):
    def release(related: str) -> None:
        site.html(
            "/news/one",
            "<article><h1>One</h1><p>Acme opens a lab in Lisbon for its research teams.</p></article>"
            f"<section class='related-posts'><h2>Related</h2><h3>{related}</h3>"
            f"<p>A summary of {related.lower()} in a sentence or two.</p></section>",
            title="One",
        )

    site.pages["/news"] = Page(listing_page(card("/news/one", "One", "Mar 1, 2025")))
    release("Older news")
    load(newsroom("acme-news", f"{site.url}/news"))
    crawl()
    release("Newer news")
    crawl()

    assert json.loads(cli("changes", "list", "--json").output) == []


def read_times(db) -> dict[str, tuple]:
    """slug -> (last_read_at, next_read_at) of every announcement source."""
    with transaction(db.engine) as session:
        rows = session.execute(
            select(AnnouncementSource.slug, AnnouncementSource.last_read_at, AnnouncementSource.next_read_at)
        ).all()
    return {slug: (last, following) for slug, last, following in rows}


def test_crawl_due_reads_a_due_listing_when_no_document_is_due_and_leaves_a_listing_not_due(
    site, load, crawl, announcements, db
):
    site.html("/aup", "<h1>Acceptable use</h1><p>" + "Do not misuse the service. " * 20 + "</p>")
    site.pages["/news"] = Page(listing_page(card("/news/first", "First", "Mar 1, 2025")))
    site.pages["/blog"] = Page(listing_page(card("/blog/hello", "Hello", "Mar 1, 2025")))
    serve_post(site, "/news/first", "First", "Text.")
    serve_post(site, "/blog/hello", "Hello", "Text.")
    load(
        sources_yaml(document("acme-aup", f"{site.url}/aup", "schedule: 1d"))
        + f"    announcements:\n      - slug: acme-news\n        listing: {site.url}/news\n"
        "        schedule: 1h\n"
        f"      - slug: acme-blog\n        listing: {site.url}/blog\n"
    )
    crawl(env={"POLICYWATCH_ANNOUNCEMENT_SCHEDULE": "2d"})
    times = read_times(db)
    assert times["acme-news"][1] - times["acme-news"][0] == timedelta(hours=1)  # its own schedule
    assert times["acme-blog"][1] - times["acme-blog"][0] == timedelta(days=2)  # the setting's
    with transaction(db.engine) as session:  # an hour later: the news listing is due, nothing else
        source = session.scalars(select(AnnouncementSource).filter_by(slug="acme-news")).one()
        source.next_read_at = utcnow() - timedelta(minutes=1)
    news = card("/news/second", "Second", "Mar 2, 2025") + card("/news/first", "First", "Mar 1, 2025")
    site.pages["/news"] = Page(listing_page(news))
    site.pages["/blog"] = Page(listing_page(card("/blog/again", "Again", "Mar 2, 2025")))
    serve_post(site, "/news/second", "Second", "Text.")

    result = crawl("--due")

    assert "nothing to crawl" not in result.stdout
    assert {p["title"] for p in announcements()} == {"First", "Second", "Hello"}
    assert len(site.hits("/news")) == 2 and len(site.hits("/blog")) == 1  # the blog is not due
    assert len(db.events("acme-aup")) == 1  # nor is the document
    assert read_times(db)["acme-news"][1] > utcnow() + timedelta(minutes=50)
    assert "nothing to crawl" in crawl("--due").stdout  # read: not due again for an hour


def test_sources_list_and_status_show_each_listing_with_its_schedule_and_the_failing_ones_why(
    site, load, crawl, cli, db
):
    site.pages["/news"] = Page(listing_page(card("/news/first", "First", "Mar 1, 2025")))
    serve_post(site, "/news/first", "First", "Text.")
    load(
        newsroom("acme-news", f"{site.url}/news", "schedule: 1h")
        + f"      - slug: acme-blog\n        listing: {site.url}/blog\n"  # answers 404
    )
    env = {"POLICYWATCH_ANNOUNCEMENT_SCHEDULE": "2d"}
    before = [line.split("\t") for line in cli("sources", "list", env=env).output.splitlines()]
    assert [(r[1], r[3], r[4], r[5], r[6]) for r in before[before.index([""]) + 2 :]] == [
        ("acme-blog", "2d", "never", "now", "new"),
        ("acme-news", "1h", "never", "now", "new"),
    ]
    crawl(env=env)
    times = read_times(db)

    rows = [line.split("\t") for line in cli("sources", "list", env=env).output.splitlines()]
    listings = rows[rows.index([""]) + 1 :]
    assert listings[0] == [
        "platform", "newsroom", "listing", "schedule", "last read", "next due", "status", "reason"
    ]  # fmt: skip
    news_next = times["acme-news"][1].strftime("%Y-%m-%d %H:%M")
    assert listings[2] == [
        "acme", "acme-news", f"{site.url}/news", "1h",
        times["acme-news"][0].strftime("%Y-%m-%d %H:%M"), news_next, "ok", "",
    ]  # fmt: skip
    assert listings[1][:4] == ["acme", "acme-blog", f"{site.url}/blog", "2d"]
    assert listings[1][6:] == ["failing", f"{site.url}/blog: HTTP 404"]

    status = json.loads(cli("status", "--json", env=env).output)
    blog, news = status["listings"]
    assert (blog["slug"], blog["due"], blog["failing"]) == ("acme-blog", False, True)
    assert (news["schedule"], news["due"], news["failing"], news["reason"]) == ("1h", False, False, None)
    with transaction(db.engine) as session:  # an hour later the news listing is due
        source = session.scalars(select(AnnouncementSource).filter_by(slug="acme-news")).one()
        source.next_read_at = utcnow() - timedelta(minutes=1)
    text = cli("status", env=env).output.splitlines()
    assert "newsroom listings: 2, due: 1, failing: 1" in text
    [blog_line] = [line for line in text if line.startswith("listing acme/acme-blog\t")]
    blog_times = f"\tlast {blog['last_read']}\tnext {blog['next_read']}"
    assert blog_line.endswith(f"\tevery 2d{blog_times}\tfailing: {site.url}/blog: HTTP 404")
    [news_line] = [line for line in text if line.startswith("listing acme/acme-news\t")]
    assert news_line.endswith("\tevery 1h\tlast " + news["last_read"] + "\tnext due\tok")
    listed = cli("sources", "list", env=env).output.splitlines()[-1].split("\t")
    assert (listed[1], listed[5], listed[6]) == ("acme-news", "now", "due")
