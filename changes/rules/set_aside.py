"""Rules that set differences aside before grading: moved sentences and sentences equal in meaning."""

from __future__ import annotations

from collections import Counter

from changes.meaning import key, noise_kinds
from changes.rules.base import Context, Rule, keys_of, plural


class Moves(Rule):
    """A sentence removed in one place and added unchanged in another moved: cosmetic."""

    name = "moves"

    def apply(self, context: Context) -> list[str]:
        left = context.left
        both = keys_of(left.removed) & keys_of(left.added)
        left.removed, left.added = _without(left.removed, both), _without(left.added, both)
        moved = sum(both.values())
        return [f"{plural(moved, 'sentence')} moved without change"] if moved else []


def _without(sentences: list[str], keys: Counter) -> list[str]:
    left, kept = Counter(keys), []
    for sentence in sentences:
        found = key(sentence)
        if left[found]:
            left[found] -= 1
        else:
            kept.append(sentence)
    return kept


class SameMeaning(Rule):
    """Sentences equal in meaning (changes.meaning: link targets, dates written another way, list
    numbering, case, markup, punctuation) are cosmetic; one reason per kind, the commonest first."""

    name = "same meaning"

    def apply(self, context: Context) -> list[str]:
        kinds = Counter(
            kind
            for section in context.sections
            for before, after in section.cosmetic
            for kind in noise_kinds(before, after)
        )
        return [f"only {kind} changed in {plural(n, 'sentence')}" for kind, n in kinds.most_common()]
