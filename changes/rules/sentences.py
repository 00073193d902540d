"""Rules that grade what is left sentence by sentence: reworded sentences, then added or removed lines."""

from __future__ import annotations

import re

from rapidfuzz.distance import Levenshtein

from changes.meaning import RELATIVE, dates_of, key, meaning, same_but_urls, text_keys, without_dates
from changes.rules.base import Context, Pair, PairRule, Rule, plural, short
from policywatch.verdicts import Significance

DATE_LINE_WORDS = 6  # a line with a date and at most this many other words is a date header
TYPO_DISTANCE = 2  # letters that may differ in a word for an edit to count as a spelling fix
CHROME_WORDS = 3  # a label of at most this many words on its own line may be page chrome
ENUMERATED = re.compile(r"^(?:[-+*•]|\(?\w{1,4}[.)])\s")
#: Words that label a date line ("Last updated:", "Effective as of", "Version date"); a date line that
#: gains or loses only these says the same thing.
DATE_LABEL_WORDS = frozenset(
    "date effective last updated update modified revised revision as of on from since version published "
    "posted dated this policy terms".split()
)
CONNECTIVES = {"a", "an", "the", "and", "or"}  # these alone added or dropped ("and/or") is a minor edit


class UrlPath(Rule):
    """Reworded sentences that differ only in the path of a URL shown as text (a locale segment): cosmetic."""

    name = "url path"

    def apply(self, context: Context) -> list[str]:
        changed = context.left.changed
        context.left.changed = [(b, a) for b, a in changed if not same_but_urls(b, a)]
        urls = len(changed) - len(context.left.changed)
        return [f"only a URL shown as text changed in {plural(urls, 'sentence')}"] if urls else []


class DateRelabelled(PairRule):
    """A date line that gained or lost its label ("Effective", "Last updated:") or changed the date's
    format, the date itself the same: cosmetic."""

    name = "date relabelled"
    significance = Significance.COSMETIC

    def reason(self, pair: Pair) -> str | None:
        a, b = pair.meanings
        if _date_lines(pair) and dates_of(a) == dates_of(b) and _labels_only(a, b):
            return f"date line relabelled: '{short(pair.after)}'"
        return None


class RelativeDateWrittenOut(Rule):
    """A date line whose relative date ("4 days ago", "Today") is written out as a date, or back, its
    label aside: cosmetic. Pages age their date lines so ("Yesterday", then "Mar 12, 2025"); the
    relative date is of the crawl's day, which the version does not keep, so the two cannot disagree
    in a way a reader would call an edit."""

    name = "relative date written out"
    significance = Significance.COSMETIC

    def apply(self, context: Context) -> list[str]:
        left = context.left
        found = [(b, a) for b, a in left.changed if _written_out(b, a)]
        left.changed = [pair for pair in left.changed if pair not in found]
        for before in list(left.removed):
            after = next((a for a in left.added if _written_out(before, a)), None)
            if after is not None:
                left.drop({before, after})
                found.append((before, after))
        return [f"relative date written out: '{short(found[0][1])}'"] if found else []


def _written_out(before: str, after: str) -> bool:
    """Whether two date lines differ in a relative date written as a date (or back), labels aside."""
    a, b = meaning(before), meaning(after)
    if (RELATIVE in a.split()) == (RELATIVE in b.split()) or _date_count(a) != 1 or _date_count(b) != 1:
        return False
    masked = [without_dates(m).replace(RELATIVE, "date").split() for m in (a, b)]
    return all(len(words) <= DATE_LINE_WORDS + 1 for words in masked) and (
        set(masked[0]) ^ set(masked[1]) <= DATE_LABEL_WORDS
    )


def _date_count(found: str) -> int:
    """Dates in a meaning, relative ones included."""
    return len(dates_of(found)) + found.split().count(RELATIVE)


class DateLineEdited(PairRule):
    """A date line with another date and another label ("January 5" → "Effective February 1"): minor."""

    name = "date line edited"

    def reason(self, pair: Pair) -> str | None:
        return f"a date line changed: '{short(pair.after)}'" if _date_lines(pair) else None


def _labels_only(a: str, b: str) -> bool:
    """Whether the words two date lines do not share are all words of a date's label."""
    return set(without_dates(a).split()) ^ set(without_dates(b).split()) <= DATE_LABEL_WORDS


def _date_lines(pair: Pair) -> bool:
    return is_date_line(pair.before) and is_date_line(pair.after)


class DateInSentence(PairRule):
    """A sentence whose only difference is a date: minor."""

    name = "date in sentence"

    def reason(self, pair: Pair) -> str | None:
        a, b = pair.meanings
        if a != b and without_dates(a) == without_dates(b):
            return f"date changed in '{short(pair.after)}'"
        return None


class WordsReordered(PairRule):
    """The same words in another order: minor."""

    name = "words reordered"

    def reason(self, pair: Pair) -> str | None:
        a, b = pair.meanings
        return f"words reordered in '{short(pair.after)}'" if sorted(a.split()) == sorted(b.split()) else None


class Connectives(PairRule):
    """Only connective words added or dropped in one place ("the", "; and/or"): minor."""

    name = "connectives"

    def reason(self, pair: Pair) -> str | None:
        edits = pair.edits
        if len(edits) == 1 and set(edits[0][1].split()) <= CONNECTIVES:
            return f"'{edits[0][1].strip()}' added or dropped in '{short(pair.after)}'"
        return None


class Typo(PairRule):
    """One or two words each changed by at most two letters (words of 4+ letters, no digits): minor."""

    name = "typo"

    def reason(self, pair: Pair) -> str | None:
        edits = pair.edits
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
        return f"spelling fixed in '{short(pair.after)}'"


def is_date_line(sentence: str) -> bool:
    """A date header such as "Last updated: June 3, 2026" (a date and a few words)."""
    found = meaning(sentence)
    masked = without_dates(found)
    return masked != found and len(masked.split()) <= DATE_LINE_WORDS + 1


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


class Chrome(Rule):
    """Short labels added or removed (menus, buttons, "Table of contents"): cosmetic."""

    name = "chrome"

    def apply(self, context: Context) -> list[str]:
        chrome = {s for s in context.left.added + context.left.removed if is_chrome_line(s)}
        context.left.drop(chrome)
        return (
            [f"page chrome (short labels) added or removed: '{short(sorted(chrome)[0])}'"] if chrome else []
        )


class DateLine(Rule):
    """A date line ("Last updated: …") added or removed: minor."""

    name = "date line"
    significance = Significance.MINOR

    def apply(self, context: Context) -> list[str]:
        dates = {s for s in context.left.added + context.left.removed if is_date_line(s)}
        context.left.drop(dates)
        return [f"a date line changed: '{short(sorted(dates)[0])}'"] if dates else []


class Repeated(Rule):
    """Lines added that the parent has elsewhere, or removed that the new text keeps elsewhere: minor."""

    name = "repeated"
    significance = Significance.MINOR

    def apply(self, context: Context) -> list[str]:
        left = context.left
        repeated = {s for s in left.added if key(s) in text_keys(context.parent)} | {
            s for s in left.removed if key(s) in text_keys(context.text)
        }
        left.drop(repeated)
        if not repeated:
            return []
        return [f"{plural(len(repeated), 'line')} repeating text found elsewhere on the page"]


class Clauses(Rule):
    """Anything left: clauses added, removed or reworded, one reason per section: substantive."""

    name = "clauses"
    significance = Significance.SUBSTANTIVE

    def apply(self, context: Context) -> list[str]:
        added, removed = set(context.left.added), set(context.left.removed)
        reworded = {after for _, after in context.left.changed}
        reasons = []
        for section in context.sections:
            name = f"'{section.heading}'" if section.heading else "the introduction"
            n_added, n_removed = len(added & set(section.added)), len(removed & set(section.removed))
            n_reworded = len(reworded & {c["after"] for c in section.changed})
            if section.status in ("added", "removed") and (n_added or n_removed):
                reasons.append(f"section {name} {section.status}")
                continue
            parts = [
                plural(n, "clause") + f" {verb}"
                for n, verb in ((n_added, "added"), (n_removed, "removed"), (n_reworded, "reworded"))
                if n
            ]
            if parts:
                reasons.append(f"{', '.join(parts)} in {name}")
        return reasons
