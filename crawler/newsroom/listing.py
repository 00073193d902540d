"""Reading a newsroom listing: an HTML page of cards, an RSS/Atom feed or a sitemap, told apart by
their content, into the posts it lists (URL, title and date as listed) and its further pages.

A listing that cannot be read (an error page served with 200, a feed that turned into an HTML page,
nothing that looks like a post) is a failure: it discovers nothing and removes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qsl, urljoin, urlsplit

from lxml import html

from crawler.newsroom.dates import iso_date, written_date
from crawler.newsroom.items import Listed
from crawler.newsroom.links import POST_SITEMAP, clean_url, posts_among
from policywatch.verdicts import Failure, FailureKind

#: The root element names of feeds and sitemaps.
FEED_ROOTS = ("rss", "feed", "rdf")
SITEMAP_ROOTS = ("urlset", "sitemapindex")
#: Link texts of a listing's next page.
NEXT_TEXT = re.compile(
    r"^\s*(?:next|older|more|see more|show more|load more|view more|older posts|"
    r"next page|more posts|more news|[›»→>]+)\b|^\s*[›»→]\s*$",
    re.I,
)
#: Query parameters and path segments that number a listing's pages.
PAGE_PARAM = re.compile(r"^(?:page|p|pg|paged|offset|start)$", re.I)
PAGE_PATH = re.compile(r"/page/\d+/?$")


@dataclass
class Listing:
    """What one listing page holds: its kind, its posts in listing order, and its further pages."""

    kind: str
    posts: list[Listed] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    #: further sitemaps of a sitemap index
    sitemaps: list[str] = field(default_factory=list)
    failure: Failure | None = None


def listing_kind(body: bytes) -> str:
    """``feed``, ``sitemap`` or ``html``, from the first element of ``body``."""
    head = body[:4096].decode("utf-8", "replace")
    head = re.sub(r"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", "", head, flags=re.S | re.I).lstrip(
        "\ufeff \t\r\n"
    )
    match = re.match(r"<\s*([\w:.-]+)", head)
    name = match[1].lower().split(":")[-1] if match else ""
    if name in FEED_ROOTS:
        return "feed"
    if name in SITEMAP_ROOTS:
        return "sitemap"
    return "html"


def read_listing(
    body: bytes, url: str, follow: str | None, now: datetime, expected: str | None = None
) -> Listing:
    """The posts and further pages of the listing ``body`` fetched from ``url`` at ``now``;
    ``expected`` is the kind it had before (a feed that turns into a page has failed)."""
    kind = listing_kind(body)
    if expected and expected != "html" and kind != expected:
        return _failed(kind, f"the {expected} answered with an HTML page")
    reader = {"feed": _feed, "sitemap": _sitemap, "html": _html}[kind]
    listing = reader(body, url, follow, now)
    if listing.failure is None and not listing.posts and not listing.sitemaps:
        listing.failure = Failure(FailureKind.EMPTY_SELECTION, f"no posts found on the {kind} listing")
    return listing


def _failed(kind: str, reason: str, what: FailureKind = FailureKind.ERROR_PAGE) -> Listing:
    return Listing(kind, failure=Failure(what, reason))


def _feed(body: bytes, url: str, follow: str | None, now: datetime) -> Listing:
    import feedparser

    parsed = feedparser.parse(body)
    listed: dict[str, Listed] = {}
    links = []
    for entry in parsed.entries:
        link = entry.get("link") or next(
            (lk.get("href") for lk in entry.get("links", []) if lk.get("rel") == "alternate"), None
        )
        if not link:
            continue
        link = urljoin(url, link)
        links.append(link)
        stamp = entry.get("published") or entry.get("updated")
        listed.setdefault(
            clean_url(link), Listed(clean_url(link), _text(entry.get("title")), iso_date(stamp, now))
        )
    return Listing("feed", [listed[u] for u in posts_among(links, url, follow)])


def _sitemap(body: bytes, url: str, follow: str | None, now: datetime) -> Listing:
    from scrapy.utils.sitemap import Sitemap

    try:
        sitemap = Sitemap(body)
        entries = list(sitemap)
    except Exception as exc:  # lxml refuses what is not XML
        return _failed("sitemap", f"not a readable sitemap: {exc}")
    locations = [urljoin(url, e["loc"].strip()) for e in entries if e.get("loc")]
    if sitemap.type == "sitemapindex":
        named = [u for u in locations if POST_SITEMAP.search(urlsplit(u).path.rsplit("/", 1)[-1])]
        return Listing("sitemap", sitemaps=named or locations)
    lastmod = {clean_url(urljoin(url, e["loc"].strip())): e.get("lastmod") for e in entries if e.get("loc")}
    posts = posts_among(locations, url, follow, grouped=True)
    return Listing("sitemap", [Listed(u, None, iso_date(lastmod.get(u), now)) for u in posts])


def _html(body: bytes, url: str, follow: str | None, now: datetime) -> Listing:
    from crawler.fetch.blocked import short_page_reason, title_reason

    doc = html.document_fromstring(body)
    reason = title_reason(doc) or short_page_reason(doc, body)
    if reason:
        return _failed("html", f"the listing is an {reason.detail}")
    anchors = [
        (a, urljoin(url, a.get("href", "").strip()))
        for a in doc.iter("a")
        if a.get("href") and not a.get("href", "").startswith(("#", "mailto:", "javascript:"))
    ]
    content = [(a, href) for a, href in anchors if not _in_chrome(a)]
    posts = posts_among([href for _, href in content], url, follow)
    cards: dict[str, Listed] = {u: Listed(u) for u in posts}
    for anchor, href in content:
        card = cards.get(clean_url(href))
        if card is not None:
            _read_card(card, _card(anchor, clean_url(href)), now)
    return Listing("html", list(cards.values()), _next_pages(doc, anchors, url))


def _in_chrome(element: html.HtmlElement) -> bool:
    """Whether ``element`` is in the page's header, footer or navigation."""
    return any(
        parent.tag in ("header", "footer", "nav") and not parent.xpath("ancestor::article|ancestor::main")
        for parent in element.iterancestors()
    )


def _card(anchor: html.HtmlElement, target: str) -> html.HtmlElement:
    """The largest element around ``anchor`` that links to no other page than ``target``."""
    card = anchor
    for parent in anchor.iterancestors():
        targets = {clean_url(urljoin(target, a.get("href", ""))) for a in parent.iter("a") if a.get("href")}
        if targets - {target} or parent.tag in ("body", "main", "section", "ul", "ol"):
            break
        card = parent
    return card


def _read_card(listed: Listed, card: html.HtmlElement, now: datetime) -> None:
    """Fill ``listed``'s title (a card's heading first) and date from its card, where it has not got
    them yet; a bare link's text stands in as title until a card with a heading says better."""
    headings = card.xpath(".//*[self::h1 or self::h2 or self::h3 or self::h4 or self::h5]")
    if headings and (listed.title is None or listed.title_from_link):
        listed.title, listed.title_from_link = _text(headings[0].text_content()), False
    elif listed.title is None and card.tag == "a" and not card.xpath(".//time"):
        text = _text(" ".join(card.itertext()))
        listed.title, listed.title_from_link = (text, True) if text and len(text) > 12 else (None, False)
    if listed.published is None:
        for stamp in card.xpath(".//time"):
            listed.published = iso_date(stamp.get("datetime"), now) or iso_date(stamp.text_content(), now)
            if listed.published:
                return
        if card.tag != "a" or card.xpath(".//*"):
            listed.published = written_date(" ".join(card.itertext()), now)


def _next_pages(doc: html.HtmlElement, anchors: list, url: str) -> list[str]:
    """The listing's next pages: rel=next, a "Next"/"Older"/"See more" link, or page 2 of a
    numbered listing."""
    here = clean_url(url)
    found = [urljoin(url, link.get("href")) for link in doc.xpath("//link[@rel='next'][@href]")]
    for anchor, href in anchors:
        rel = (anchor.get("rel") or "").lower().split()
        if "next" in rel or NEXT_TEXT.match(anchor.text_content() or "") or _numbers_page(href, url, 2):
            found.append(href)
    pages: list[str] = []
    for page in found:
        cleaned = clean_url(page)
        if cleaned != here and cleaned not in pages and _same_listing(cleaned, url):
            pages.append(cleaned)
    return pages


def _numbers_page(href: str, url: str, number: int) -> bool:
    """Whether ``href`` is page ``number`` (0: any page) of the listing at ``url``."""
    target, base = urlsplit(href), urlsplit(url)
    pages = [v for k, v in parse_qsl(target.query) if PAGE_PARAM.match(k)]
    in_path = PAGE_PATH.search(target.path)
    if target.path.rstrip("/") == base.path.rstrip("/") and pages:
        return number == 0 or pages[0] == str(number)
    if in_path and target.path.startswith(base.path.rstrip("/")):
        return number == 0 or in_path[0].strip("/").endswith(f"/{number}")
    return False


def _same_listing(page: str, url: str) -> bool:
    """Whether ``page`` is another page of the listing at ``url`` (same path, or /page/N below it)."""
    target, base = urlsplit(page), urlsplit(url)
    if target.netloc != base.netloc:
        return False
    return target.path.rstrip("/") == base.path.rstrip("/") or bool(
        PAGE_PATH.search(target.path) and target.path.startswith(base.path.rstrip("/"))
    )


def _text(value: str | None) -> str | None:
    text = " ".join((value or "").split())
    return text or None
