"""What the newsroom readers hand the store: a post as a listing shows it, and what its page says."""

from __future__ import annotations

from dataclasses import dataclass

#: What a post's page loses before extraction, whatever its ``select``: the boxes of other posts
#: (related, read next, more news, recommended) and newsletter sign-ups, which change with every new
#: post and are not the post.
POST_CHROME = [
    f"{tag}[class*={word}]"
    for word in (
        "related",
        "Related",
        "read-next",
        "readnext",
        "more-news",
        "MoreNews",
        "recommended",
        "newsletter",
        "Newsletter",
    )
    for tag in ("div", "section", "aside", "ul", "ol")
]


@dataclass
class Listed:
    """One post as a listing shows it."""

    url: str
    title: str | None = None
    published: str | None = None
    #: the title is a bare link's text, not a card's heading
    title_from_link: bool = False


@dataclass
class PostPage:
    """A post's page, as far as its markup tells."""

    canonical: str | None = None
    title: str | None = None
    published: str | None = None
    #: the page is an error page served with 200 ("Page not found"): the post is gone
    gone: bool = False
