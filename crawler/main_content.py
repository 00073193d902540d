"""Automatic main-content extraction, for sources declared without a selector.

The page's own landmark is trusted first: the ``main`` element (or ``role=main``) with the most
text, else the ``article`` (or ``role=article``) with the most text, else ``body``. Inside it,
navigation, side bars and dialogs are removed, and around it (body only) the page header and
footer. Then, beside the main text flow (the chain of blocks each holding most of its parent's
text), blocks hidden by an inline style and menus (blocks made only of a few-word labels) are
removed: pages built of plain ``div``s mark neither their menus nor their app-download panels.
See docs/extraction.md for the comparison with trafilatura that chose this.
"""
from __future__ import annotations

import re

from lxml import html

LANDMARKS = ("//main | //*[@role='main']", "//article | //*[@role='article']")
CHROME = ("nav", "aside", "dialog", "[role=navigation]", "[role=complementary]", "[role=dialog]",
          "[role=alertdialog]", "[aria-modal=true]", "[role=search]")
PAGE_CHROME = ("header", "footer", "[role=banner]", "[role=contentinfo]")
_TEXT = "string-length(normalize-space(string(.)))"
_VISIBLE_TEXT = ".//text()[not(ancestor::script or ancestor::style or ancestor::noscript or ancestor::template)]"
FLOW_SHARE = 0.6     # a child holding this share of its parent's text carries the main text flow
MENU_LABELS = 4      # a block of at least this many labels, and nothing else, is a menu ...
LABEL_WORDS = 4      # ... a label being at most this many words without sentence punctuation
HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden")


def main_content(doc: html.HtmlElement) -> html.HtmlElement | None:
    """The element holding the page's main content, its chrome removed; None if the page has no body."""
    region = _landmark(doc)
    if region is None:
        region = doc.find("body")
        if region is None:
            return None
        _drop(region, CHROME + PAGE_CHROME)
    else:
        _drop(region, CHROME)
    _drop_beside_flow(region)
    return region


def _landmark(doc: html.HtmlElement) -> html.HtmlElement | None:
    for query in LANDMARKS:
        found = [element for element in doc.xpath(query) if not _inside_chrome(element)]
        if found:
            best = max(found, key=lambda element: element.xpath(_TEXT))
            if best.xpath(_TEXT) > 0:
                return best
    return None


def _inside_chrome(element: html.HtmlElement) -> bool:
    return any(ancestor.tag in ("nav", "aside", "footer", "dialog") for ancestor in element.iterancestors())


def _drop(region: html.HtmlElement, selectors: tuple[str, ...]) -> None:
    for element in region.cssselect(", ".join(selectors)):
        if element is not region and element.getparent() is not None:
            element.drop_tree()


def _drop_beside_flow(region: html.HtmlElement) -> None:
    """Follow the main text flow down from ``region`` and drop, at each step, the hidden blocks and
    menus beside it; the flow itself (where the policy is) is never touched."""
    node = region
    while True:
        children = [child for child in node if isinstance(child.tag, str)]
        sizes = [_text_size(child) for child in children]
        if not sum(sizes) or max(sizes) < FLOW_SHARE * sum(sizes):
            return
        flow = children[sizes.index(max(sizes))]
        for child, size in zip(children, sizes):
            if child is not flow and size and (_hidden(child) or _menu(_pieces(child))):
                child.drop_tree()
        node = flow


def _text_size(element: html.HtmlElement) -> float:
    """Characters of the element's visible text (scripts and styles left out), whitespace squashed."""
    invisible = element.iter("script", "style", "noscript", "template")
    return element.xpath(_TEXT) - sum(child.xpath(_TEXT) for child in invisible)


def _pieces(element: html.HtmlElement) -> list[str]:
    """The element's visible text pieces (text nodes), whitespace squashed."""
    return [" ".join(text.split()) for text in element.xpath(_VISIBLE_TEXT) if not text.isspace()]


def _hidden(element: html.HtmlElement) -> bool:
    return HIDDEN_STYLE.search(element.get("style", "").lower()) is not None


def _menu(pieces: list[str]) -> bool:
    """Whether text pieces are only menu labels ("Research", "Try Qwen Studio", "Terms & Policies")."""
    return len(pieces) >= MENU_LABELS and all(
        len(piece.split()) <= LABEL_WORDS and not piece.endswith((".", ";", ":", "!", "?")) for piece in pieces)
