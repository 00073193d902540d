"""The digest of a selected region: a SHA-256 over exactly what its Markdown is made of.

The region has been pruned of what is never content and of every attribute the Markdown does not
show (``visibility.prune``), whitespace next to block elements is trimmed (markdownify drops it too),
and the region is serialised by lxml with whitespace runs collapsed; preformatted text is added
raw. Nonces, build ids, class names, ``data-*`` attributes, link targets and tracking parameters
therefore never reach the digest. Digest and Markdown are made from the same pruned tree, so the
same digest means the same Markdown, and computing it converts nothing. The work is done by lxml
and on bytes: a few milliseconds where the conversion costs a hundred.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from lxml import etree, html

from crawler.extract.word_boundaries import EXTRA_BLOCK_TAGS

#: The Markdown's block elements: whitespace just inside or outside them never reaches it (for
#: ``pre``, only outside).
BLOCK_TAGS = (
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "blockquote",
    "article",
    "div",
    "section",
    "ol",
    "ul",
    "li",
    "dl",
    "dt",
    "dd",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "td",
    "th",
    "pre",
    *EXTRA_BLOCK_TAGS,
)
#: Invisible characters and unusual spaces in UTF-8, and what they become.
_BYTE_REPLACEMENTS = {
    char.encode(): replacement.encode()
    for char, replacement in [
        *((c, "") for c in "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad"),
        *((c, " ") for c in "\u00a0\u2002\u2003\u2007\u2008\u2009\u200a\u202f\u205f\u3000"),
    ]
}
_UNUSUAL = re.compile(b"|".join(map(re.escape, _BYTE_REPLACEMENTS)))


@dataclass(frozen=True)
class Digested:
    """A region's digest and its visible text (whitespace collapsed)."""

    digest: str
    text: str


def digest_region(roots: list[html.HtmlElement]) -> Digested:
    """The digest and visible text of pruned ``roots``; trims whitespace next to blocks in place,
    as the Markdown conversion would."""
    markup, texts = [], []
    for root in roots:
        _trim_block_whitespace(root)
        markup.append(_squash(etree.tostring(root, encoding="utf-8", method="html", with_tail=False)))
        markup.extend(text.encode() for pre in root.iter("pre") for text in pre.itertext())
        texts.append(
            b" ".join(etree.tostring(root, encoding="utf-8", method="text", with_tail=False).split())
        )
    return Digested(hashlib.sha256(b"\x00".join(markup)).hexdigest(), b" ".join(texts).decode().strip())


def _trim_block_whitespace(root: html.HtmlElement) -> None:
    for block in root.iter(*BLOCK_TAGS):
        if block.tag != "pre":
            if block.text:
                block.text = block.text.lstrip()
            last = block[-1] if len(block) else None
            if last is not None and last.tail:
                last.tail = last.tail.rstrip()
            elif last is None and block.text:
                block.text = block.text.rstrip()
        if block is root:
            continue
        if block.tail:
            block.tail = block.tail.lstrip()
        previous = block.getprevious()
        if previous is not None:
            if previous.tail:
                previous.tail = previous.tail.rstrip()
        else:
            parent = block.getparent()
            if parent.text:
                parent.text = parent.text.rstrip()


def _squash(data: bytes) -> bytes:
    if not data.isascii():
        data = _UNUSUAL.sub(lambda found: _BYTE_REPLACEMENTS[found.group()], data)
    return b" ".join(data.split())
