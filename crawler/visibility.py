"""What in a page is never content: scripts, styles, embedded objects, form controls, images,
hidden and screen-reader-only elements, and cookie-consent banners. General rules only.

The digest and the Markdown both skip exactly the elements ``is_dropped`` names, which is what
makes "same digest, same Markdown" hold.
"""
from __future__ import annotations

import re

from lxml import html

DROPPED_TAGS = frozenset({
    "script", "style", "noscript", "template", "link", "meta", "head", "svg", "canvas", "iframe",
    "object", "embed", "img", "picture", "video", "audio", "source", "track", "map", "select",
    "option", "datalist", "input", "textarea",
})
_SCREEN_READER_ONLY = re.compile(
    r"(?:^|\s)(?:sr-only|visually-hidden|visuallyhidden|screen-reader-text|screen-reader-only|"
    r"a11y-hidden|assistive-text|u-visually-hidden|hidden-visually)(?:\s|$)")
_CONSENT = re.compile(
    r"cookie[-_]?(?:banner|consent|notice|bar|popup|confirm|dialog|layer|law)|"
    r"consent[-_]?(?:banner|manager|dialog|popup|bar)|onetrust|cookiebot|usercentrics|didomi|truste-consent",
    re.IGNORECASE)


def is_dropped(element: html.HtmlElement) -> bool:
    """Whether ``element`` (with everything inside it, but not its tail) is never content."""
    tag = element.tag
    if not isinstance(tag, str):  # comment or processing instruction
        return True
    if tag in DROPPED_TAGS or element.get("hidden") is not None:
        return True
    classes = element.get("class")
    if classes and (_SCREEN_READER_ONLY.search(classes) or _CONSENT.search(classes)):
        return True
    identifier = element.get("id")
    return bool(identifier and _CONSENT.search(identifier))
