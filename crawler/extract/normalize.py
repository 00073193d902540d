"""Normalisation of extracted text: remove what is never content, so only visible text changes show.

Applied to every Markdown the crawler produces (and usable on a document combined from several
sources). Typographic and ASCII quotes are made the same: pages switch between them with no change
of meaning. Unicode is composed with NFC, not NFKC: NFKC would fold superscripts, ligatures and
full-width forms into other characters and so rewrite real text.
"""

from __future__ import annotations

import re
import unicodedata

#: Invisible characters dropped outright: zero-width spaces and joiners, word joiner, BOM, soft
#: hyphen, bidirectional marks and embeddings, and C0/C1 control characters except tab and newline.
INVISIBLE = (
    "".join(chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, *range(0x80, 0xA0)))
    + "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064"
    "\u2066\u2067\u2068\u2069\ufeff"
)

#: Every space separator (Unicode category Zs) but the space itself: NBSP, Ogham, en to hair spaces,
#: narrow NBSP, medium mathematical and ideographic space. Spelled out rather than computed from
#: the Unicode database at import, which costs a quarter of a second on every crawl's start.
SPACES = "\u00a0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B)) + "\u202f\u205f\u3000"
_INVISIBLE = re.compile(f"[{re.escape(INVISIBLE)}]+")
_SPACE = re.compile(f"[{re.escape(SPACES)}]")
_LINE_BREAK = re.compile("\r\n?|[\u2028\u2029]")
_SINGLE_QUOTES = re.compile("[\u2018\u2019\u201a\u201b]")
_DOUBLE_QUOTES = re.compile("[\u201c\u201d\u201e\u201f]")

_INNER_SPACES = re.compile(r"(?<=\S)[ \t]{2,}")
_TRAILING_SPACES = re.compile(r"[ \t]+$", re.MULTILINE)
_EMPTY_MARKER_LINE = re.compile(r"^[ \t]*(?:#{1,6}|[-*+]|\d+[.)])[ \t]*$", re.MULTILINE)
_BLANK_RUNS = re.compile(r"\n{3,}")


def clean_characters(text: str) -> str:
    """``text`` in NFC with invisible characters removed and every space separator made a space."""
    text = _LINE_BREAK.sub("\n", _SPACE.sub(" ", _INVISIBLE.sub("", text)))
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def straighten_quotes(text: str) -> str:
    """``text`` with typographic quotes and apostrophes made ASCII (pages switch between the two)."""
    return _DOUBLE_QUOTES.sub('"', _SINGLE_QUOTES.sub("'", text))


def normalize_markdown(text: str) -> str:
    """Markdown with invisible characters, typographic quotes, space runs, trailing spaces, empty
    list items and headings, and repeated blank lines normalised away; it ends with exactly one
    newline (or is empty)."""
    text = straighten_quotes(clean_characters(text)).replace("\t", " ")
    text = _INNER_SPACES.sub(" ", text)
    text = _TRAILING_SPACES.sub("", text)
    text = _EMPTY_MARKER_LINE.sub("", text)
    text = _BLANK_RUNS.sub("\n\n", text).strip("\n")
    return text + "\n" if text else ""
