"""What the newsroom readers hand the store: a post as a listing shows it, and what its page says."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Listed:
    """One post as a listing shows it."""

    url: str
    title: str | None = None
    published: str | None = None


@dataclass
class PostPage:
    """A post's page, as far as its markup tells."""

    canonical: str | None = None
    title: str | None = None
    published: str | None = None
    #: the page is an error page served with 200 ("Page not found"): the post is gone
    gone: bool = False
