"""How much a change matters: cosmetic, minor or substantive, with the reasons.

The rules, in order, on the differences compare_sections found:
- sentences equal in meaning (changes.meaning) are cosmetic: link targets, whitespace, punctuation,
  case, markup, list numbering, relative dates, date formats;
- a sentence removed in one place and added in another, unchanged, is a move: cosmetic;
- a new version that is a small fraction of its parent looks like an error page or a failed
  extraction: cosmetic (the version after it is compared with the content before it);
- differences that only come back to, or go away again from, what recent versions said are flapping
  (cookie banners, A/B variants, error pages): cosmetic (changes.flapping);
- a changed date ("Last updated: …") or a spelling-level edit is minor;
- anything else — a clause added, removed or reworded — is substantive.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from rapidfuzz.distance import Levenshtein

from changes.compare import SectionChange, word_diff
from changes.meaning import key, meaning, noise_kinds, same_but_urls, text_keys, without_dates

SIGNIFICANCES = ("cosmetic", "minor", "substantive")
DATE_LINE_WORDS = 6  # a line with a date and at most this many other words is a date header
TYPO_DISTANCE = 2  # letters that may differ in a word for an edit to count as a spelling fix
DEGENERATE_WORDS = 120  # a version this short ...
DEGENERATE_SHARE = 0.2  # ... and under this share of its parent's words looks like an error page
SMALL_WORDS_NEEDED = 5  # distinct small lower-case words each side needs for a language comparison
SHARED_SMALL = 0.4  # under this share of them shared: the page switched language
SMALL_WORD = re.compile(r"(?<![\w-])[^\W\d_A-Z]{2,4}(?![\w-])")
CHROME_WORDS = 3  # a label of at most this many words on its own line may be page chrome
ENUMERATED = re.compile(r"^(?:[-+*•]|\(?\w{1,4}[.)])\s")
CONNECTIVES = {"a", "an", "the", "and", "or"}  # these alone added or dropped ("and/or") is a minor edit


@dataclass
class Differences:
    """The meaningful differences of a change, as meaning keys, after cosmetic ones are set aside."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[tuple[str, str]] = field(default_factory=list)
    moved: int = 0

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def differences(sections: list[SectionChange]) -> Differences:
    """The added, removed and changed sentences (raw text) of ``sections``, moved sentences cancelled."""
    diff = Differences()
    for section in sections:
        added, removed = section.unpaired
        diff.added += added
        diff.removed += removed
        diff.changed += [(c["before"], c["after"]) for c in section.changed]
    gone, came = Counter(key(s) for s in diff.removed), Counter(key(s) for s in diff.added)
    both = gone & came
    diff.moved = sum(both.values())
    diff.removed = _drop(diff.removed, both)
    diff.added = _drop(diff.added, both)
    return diff


def _drop(sentences: list[str], keys: Counter) -> list[str]:
    left, kept = Counter(keys), []
    for sentence in sentences:
        found = key(sentence)
        if left[found]:
            left[found] -= 1
        else:
            kept.append(sentence)
    return kept


def cosmetic_reasons(sections: list[SectionChange], moved: int) -> list[str]:
    """Why the differences that do not change meaning are cosmetic, one reason per kind."""
    kinds = Counter(
        kind for s in sections for before, after in s.cosmetic for kind in noise_kinds(before, after)
    )
    reasons = [f"only {kind} changed in {n} sentence{'s' * (n > 1)}" for kind, n in kinds.most_common()]
    if moved:
        reasons.append(f"{moved} sentence{'s' * (moved > 1)} moved without change")
    return reasons


def word_count(text: str) -> int:
    """Words of a version (whitespace-separated)."""
    return len(text.split())


def degenerate(parent: str, text: str) -> bool:
    """Whether ``text`` is so much shorter than ``parent`` that it is an error page or a failed extraction."""
    words = word_count(text)
    return words < DEGENERATE_WORDS and words < DEGENERATE_SHARE * word_count(parent)


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


def is_date_line(sentence: str) -> bool:
    """A date header such as "Last updated: June 3, 2026" (a date and a few words)."""
    key = meaning(sentence)
    masked = without_dates(key)
    return masked != key and len(masked.split()) <= DATE_LINE_WORDS + 1


def is_chrome_line(sentence: str) -> bool:
    """A short label that is page chrome ("close", "Table of contents", "Service status:"): a few
    words on a line of their own, not a heading, list item or table row, without sentence punctuation
    and without a date."""
    text = sentence.strip()
    return (
        len(meaning(text).split()) <= CHROME_WORDS
        and not is_date_line(text)
        and not text.startswith(("#", "|"))
        and not ENUMERATED.match(text)
        and not text.rstrip("*_").endswith((".", ";", "!", "?"))
    )


def minor_reason(before: str, after: str) -> str | None:
    """Why a reworded sentence is only a minor edit (a changed date, a spelling fix, words put in
    another order), or None."""
    a, b = meaning(before), meaning(after)
    if a != b and without_dates(a) == without_dates(b):
        return f"date changed in '{_short(after)}'"
    if sorted(a.split()) == sorted(b.split()):
        return f"words reordered in '{_short(after)}'"
    edits = [(op, text) for op, text in word_diff(a, b) if op != "equal"]
    if len(edits) == 1 and set(edits[0][1].split()) <= CONNECTIVES:
        return f"'{edits[0][1].strip()}' added or dropped in '{_short(after)}'"
    if not edits or len(edits) > 2 * TYPO_DISTANCE or len(edits) % 2:
        return None
    for (op1, old), (op2, new) in zip(edits[::2], edits[1::2]):
        old, new = old.strip(), new.strip()
        if (
            (op1, op2) != ("delete", "insert")
            or " " in old
            or " " in new
            or not (old.isalpha() and new.isalpha())
        ):
            return None
        if min(len(old), len(new)) < 4 or Levenshtein.distance(old, new) > TYPO_DISTANCE:
            return None
    return f"spelling fixed in '{_short(after)}'"


def _short(sentence: str, limit: int = 80) -> str:
    text = " ".join(sentence.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def grade(diff: Differences, sections: list[SectionChange], parent: str, text: str) -> tuple[str, list[str]]:
    """Significance and reasons of the meaningful differences left once noise is set aside."""
    minor, reworded, urls = [], set(), 0
    for before, after in diff.changed:
        if same_but_urls(before, after):
            urls += 1
            continue
        reason = minor_reason(before, after)
        if reason:
            minor.append(reason)
        else:
            reworded.add(after)
    added, removed = set(diff.added), set(diff.removed)
    chrome = {s for s in added | removed if is_chrome_line(s)}
    dates = {s for s in added | removed if is_date_line(s)} - chrome
    if dates:
        minor.append(f"a date line changed: '{_short(sorted(dates)[0])}'")
    added, removed = added - chrome - dates, removed - chrome - dates
    repeated = {s for s in added if key(s) in text_keys(parent)} | {
        s for s in removed if key(s) in text_keys(text)
    }
    if repeated:
        minor.append(
            f"{len(repeated)} line{'s' * (len(repeated) > 1)} repeating text found elsewhere on the page"
        )
        added, removed = added - repeated, removed - repeated
    reasons = substantive_reasons(sections, added, removed, reworded)
    cosmetic = [f"only a URL shown as text changed in {urls} sentence{'s' * (urls > 1)}"] if urls else []
    if chrome:
        cosmetic.append(f"page chrome (short labels) added or removed: '{_short(sorted(chrome)[0])}'")
    if reasons:
        return "substantive", reasons + minor + cosmetic
    return ("minor", minor + cosmetic) if minor else ("cosmetic", cosmetic)


def substantive_reasons(
    sections: list[SectionChange], added: set[str], removed: set[str], reworded: set[str]
) -> list[str]:
    """One reason per section with clauses added, removed or reworded, e.g. "2 clauses added in 'Fees'"."""
    reasons = []
    for section in sections:
        name = f"'{section.heading}'" if section.heading else "the introduction"
        n_added, n_removed = len(added & set(section.added)), len(removed & set(section.removed))
        n_reworded = len(reworded & {c["after"] for c in section.changed})
        if section.status in ("added", "removed") and (n_added or n_removed):
            reasons.append(f"section {name} {section.status}")
            continue
        parts = [
            f"{n} clause{'s' * (n > 1)} {verb}"
            for n, verb in ((n_added, "added"), (n_removed, "removed"), (n_reworded, "reworded"))
            if n
        ]
        if parts:
            reasons.append(f"{', '.join(parts)} in {name}")
    return reasons
