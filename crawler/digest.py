"""The digest of a selected region: a SHA-256 over exactly what its Markdown is made of.

One walk over the region collects tag names, the few attributes the Markdown shows (an ordered
list's ``start``, a cell's ``colspan``), text with whitespace collapsed, and the raw text of
preformatted blocks. Everything ``visibility.is_dropped`` names is skipped, so nonces, build ids,
class names, ``data-*`` attributes, link targets and tracking parameters never reach the digest.
Same digest therefore means same Markdown, and computing it converts nothing.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from lxml import etree, html

from crawler.normalize import collapse_whitespace
from crawler.visibility import is_dropped

_SHOWN_ATTRIBUTES = {"ol": "start", "td": "colspan", "th": "colspan"}
#: Whitespace next to these tags never reaches the Markdown (markdownify's block elements).
_SPACE_AROUND_BLOCK = re.compile(
    r" ?(</?(?:h[1-6]|p|blockquote|article|div|section|ol|ul|li|dl|dt|dd|table|thead|tbody|tfoot|tr|td|th|pre)"
    r"(?: [^>]*)?>) ?")


@dataclass(frozen=True)
class Walk:
    """What one walk over a region found."""

    digest: str
    text: str  # visible text, whitespace collapsed
    dropped: tuple[html.HtmlElement, ...]  # elements that are never content, to remove before conversion


def walk(roots: list[html.HtmlElement]) -> Walk:
    """Digest, visible text and dropped elements of the region made of ``roots``."""
    markup: list[str] = []
    texts: list[str] = []
    preformatted: list[str] = []
    dropped: list[html.HtmlElement] = []
    for root in roots:
        walker = etree.iterwalk(root, events=("start", "end", "comment", "pi"))
        skipping = None
        for event, element in walker:
            if event in ("comment", "pi"):
                _append_tail(element, root, markup, texts)
            elif event == "start":
                if element is not root and is_dropped(element):
                    dropped.append(element)
                    skipping = element
                    walker.skip_subtree()
                    continue
                tag = element.tag
                attribute = _SHOWN_ATTRIBUTES.get(tag)
                value = element.get(attribute) if attribute else None
                markup.append(f"<{tag} {value}>" if value else f"<{tag}>")
                if tag == "pre":
                    preformatted.append("".join(element.itertext()))
                    texts.append(preformatted[-1])
                    skipping = element
                    walker.skip_subtree()
                elif element.text:
                    markup.append(element.text.replace("<", "&lt;"))
                    texts.append(element.text)
            else:
                if element is skipping:
                    skipping = None
                    if element.tag != "pre":
                        _append_tail(element, root, markup, texts)
                        continue
                markup.append(f"</{element.tag}>")
                _append_tail(element, root, markup, texts)
    hashed = _SPACE_AROUND_BLOCK.sub(r"\1", collapse_whitespace("".join(markup))) + "\x00" + "\x00".join(preformatted)
    return Walk(hashlib.sha256(hashed.encode()).hexdigest(), collapse_whitespace(" ".join(texts)).strip(),
                tuple(dropped))


def _append_tail(element: html.HtmlElement, root: html.HtmlElement, markup: list[str], texts: list[str]) -> None:
    if element.tail and element is not root:
        markup.append(element.tail.replace("<", "&lt;"))
        texts.append(element.tail)
