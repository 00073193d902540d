"""Which links of a newsroom are posts, and the one URL each post goes by.

A post's URL loses its tracking parameters and fragment. Without a declared ``follow`` pattern a
link is a post when it is on the listing's site, under the listing's folder (or, when nothing is,
in the one folder most links share), and its path looks like an article: no category, tag, author,
careers, legal or other section page, no pagination.
"""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: Query parameters that track a click and never name another page.
TRACKING = re.compile(
    r"^(?:utm_\w*|ref|ref_src|source|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_hsenc|_hsmi|mkt_tok|"
    r"igshid|yclid|spm|cmpid|campaign|at_\w+)$",
    re.I,
)
#: Path segments of pages that are not posts.
NOT_POSTS = frozenset(
    "category categories tag tags topic topics author authors archive archives page search feed rss atom "
    "careers career jobs job openings join legal privacy privacy-policy terms terms-of-service terms-of-use "
    "cookies cookie-policy imprint impressum about about-us contact login signin sign-in signup sign-up "
    "subscribe newsletter press-kit brand media-kit events webinars docs pricing".split()
)
#: Folders whose name says they hold posts.
NEWS_FOLDER = re.compile(
    r"^(?:news|newsroom|blog|blogs|posts?|press|press-releases|announcements|updates|"
    r"stories|articles|insights|index|releases)$",
    re.I,
)
#: Sitemaps of a sitemap index that list posts (``post-sitemap.xml``, ``news-sitemap.xml``).
POST_SITEMAP = re.compile(r"post|news|blog|press|article|announce|stor(y|ies)|update", re.I)
#: Files that are not pages.
ASSET = re.compile(r"\.(?:css|js|json|xml|rss|atom|png|jpe?g|gif|svg|webp|ico|pdf|zip|mp4|mp3|woff2?)$", re.I)


def clean_url(url: str) -> str:
    """``url`` without tracking parameters and fragment, its host lowercased."""
    parts = urlsplit(url.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING.match(k)]
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", urlencode(query), ""))


def same_site(url: str, listing: str) -> bool:
    """Whether ``url`` is on the listing's site: the same host, or hosts of the same domain
    (``blog.acme.com`` and ``www.acme.com``)."""
    return _site(url) == _site(listing)


def _site(url: str) -> str:
    """The site of a URL: its domain's last two labels, or the whole host for an address or a port."""
    host = urlsplit(url).netloc.lower()
    if ":" in host or re.fullmatch(r"[\d.]+", host):
        return host
    return ".".join(host.split(".")[-2:])


def folder(url: str) -> str:
    """The folder a URL's page sits in: ``/news/`` for ``/news`` and ``/news/``, ``/blog/`` for
    ``/blog/feed.xml``."""
    path = urlsplit(url).path or "/"
    if "." in path.rsplit("/", 1)[-1]:
        return path.rsplit("/", 1)[0] + "/"
    return path.rstrip("/") + "/"


def article_like(url: str, base: str) -> bool:
    """Whether ``url`` looks like one article below the folder ``base``: no section word in the
    path below it, no asset, no pagination."""
    parts = urlsplit(url)
    if not parts.path.startswith(base) or ASSET.search(parts.path):
        return False
    below = [s for s in parts.path[len(base) :].split("/") if s]
    if not below or below[-1].isdigit():
        return False
    return not any(s.lower() in NOT_POSTS for s in below)


def posts_among(urls: list[str], listing: str, follow: str | None, grouped: bool = False) -> list[str]:
    """The cleaned post URLs among ``urls`` (absolute links in listing order), each once.

    ``follow`` is searched in each raw URL. Otherwise the automatic rules apply; ``grouped`` (a
    sitemap, which lists a whole site) keeps only posts of news folders, or of folders of three or more."""
    pattern = re.compile(follow) if follow else None
    home = clean_url(listing)
    found: list[str] = []
    for url in urls:
        if pattern is not None and not pattern.search(url):
            continue
        cleaned = clean_url(url)
        if cleaned == home or cleaned in found or not cleaned.startswith(("http://", "https://")):
            continue
        if pattern is None and not same_site(cleaned, listing):
            continue
        found.append(cleaned)
    if pattern is not None:
        return found
    under = [u for u in found if article_like(u, folder(listing))]
    if grouped:
        return _news_folders(under)
    if under:
        return under
    return _news_folders([u for u in found if article_like(u, "/")])


def _news_folders(urls: list[str]) -> list[str]:
    """The URLs in folders named for news, else in folders holding three or more of them."""
    parent = {u: urlsplit(u).path.rstrip("/").rsplit("/", 1)[0] + "/" for u in urls}
    named = [u for u in urls if any(NEWS_FOLDER.match(s) for s in parent[u].split("/") if s)]
    if named:
        return named
    sizes = Counter(parent.values())
    return [u for u in urls if sizes[parent[u]] >= 3]
