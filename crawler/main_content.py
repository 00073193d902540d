"""Automatic main-content extraction, for sources declared without a selector.

The page's own landmark is trusted first: the ``main`` element (or ``role=main``) with the most
text, else the ``article`` (or ``role=article``) with the most text, else ``body``. Inside it,
navigation, side bars and dialogs are removed, and around it (body only) the page header and
footer. See docs/extraction.md for the comparison with trafilatura that chose this.
"""
from __future__ import annotations

from lxml import html

LANDMARKS = ("//main | //*[@role='main']", "//article | //*[@role='article']")
CHROME = ("nav", "aside", "dialog", "[role=navigation]", "[role=complementary]", "[role=dialog]",
          "[role=alertdialog]", "[aria-modal=true]", "[role=search]")
PAGE_CHROME = ("header", "footer", "[role=banner]", "[role=contentinfo]")
_TEXT = "string-length(normalize-space(string(.)))"


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
