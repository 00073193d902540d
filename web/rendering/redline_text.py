"""The text of the redline and side-by-side views as HTML: without Markdown's markers (changes.plain),
but a heading line still marked as a heading, so a reader sees where each section starts."""

from __future__ import annotations

import re
from collections.abc import Iterable

from markupsafe import Markup, escape

from changes.plain import plain

HEADING_LINE = re.compile(r"[ \t]*#{1,6}(?:[ \t]|$)")  # how a heading line of the Markdown starts
LINE_BREAK = re.compile(r"(\n)")
OP_TAGS = {"insert": "ins", "delete": "del"}


def line_html(line: str) -> Markup:
    """One line of a version as shown: its words, in a ``strong.heading`` when it is a heading."""
    return _words(line, bool(HEADING_LINE.match(line)))


def lines_html(lines: Iterable[str]) -> Markup:
    """Lines of a version as shown, one per line (a ``white-space: pre-wrap`` block keeps the breaks)."""
    return Markup("\n").join(line_html(line) for line in lines)


def segments_html(segments: Iterable) -> Markup:
    """Redline segments (``op``, ``text``) as text, ``<ins>`` and ``<del>`` runs; the words of a
    heading line (one that starts with Markdown's hashes) are marked as a heading."""
    parts, heading, line_start = [], False, True
    for segment in segments:
        shown = []
        for piece in LINE_BREAK.split(segment.text):
            if piece == "\n":
                heading, line_start = False, True
                shown.append(Markup("\n"))
            elif piece:
                heading = bool(HEADING_LINE.match(piece)) if line_start else heading
                line_start = False
                shown.append(_words(piece, heading))
        text, tag = Markup("").join(shown), OP_TAGS.get(segment.op)
        parts.append(Markup(f"<{tag}>{text}</{tag}>") if tag else text)
    return Markup("").join(parts)


def _words(text: str, heading: bool) -> Markup:
    words = escape(plain(text))
    return Markup(f'<strong class="heading">{words}</strong>') if heading and words.strip() else words
