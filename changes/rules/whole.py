"""Rules that judge a change as a whole: an error page in place of the document, a page switched to
another language. Either makes the change cosmetic."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol, TypeVar

from changes.rules.base import Context, Rule, word_count

ERROR_PAGE_WORDS = 120  # a version this short ...
ERROR_PAGE_SHARE = 0.2  # ... and under this share of its parent's words looks like an error page
SMALL_WORDS_NEEDED = 5  # distinct small lower-case words each side needs for a language comparison
SHARED_SMALL = 0.4  # under this share of them shared: the page switched language
SMALL_WORD = re.compile(r"(?<![\w-])[^\W\d_A-Z]{2,4}(?![\w-])")


def is_error_page(text: str, other: str) -> bool:
    """Whether ``text`` is so much shorter than ``other`` that it is an error page or a failed extraction."""
    words = word_count(text)
    return words < ERROR_PAGE_WORDS and words < ERROR_PAGE_SHARE * word_count(other)


class ErrorPage(Rule):
    """A new version that is a small fraction of its parent: cosmetic (see also ``baseline``)."""

    name = "error page"
    decisive = True

    def apply(self, context: Context) -> list[str]:
        if not is_error_page(context.text, context.parent):
            return []
        return [
            f"text shrank from {word_count(context.parent)} to {word_count(context.text)} words: "
            "an error page or a failed extraction"
        ]


class _Versioned(Protocol):
    text: str
    seq: int


V = TypeVar("V", bound=_Versioned)


def baseline(text: str, parent: V, earlier: Sequence[V]) -> V:
    """The version to compare ``text`` with: ``parent``, or the last of ``earlier`` (oldest first) that
    is not an error page next to ``text`` when the parent is one."""
    if not is_error_page(parent.text, text):
        return parent
    return next((v for v in reversed(earlier) if not is_error_page(v.text, text)), parent)


def compared_with(version: _Versioned) -> str:
    """The reason added to a change compared with ``version`` because the parent was an error page."""
    return f"compared with version {version.seq}, before an error page or failed extraction"


def _small_words(text: str) -> set[str]:
    return set(SMALL_WORD.findall(text))


def switched_language(removed: str, added: str) -> bool:
    """Whether the removed and the added text are the same page in two languages: the small
    lower-case words of each (its language's function words: "the", "und", "des") are mostly
    absent from the other, while names and numbers may be shared."""
    old, new = _small_words(removed), _small_words(added)
    if len(old) < SMALL_WORDS_NEEDED or len(new) < SMALL_WORDS_NEEDED:
        return False
    shared = len(old & new)
    return shared < SHARED_SMALL * len(old) and shared < SHARED_SMALL * len(new)


class LanguageSwitch(Rule):
    """Most of the parent rewritten, in another language: cosmetic."""

    name = "language"
    decisive = True

    def apply(self, context: Context) -> list[str]:
        removed = "\n".join(s for section in context.sections for s in section.removed)
        if 2 * word_count(removed) < word_count(context.parent):
            return []
        added = "\n".join(s for section in context.sections for s in section.added)
        if not switched_language(removed, added):
            return []
        return ["the page switched language (its small function words are not those of the parent)"]
