"""What a sentence says, without what a reader would not notice: the key sentences are compared by.

``meaning(sentence)`` drops link and image targets, Markdown markup, list numbering, case,
punctuation and whitespace, turns relative dates ("Updated 5 days ago") into one token and writes
absolute dates in one format, so "September 15, 2025" and "15 September 2025" compare equal.
``noise_kinds(before, after)`` names which of those differences separate two raw sentences.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache

from changes.outline import outline

MONTHS = {
    name: i
    for i, names in enumerate(
        [
            "january jan",
            "february feb",
            "march mar",
            "april apr",
            "may",
            "june jun",
            "july jul",
            "august aug",
            "september sep sept",
            "october oct",
            "november nov",
            "december dec",
        ],
        start=1,
    )
    for name in names.split()
}
MONTH = (
    r"(january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
)

LINK = re.compile(r"!?\[([^\]]*)\]\((?:[^()]|\([^()]*\))*\)")
REFERENCE_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
URL = re.compile(r"\b((?:https?://|www\.)[^\s?#)\]]+)[^\s)\]]*", re.I)
URL_PATH = re.compile(r"\b(?:https?://|www\.)([\w.-]+)[^\s)\]]*", re.I)
APOSTROPHE = re.compile(r"(?<=\w)['’](?=\w)")
MARKUP = re.compile(r"[*_`~>|#]+|<[^>]{1,40}>")
# list markers and numbering: "- ", "2.1. ", "b) ", "(iv) ", "(a)" even with no space after it, and a
# number alone on its line ("- **2.**")
ENUMERATOR = re.compile(
    r"^\s*(?:[-+*•]\s+|\((?:\d{1,3}|[a-z]|[ivxlc]{1,6})\)\s*"
    r"|\(?(?:\d{1,3}(?:\.\d{1,3})*|[a-z]|[ivxlc]{1,6})[.)](?:\s+|$))+",
    re.I,
)
RELATIVE_DATE = re.compile(
    r"\b(?:(?:\d+|an?|one|two|three|few|several)\s+(?:second|minute|hour|day|week|month|year)s?\s+ago"
    r"|yesterday|today|just now|last (?:week|month|year))\b",
    re.I,
)
DATE_PATTERNS = [
    (re.compile(rf"\b{MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I), ("m", "d", "y")),
    (
        re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH},?\s+(\d{{4}})\b", re.I),
        ("d", "m", "y"),
    ),
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), ("y", "m", "d")),
    (re.compile(r"\b(\d{4})/(\d{1,2})/(\d{1,2})\b"), ("y", "m", "d")),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b"), ("m", "d", "y")),
    (re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b"), ("d", "m", "y")),
    (re.compile(rf"\b{MONTH}\s+(\d{{4}})\b", re.I), ("m", "y")),
]
#: The token a relative date becomes in a meaning.
RELATIVE = "reldate"
YEAR = re.compile(r"\d{4}")
RELATIVE_HINT = re.compile(r"ago\b|yesterday|today|just now|last (?:week|month|year)", re.I)
DATE_TOKEN = re.compile(r"\bdate\d{8}\b")
PUNCTUATION = re.compile(r"[^\w\s]+")
SPACES = re.compile(r"\s+")


def _iso(parts: dict[str, str]) -> str | None:
    month = parts["m"]
    month_number = MONTHS.get(month.lower().rstrip(".")) if not month.isdigit() else int(month)
    try:
        value = date(int(parts["y"]), month_number or 0, int(parts.get("d", 1)))
    except (TypeError, ValueError):
        return None
    return f" date{value:%Y%m%d} "


def canonical_dates(text: str) -> str:
    """``text`` with every absolute date written as one token ``dateYYYYMMDD``."""
    if not YEAR.search(text):
        return text
    for pattern, order in DATE_PATTERNS:

        def replace(match: re.Match, order=order) -> str:
            return _iso(dict(zip(order, match.groups()))) or match.group(0)

        text = pattern.sub(replace, text)
    return text


def visible(sentence: str) -> str:
    """The sentence as a reader sees it: link and image targets dropped, URLs without query or fragment."""
    text = LINK.sub(r"\1", sentence)
    text = REFERENCE_LINK.sub(r"\1", text)
    return URL.sub(r"\1", text)


@lru_cache(maxsize=200_000)
def meaning(sentence: str) -> str:
    """The comparison key of a sentence (empty when it says nothing, e.g. a rule or an image)."""
    text = unicodedata.normalize("NFKC", visible(sentence))
    text = ENUMERATOR.sub("", MARKUP.sub(" ", text))
    if RELATIVE_HINT.search(text):
        text = RELATIVE_DATE.sub(f" {RELATIVE} ", text)
    text = canonical_dates(text)
    text = PUNCTUATION.sub(" ", APOSTROPHE.sub("", text.lower()))
    return SPACES.sub(" ", text).strip()


@lru_cache(maxsize=200_000)
def key(sentence: str) -> str:
    """What sentences are compared by: the meaning without spaces, so "privacypolicyor" (a lost
    space) equals "privacypolicy or"."""
    return meaning(sentence).replace(" ", "")


def dates_of(key: str) -> list[str]:
    """The dates a meaning key holds, in order (``dateYYYYMMDD`` tokens)."""
    return DATE_TOKEN.findall(key)


def without_dates(key: str) -> str:
    """A meaning key with its dates masked: equal for "Last updated: May 1" and "...: June 3"."""
    return DATE_TOKEN.sub("date", key)


def noise_kinds(before: str, after: str) -> list[str]:
    """Which invisible differences separate two sentences of equal meaning, for the reasons."""
    kinds = []
    if visible(before) == visible(after):
        kinds.append("link targets")
    else:
        a, b = unicodedata.normalize("NFKC", visible(before)), unicodedata.normalize("NFKC", visible(after))
        if RELATIVE_DATE.sub("", a) == RELATIVE_DATE.sub("", b):
            kinds.append("relative dates")
        elif canonical_dates(a) != a and canonical_dates(a) == canonical_dates(b):
            kinds.append("date format")
        elif ENUMERATOR.sub("", a) == ENUMERATOR.sub("", b):
            kinds.append("list numbering")
        elif a.lower() == b.lower():
            kinds.append("letter case")
        elif MARKUP.sub("", a) == MARKUP.sub("", b):
            kinds.append("markup")
        else:
            kinds.append("punctuation or whitespace")
    return kinds


def same_but_urls(before: str, after: str) -> bool:
    """Whether two sentences differ only in the path of a URL shown as text (e.g. a locale segment)."""
    return key(URL_PATH.sub(r"\1", before)) == key(URL_PATH.sub(r"\1", after))


@lru_cache(maxsize=128)
def text_keys(text: str) -> frozenset[str]:
    """The keys of every heading and sentence of a version."""
    found = set()
    for section in outline(text):
        found.add(key(section.heading))
        found.update(key(s) for s in section.sentences)
    return frozenset(found)
