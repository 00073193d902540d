"""The rule registry and what every rule reads: the change's texts, sections and what is left of it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

from changes.compare import SectionChange, word_diff
from changes.meaning import key, meaning
from policywatch.verdicts import Significance

#: Every rule class by its ``name``, filled as rule classes are defined.
REGISTRY: dict[str, type[Rule]] = {}


class Rule:
    """One noise rule: it explains some differences of a change and says why, in ``apply``.

    A subclass that sets ``name`` is registered under it; ``significance`` is what the differences it
    explains amount to; a ``decisive`` rule that gives reasons decides the whole change.
    """

    name: ClassVar[str]
    significance: ClassVar[Significance] = Significance.COSMETIC
    decisive: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            if cls.name in REGISTRY:
                raise ValueError(f"two noise rules are named {cls.name!r}: {REGISTRY[cls.name]} and {cls}")
            REGISTRY[cls.name] = cls

    def apply(self, context: Context) -> list[str]:
        """The reasons for what this rule explains, taking it out of ``context.left``."""
        raise NotImplementedError


class PairRule(Rule):
    """A rule on one reworded sentence at a time (see ``grade``: the first pair rule that explains a
    sentence gives its reason)."""

    significance = Significance.MINOR

    def reason(self, pair: Pair) -> str | None:
        """Why ``pair`` is noise, or None when this rule does not explain it."""
        raise NotImplementedError


@dataclass
class Differences:
    """The differences of a change no rule has explained yet: sentences added, removed and reworded."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[tuple[str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def drop(self, sentences: set[str]) -> None:
        """Take ``sentences`` out of the added and the removed ones."""
        self.added = [s for s in self.added if s not in sentences]
        self.removed = [s for s in self.removed if s not in sentences]


def differences(sections: list[SectionChange]) -> Differences:
    """The added, removed and reworded sentences (raw text) of ``sections``."""
    diff = Differences()
    for section in sections:
        added, removed = section.unpaired
        diff.added += added
        diff.removed += removed
        diff.changed += [(c["before"], c["after"]) for c in section.changed]
    return diff


@dataclass
class Context:
    """What the rules read: the parent, the new text, their sections, the recent versions before the
    parent (oldest first) and ``left``, the differences not yet explained."""

    parent: str
    text: str
    sections: list[SectionChange]
    recent: Sequence[str] = ()
    left: Differences = field(init=False)
    flapping: bool = False

    def __post_init__(self) -> None:
        self.left = differences(self.sections)


@dataclass
class Pair:
    """A reworded sentence: its old and new wording, with their meanings and word edits."""

    before: str
    after: str

    @cached_property
    def meanings(self) -> tuple[str, str]:
        return meaning(self.before), meaning(self.after)

    @cached_property
    def edits(self) -> list[tuple[str, str]]:
        """The inserted and deleted runs turning one meaning into the other."""
        return [(op, text) for op, text in word_diff(*self.meanings) if op != "equal"]


def word_count(text: str) -> int:
    """Words of a version (whitespace-separated)."""
    return len(text.split())


def keys_of(sentences: list[str]) -> Counter:
    """How many times each meaning key occurs among ``sentences``."""
    return Counter(key(s) for s in sentences)


def short(sentence: str, limit: int = 80) -> str:
    """``sentence`` on one line, cut to ``limit`` characters for a reason."""
    text = " ".join(sentence.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plural(n: int, word: str) -> str:
    """E.g. "1 sentence", "3 sentences"."""
    return f"{n} {word}{'s' * (n > 1)}"
