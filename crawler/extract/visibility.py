"""What in a page is never content: scripts, styles, embedded objects, form controls, images,
comments, screen-reader-only elements (by class name or by the clipped, 1-pixel or off-screen
inline style), decorative ``aria-hidden`` glyphs (no letter or digit) and cookie-consent banners.
General rules only.

Elements with the ``hidden`` attribute are kept: React streams server-rendered content into a
``<div hidden>`` and moves it into place with a script, and a snapshot taken before the move
holds the whole policy there (Meta's terms pages in the corpus).

``prune`` removes them from a region in place (keeping the text that follows each), with every
attribute the Markdown does not show, before both the digest and the Markdown are made from the
same tree: that is what makes "same digest, same Markdown" hold.
"""

from __future__ import annotations

import re

from lxml import etree, html

DROPPED_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "link",
    "meta",
    "head",
    "svg",
    "canvas",
    "iframe",
    "object",
    "embed",
    "img",
    "picture",
    "video",
    "audio",
    "source",
    "track",
    "map",
    "select",
    "option",
    "datalist",
    "input",
    "textarea",
)
#: Class names of screen-reader-only text, written without dashes or underscores and in lower case:
#: "sr-only", "visually_hidden", "srOnly" (and CSS-module forms such as "Footer_srOnly__x1")
#: all match.
SCREEN_READER_ONLY = frozenset(
    {
        "sronly",
        "srtext",
        "visuallyhidden",
        "hiddenvisually",
        "hidevisually",
        "screenreader",
        "screenreaderonly",
        "screenreadertext",
        "a11yhidden",
        "assistivetext",
        "elementinvisible",
        "offscreen",
    }
)
#: Inline styles that hide text from sight while screen readers read it: a 1-pixel or clipped box,
#: or one moved far off the screen (spaces removed and lower-cased before matching).
SCREEN_READER_STYLE = re.compile(
    r"position:absolute.*(?:clip:rect\(|clip-path:inset\(|(?:left|top):-\d{4,}px|width:1px.*height:1px)"
)
CONSENT = re.compile(
    r"cookie[-_]?(?:banner|consent|notice|bar|popup|confirm|dialog|layer|law)|"
    r"consent[-_]?(?:banner|manager|dialog|popup|bar)|onetrust|cookiebot|usercentrics|didomi|truste-consent"
)
#: Attributes the Markdown shows (an ordered list's start, a cell's colspan); every other one is dropped.
SHOWN_ATTRIBUTES = ("start", "colspan")
# Cheap, case-tolerant pre-tests, one regex search each instead of a Python loop per element.
_SCREEN_READER_HINTS = "(?i:sr|visual|screen|a11y|assistive|invisible|offscreen)"
_CONSENT_HINTS = "ookie|onsent|onetrust|usercentrics|didomi"
_ANY_HINT = re.compile(f"{_SCREEN_READER_HINTS}|{_CONSENT_HINTS}").search
_SCREEN_READER_HINT = re.compile(_SCREEN_READER_HINTS).search
_CONSENT_HINT = re.compile(_CONSENT_HINTS).search
_WORDS = re.compile(r"\w").search


def prune(root: html.HtmlElement) -> None:
    """Remove from ``root`` (not ``root`` itself) every element that is never content, keeping the
    text that follows each, and every attribute except ``SHOWN_ATTRIBUTES``."""
    etree.strip_tags(root, etree.Comment, etree.ProcessingInstruction)
    doomed = [element for element in root.iter(*DROPPED_TAGS) if element is not root]
    for element in root.iter():
        attributes = element.attrib
        if not attributes:
            continue
        if _never_content(element, attributes):
            doomed.append(element)
        kept = [(name, attributes[name]) for name in SHOWN_ATTRIBUTES if name in attributes]
        attributes.clear()
        if kept:
            attributes.update(kept)
    for element in doomed:
        if element is not root and element.getparent() is not None:
            element.drop_tree()


def _never_content(element: html.HtmlElement, attributes) -> bool:
    classes, identifier, style = attributes.get("class"), attributes.get("id"), attributes.get("style")
    return bool(
        (classes and _ANY_HINT(classes) and _hidden_by_class(classes))
        or (identifier and _consent(identifier))
        or (style and "absolute" in style and _screen_reader_style(style))
        or (attributes.get("aria-hidden") == "true" and not _WORDS(element.text_content()))
    )


def _hidden_by_class(classes: str) -> bool:
    if _SCREEN_READER_HINT(classes) and any(map(_screen_reader_class, classes.split())):
        return True
    return _consent(classes)


def _screen_reader_class(token: str) -> bool:
    """Whether one class token names screen-reader-only text; a responsive variant ("md:sr-only")
    hides it on some screens only, so it does not count."""
    if ":" in token:
        return False
    names = (token, *token.split("_"))
    return any(name.replace("-", "").replace("_", "").lower() in SCREEN_READER_ONLY for name in names)


def _screen_reader_style(style: str) -> bool:
    return SCREEN_READER_STYLE.search("".join(style.split()).lower()) is not None


def _consent(name: str) -> bool:
    return _CONSENT_HINT(name) is not None and CONSENT.search(name.lower()) is not None
