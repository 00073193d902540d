"""Word boundaries as a browser draws them: text of neighbouring boxes is not glued together.

A page's markup often puts two things side by side with no space between them in the source
(``<span>Effective 15 September 2025</span><a>Previous Version</a>`` in a flex row, a label and a
button), and a browser draws them apart because each is its own box. Without the style sheet the
boxes cannot be known, so one general rule stands in for it: where one element's text meets the
next element's text with no space, and a lower-case letter, a digit or closing punctuation meets a
capital letter, a space is put between them. Inside a word (``<b>c</b>ustomers``) nothing changes.
Inline-block controls (``button``) are always set apart.
"""

from __future__ import annotations

import re

from lxml import html

#: Elements a browser draws as blocks that markdownify does not already treat as such.
EXTRA_BLOCK_TAGS = (
    "address",
    "aside",
    "details",
    "dialog",
    "fieldset",
    "figure",
    "footer",
    "form",
    "header",
    "hgroup",
    "legend",
    "main",
    "menu",
    "nav",
    "summary",
)
#: Inline-block controls: always a box of their own.
BOX_TAGS = frozenset({"button"})
_GLUED_END = re.compile(r"[a-z0-9\u00df-\u00ff.,:;!?)\]]$")
_GLUED_START = re.compile(r"^[A-Z\u00c0-\u00de]")


def separate_boxes(root: html.HtmlElement) -> None:
    """Put a space, in place, wherever two elements' texts meet as the module docstring says."""
    for element in root.iter():
        if element is root or not isinstance(element.tag, str):
            continue
        boxed = element.tag in BOX_TAGS
        before = _text_before(element)
        if before and not before[-1].isspace() and (boxed or _glued(before, _first_text(element))):
            _space_before(element)
        tail = element.tail
        if tail and not tail[0].isspace() and (boxed or _glued(_last_text(element), tail)):
            element.tail = " " + tail


def _glued(left: str, right: str) -> bool:
    return bool(left and right and _GLUED_END.search(left) and _GLUED_START.match(right))


def _text_before(element: html.HtmlElement) -> str:
    previous = element.getprevious()
    if previous is None:
        return element.getparent().text or ""
    return previous.tail or _last_text(previous)


def _space_before(element: html.HtmlElement) -> None:
    previous = element.getprevious()
    if previous is None:
        parent = element.getparent()
        parent.text = (parent.text or "") + " "
    else:
        previous.tail = (previous.tail or "") + " "


def _first_text(element: html.HtmlElement) -> str:
    if element.text:
        return element.text
    for child in element:
        found = _first_text(child) or child.tail
        if found:
            return found
    return ""


def _last_text(element: html.HtmlElement) -> str:
    for child in reversed(element):
        found = child.tail or _last_text(child)
        if found:
            return found
    return element.text or ""
