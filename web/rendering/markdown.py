"""A version's Markdown as safe HTML: markdown-it-py (CommonMark with tables) renders it, raw HTML in
the text stays text, and nh3 keeps only the tags and attributes a policy's text needs."""

from __future__ import annotations

import functools

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    *("h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote", "pre", "code"),
    *("ul", "ol", "li", "strong", "em", "del", "ins", "sub", "sup"),
    *("table", "thead", "tbody", "tr", "th", "td"),
}
ALLOWED_ATTRIBUTES = {"ol": {"start"}, "th": {"colspan", "style"}, "td": {"colspan", "style"}}


@functools.cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")


def render_markdown(text: str) -> Markup:
    """``text`` (a version's Markdown) as sanitised HTML."""
    html = _parser().render(text)
    return Markup(nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, link_rel=None))
