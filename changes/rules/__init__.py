"""Noise rules: what makes a change cosmetic or minor, one small class per rule, registered by name.

``grade(context)`` applies them in this order; each takes what it explains out of ``context.left``:

1. set aside before grading (``SET_ASIDE``): ``moves``, ``same meaning``, then ``error page`` and
   ``language``, which when they apply decide the change (cosmetic) and end the grading, then
   ``flapping``;
2. grade what is left (``GRADING``): ``url path``; the pair rules ``date relabelled``, ``date in
   sentence``, ``date line edited``, ``words reordered``, ``connectives``, ``typo``, tried on each
   reworded sentence in turn (the first that explains it gives its reason); ``relative date written
   out``, ``chrome``, ``date
   line``, ``repeated``; ``clauses`` takes the rest.

The significance is the highest of the grading rules that gave a reason (cosmetic if none). The
reasons are the grading rules' (substantive, then minor, then cosmetic, each in rule order), then
the set-aside rules', the last applied first.
"""

from __future__ import annotations

from dataclasses import dataclass

from changes.rules import flapping, sentences, set_aside, whole
from changes.rules.base import REGISTRY, Context, Pair, PairRule, Rule
from policywatch.verdicts import Significance

__all__ = ["GRADING", "REGISTRY", "SET_ASIDE", "Context", "Rule", "Verdict", "grade"]
_MODULES = (set_aside, whole, flapping, sentences)  # defining the rules registers them

SET_ASIDE = ("moves", "same meaning", "error page", "language", "flapping")
PAIR_RULES = (
    "date relabelled",
    "date in sentence",
    "date line edited",
    "words reordered",
    "connectives",
    "typo",
)
GRADING = ("url path", PAIR_RULES, "relative date written out", "chrome", "date line", "repeated", "clauses")


@dataclass
class Verdict:
    """How much a change matters and why; ``flapping`` when recent history explained some of it."""

    significance: Significance
    reasons: list[str]
    flapping: bool = False


def grade(context: Context) -> Verdict:
    """The significance and reasons of the change in ``context``, the rules applied in the order above."""
    set_aside_reasons: list[str] = []
    for name in SET_ASIDE:
        rule = REGISTRY[name]()
        reasons = rule.apply(context)
        set_aside_reasons = reasons + set_aside_reasons
        if reasons and rule.decisive:
            return Verdict(Significance.COSMETIC, set_aside_reasons, context.flapping)
    found: dict[Significance, list[str]] = {significance: [] for significance in Significance}
    for entry in GRADING:
        if isinstance(entry, tuple):
            _reworded(context, [_pair_rule(name) for name in entry], found)
        else:
            rule = REGISTRY[entry]()
            found[rule.significance] += rule.apply(context)
    ranked = sorted(Significance, key=lambda significance: significance.rank, reverse=True)
    significance = next((s for s in ranked if found[s]), Significance.COSMETIC)
    return Verdict(significance, [r for s in ranked for r in found[s]] + set_aside_reasons, context.flapping)


def _pair_rule(name: str) -> PairRule:
    rule = REGISTRY[name]()
    if not isinstance(rule, PairRule):
        raise TypeError(f"noise rule {name!r} is listed with the pair rules but is not a PairRule")
    return rule


def _reworded(context: Context, rules: list[PairRule], found: dict[Significance, list[str]]) -> None:
    """Try ``rules`` on each reworded sentence left; the first that explains one gives its reason."""
    left = []
    for before, after in context.left.changed:
        pair = Pair(before, after)
        for rule in rules:
            reason = rule.reason(pair)
            if reason:
                found[rule.significance].append(reason)
                break
        else:
            left.append((before, after))
    context.left.changed = left
