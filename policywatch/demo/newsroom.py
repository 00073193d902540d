"""The demo's sample newsroom: fictional posts, each page marked as a sample, that the replay server
lists under one replayed platform so a crawl discovers a new post beside a real policy change.

A post is listed from its ``from_tick`` on, and dated ``days_old`` days before that replayed crawl's
day: the crawls are recorded as of their replayed times, so a post of that day is news to the
same-day alerts and an older one back catalogue, as on the day the crawl was made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from pathlib import Path


@dataclass(frozen=True)
class SamplePost:
    """One fictional post: where it is served, from which tick, how old it is then, what it says."""

    slug: str
    from_tick: int
    days_old: int
    title: str
    paragraphs: list[str]

    def published(self, days: list[date]) -> date:
        """The post's date: ``days_old`` before the day of the first crawl listing it (``days``: the
        day of each replayed crawl)."""
        return days[self.from_tick] - timedelta(days=self.days_old)


@dataclass(frozen=True)
class SampleNewsroom:
    """The sample listing of ``platform`` at ``path`` (/<host>/<folder>/ on the replay server)."""

    notice: str
    platform: str
    slug: str
    name: str
    path: str
    posts: list[SamplePost]

    @classmethod
    def load(cls, path: Path) -> SampleNewsroom:
        """The sample newsroom described by the JSON file at ``path``."""
        data = json.loads(path.read_text())
        return cls(**{**data, "posts": [SamplePost(**post) for post in data["posts"]]})

    def listed(self, tick: int) -> list[SamplePost]:
        """The posts the listing shows at ``tick``, newest first."""
        return [post for post in reversed(self.posts) if post.from_tick <= tick]

    def page(self, path: str, tick: int, days: list[date]) -> bytes | None:
        """The listing or a post page served at ``path`` at ``tick``, posts dated from ``days`` (the
        day of each replayed crawl); None for any other path."""
        if path == self.path:
            return self._listing(tick, days).encode()
        for post in self.listed(tick):
            if path == f"{self.path}{post.slug}/":
                return self._post(post, days).encode()
        return None

    def _listing(self, tick: int, days: list[date]) -> str:
        cards = "".join(
            f'<li><article><h2><a href="{post.slug}/">{escape(post.title)}</a></h2>'
            f"{_time(post.published(days))}<p>{escape(post.paragraphs[0])}</p></article></li>"
            for post in self.listed(tick)
        )
        body = f'<h1>{escape(self.name)}</h1><p class="sample">{escape(self.notice)}</p><ul>{cards}</ul>'
        return _html(self.name, body, self.notice)

    def _post(self, post: SamplePost, days: list[date]) -> str:
        paragraphs = "".join(f"<p>{escape(text)}</p>" for text in post.paragraphs)
        day = post.published(days).isoformat()
        body = (
            f"<article><h1>{escape(post.title)}</h1>{_time(post.published(days))}"
            f'<p class="sample">{escape(self.notice)}</p>{paragraphs}</article>'
        )
        head = f'<meta property="article:published_time" content="{day}">'
        return _html(f"{post.title} | {self.name}", body, self.notice, head)


def _time(day: date) -> str:
    return f'<time datetime="{day.isoformat()}">{day:%B} {day.day}, {day.year}</time>'


def _html(title: str, main: str, notice: str, head: str = "") -> str:
    """A whole page: ``main`` between a header and a footer repeating ``notice``."""
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>{head}'
        f"</head><body><header><p>policywatch demo</p></header><main>{main}</main>"
        f"<footer><p>{escape(notice)}</p></footer></body></html>"
    )
