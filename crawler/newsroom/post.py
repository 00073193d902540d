"""What a post's own page says about it: its canonical URL, headline and publication date, from
JSON-LD, meta tags, the article's heading and ``<time>``, in that order of trust."""

from __future__ import annotations

import json
import re
from datetime import datetime
from urllib.parse import urljoin

from lxml import html

from crawler.newsroom.dates import iso_date, written_date
from crawler.newsroom.items import PostPage
from crawler.newsroom.links import clean_url, same_site

#: Meta tags that carry a publication date (property or name).
DATE_META = (
    "article:published_time",
    "og:published_time",
    "datepublished",
    "publish-date",
    "publish_date",
    "pubdate",
    "date",
    "dc.date",
    "dc.date.issued",
    "dcterms.created",
    "parsely-pub-date",
    "sailthru.date",
)
ARTICLE_TYPES = re.compile(r"Article|BlogPosting|NewsArticle|Report|PressRelease|WebPage", re.I)


def read_post(body: bytes, url: str, now: datetime) -> PostPage:
    """The canonical URL, headline and publication date of the post page ``body`` from ``url``."""
    from crawler.fetch.blocked import title_reason

    try:
        doc = html.document_fromstring(body)
    except (ValueError, html.etree.ParserError):
        return PostPage()
    if title_reason(doc) is not None:
        return PostPage(gone=True)
    ld = _json_ld(doc)
    meta = {
        (m.get("property") or m.get("name") or m.get("itemprop") or "").lower(): m.get("content")
        for m in doc.iter("meta")
        if m.get("content")
    }
    return PostPage(_canonical(doc, url), _title(doc, ld, meta), _published(doc, ld, meta, now))


def _canonical(doc: html.HtmlElement, url: str) -> str | None:
    for link in doc.xpath("//link[@href]"):
        if "canonical" in (link.get("rel") or "").lower().split():
            canonical = clean_url(urljoin(url, link.get("href").strip()))
            return canonical if same_site(canonical, url) else None
    return None


def _json_ld(doc: html.HtmlElement) -> dict:
    """The first article-like object of the page's JSON-LD, or {}."""
    for script in doc.xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text_content())
        except ValueError:
            continue
        items = (
            data if isinstance(data, list) else data.get("@graph", [data]) if isinstance(data, dict) else []
        )
        for item in items:
            kind = item.get("@type") if isinstance(item, dict) else None
            kinds = kind if isinstance(kind, list) else [kind]
            if any(isinstance(k, str) and ARTICLE_TYPES.search(k) for k in kinds):
                return item
    return {}


def _title(doc: html.HtmlElement, ld: dict, meta: dict) -> str | None:
    heading = _first_text(doc, "//article//h1 | //main//h1 | //h1")
    site = _clean(meta.get("og:site_name"))
    for candidate in (ld.get("headline"), meta.get("og:title"), meta.get("twitter:title")):
        text = _without_site(_clean(candidate), site)
        if text:
            return heading if heading and text != heading and text.startswith(heading) else text
    if heading:
        return heading
    title = _clean(doc.findtext(".//title"))
    return re.split(r"\s+[|·—–-]\s+[^|·—–-]+$", title)[0] if title else None


def _without_site(title: str | None, site: str | None) -> str | None:
    """``title`` without a trailing " | Site" naming the site."""
    if title and site and title != site and title.endswith(site):
        return re.sub(r"\s*[|·—–-]\s*$", "", title[: -len(site)]) or title
    return title


def _published(doc: html.HtmlElement, ld: dict, meta: dict, now: datetime) -> str | None:
    for stamp in (ld.get("datePublished"), *(meta.get(name) for name in DATE_META)):
        found = iso_date(stamp, now) if isinstance(stamp, str) else None
        if found:
            return found
    for time in doc.xpath("//article//time | //main//time | //time"):
        if time.xpath("ancestor::aside | ancestor::nav | ancestor::footer"):
            continue
        found = iso_date(time.get("datetime"), now) or iso_date(time.text_content(), now)
        if found:
            return found
    return _dateline(doc, now) or _htmldate(doc)


def _dateline(doc: html.HtmlElement, now: datetime) -> str | None:
    """A date written near the article's headline ("CAMBRIDGE, 16 January 2025", "Posted Mar 3, 2025")."""
    heading = next(iter(doc.xpath("//article//h1 | //main//h1 | //h1")), None)
    if heading is None:
        return None
    for text in heading.xpath("following::text()[normalize-space()][position() <= 8]"):
        found = written_date(text, now)
        if found:
            return found
    return None


def _htmldate(doc: html.HtmlElement) -> str | None:
    """htmldate's reading of the page's original date, as a last resort."""
    from htmldate import find_date

    try:
        return find_date(doc, original_date=True, extensive_search=False)
    except Exception:  # htmldate gives up on odd markup; no date is the answer then
        return None


def _first_text(doc: html.HtmlElement, xpath: str) -> str | None:
    for element in doc.xpath(xpath):
        text = _clean(element.text_content())
        if text:
            return text
    return None


def _clean(value: str | None) -> str | None:
    text = " ".join((value or "").split())
    return text or None
