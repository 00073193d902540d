"""Automatic main-content extraction, for sources declared without a selector.

The page's own landmark is trusted first: the ``main`` element (or ``role=main``) with the most
text, else the ``article`` (or ``role=article``) with the most text, else ``body``. Inside it,
navigation, side bars and dialogs are removed, and around it (body only) the page header and
footer; a navigation block that is the page's own table of contents (every link leads to an anchor
of the page) is part of the document and stays. Then, beside the main text flow (the chain of
blocks each holding most of its parent's text), blocks hidden by an inline style, menus (blocks
made only of a few-word labels) and link lists (blocks made only of links to other pages, such as
a help centre's rotating "related articles") are removed: pages built of plain ``div``s mark
neither their menus nor their app-download panels. See docs/extraction.md for the comparison with
trafilatura that chose this.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from lxml import html

LANDMARKS = ("//main | //*[@role='main']", "//article | //*[@role='article']")
CHROME = (
    "nav",
    "aside",
    "dialog",
    "[role=navigation]",
    "[role=complementary]",
    "[role=dialog]",
    "[role=alertdialog]",
    "[aria-modal=true]",
    "[role=search]",
)
PAGE_CHROME = ("header", "footer", "[role=banner]", "[role=contentinfo]")
_TEXT = "string-length(normalize-space(string(.)))"
_VISIBLE_TEXT = (
    ".//text()[not(ancestor::script or ancestor::style or ancestor::noscript or ancestor::template)]"
)
FLOW_SHARE = 0.6  # a child holding this share of its parent's text carries the main text flow
MENU_LABELS = 4  # a block of at least this many labels, and nothing else, is a menu ...
LABEL_WORDS = 4  # ... a label being at most this many words without sentence punctuation
LINK_LIST_LINKS = 2  # a block beside the flow with at least this many links to pages of the site...
LINK_LIST_SHARE = 0.75  # ... holding this share of its text in them is a link list, not content
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
        if element is not region and element.getparent() is not None and not _table_of_contents(element):
            element.drop_tree()


def _table_of_contents(element: html.HtmlElement) -> bool:
    """Whether a navigation block is the page's own table of contents: live (neither inert nor
    hidden from assistive technology) and every link in it leading to an anchor of this page."""
    if element.tag != "nav" and element.get("role") != "navigation":
        return False
    if element.xpath("ancestor-or-self::*[@inert or @aria-hidden='true']"):
        return False
    fragments = [_fragment(link.get("href", ""), element.base_url or "") for link in element.iter("a")]
    if not fragments or None in fragments:
        return False
    anchors = set(element.getroottree().xpath("//@id | //a/@name"))
    return all(fragment in anchors for fragment in fragments)


def _fragment(href: str, page: str) -> str | None:
    """The anchor a link leads to on ``page`` itself (``#terms``, or the page's URL with a fragment),
    else None."""
    target, fragment = urldefrag(urljoin(page, href.strip()))
    return unquote(fragment) if fragment and target == urldefrag(page)[0] else None


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
            if child is not flow and size and _chrome_beside_flow(child):
                child.drop_tree()
        node = flow


def _chrome_beside_flow(block: html.HtmlElement) -> bool:
    """Whether a block beside the main text flow is chrome: hidden by an inline style, or a menu or
    a list of links to other pages (related articles) that holds no table of contents of the page."""
    if _hidden(block):
        return True
    if not (_menu(_pieces(block)) or _link_list(block)):
        return False
    navigation = block.xpath("descendant-or-self::*[self::nav or @role='navigation']")
    return not any(_table_of_contents(element) for element in navigation)


def _link_list(block: html.HtmlElement) -> bool:
    """Whether a block is a list of links to other pages of the site ("Related articles", a
    related-posts box), however long their titles: at least ``LINK_LIST_LINKS`` such links, holding
    ``LINK_LIST_SHARE`` of its text. Links to other sites (a list of subprocessors) are not navigation."""
    page = block.base_url or ""
    links = list(block.iter("a"))
    if len(links) < LINK_LIST_LINKS:
        return False
    if not all(_other_page_of_site(link.get("href", ""), page) for link in links):
        return False
    return sum(_text_size(link) for link in links) >= LINK_LIST_SHARE * _text_size(block)


def _text_size(element: html.HtmlElement) -> float:
    """Characters of the element's visible text (scripts and styles left out), whitespace squashed."""
    invisible = element.iter("script", "style", "noscript", "template")
    return element.xpath(_TEXT) - sum(child.xpath(_TEXT) for child in invisible)


def _pieces(element: html.HtmlElement) -> list[str]:
    """The element's visible text pieces (text nodes), whitespace squashed."""
    return [" ".join(text.split()) for text in element.xpath(_VISIBLE_TEXT) if not text.isspace()]


def _hidden(element: html.HtmlElement) -> bool:
    return HIDDEN_STYLE.search(element.get("style", "").lower()) is not None


def _other_page_of_site(href: str, page: str) -> bool:
    target = urlsplit(urljoin(page, href.strip()))
    return target.netloc == urlsplit(page).netloc and _fragment(href, page) is None


def _menu(pieces: list[str]) -> bool:
    """Whether text pieces are only menu labels ("Research", "Try Qwen Studio", "Terms & Policies")."""
    return len(pieces) >= MENU_LABELS and all(
        len(piece.split()) <= LABEL_WORDS and not piece.endswith((".", ";", ":", "!", "?"))
        for piece in pieces
    )
