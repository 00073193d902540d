"""Provisions: where a version states each provision type of the catalog, and which ones a change touches.

The catalog is the bundled provisions.yaml, extended or overridden by an operator's file
(``POLICYWATCH_PROVISIONS_FILE``, same shape). A provision's instance in a version is the sentences of
its outline that state it (see provisions.yaml for the rules) and the heading of the section that
holds most of them; a version that has none does not state it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import accumulate
from pathlib import Path

from changes.data_files import bundled_and_extra
from changes.meaning import meaning
from changes.outline import Section, outline
from changes.taxonomy import Taxonomy, Topic
from policywatch.settings import Settings

#: The reported text of an instance stops after this many words (its clauses are all kept).
TEXT_WORDS = 1500
#: A ``near`` sentence counts at most this many sentences after a clause of its provision.
NEAR = 2
NEVER = re.compile(r"(?!)")
QUESTION = re.compile(r"\?[*_\s]*$")
# a table row holds many statements: its cells, and the items of a list written inline in a cell
TABLE_ROW = re.compile(r"^\s*\|")
CELL_OR_ITEM = re.compile(r"\s*\|\s*|\s+-\s+(?=\S)")
# a section number glued to the end of a sentence by the page's markup ("...by law.13.")
GLUED_NUMBER = re.compile(r"(?<=[^\W\d_][.;:)])\d+(?:\.\d+)*\.?(?=\s|$)")
# words whose change alone is a grammar fix, not a change of what a clause says
GRAMMAR_WORDS = frozenset(
    "a an the and or of to in on at by for with as from that which this these those".split()
)


class ProvisionCatalogError(Exception):
    """A provisions file cannot be used: names the file and the reason."""


@dataclass(frozen=True)
class ProvisionType:
    """One provision type of the catalog and the patterns that identify its clauses."""

    id: str
    label: str
    description: str
    topics: tuple[str, ...]
    regulations: tuple[str, ...]
    clauses: re.Pattern
    headings: re.Pattern
    in_section: re.Pattern
    near: re.Pattern
    requires: re.Pattern | None
    exclude: re.Pattern
    cues: tuple[str, ...] = ()

    def states(self, sentence: str, in_cued_section: bool) -> bool:
        """Whether ``sentence`` states this provision (in a section whose heading cues it, or not); a
        question states nothing."""
        if QUESTION.search(sentence) or self.exclude.search(sentence):
            return False
        if self.requires and not self.requires.search(sentence):
            return False
        return bool(self.clauses.search(sentence) or (in_cued_section and self.in_section.search(sentence)))


@dataclass(frozen=True)
class Instance:
    """Where a version states one provision: the heading of its main section and its clauses."""

    provision: str
    heading: str | None
    path: tuple[str, ...]
    clauses: tuple[str, ...]

    @property
    def text(self) -> str:
        """The clauses, one per line, up to ``TEXT_WORDS`` words."""
        kept: list[str] = []
        words = 0
        for clause in self.clauses:
            if kept and words + len(clause.split()) > TEXT_WORDS:
                break
            kept.append(clause)
            words += len(clause.split())
        return "\n".join(kept)

    def words(self, ignored: frozenset[str] = frozenset()) -> Counter[str]:
        """What the clauses say, as provision changes compare it (see ``said``)."""
        return said(self.clauses, ignored)


def said(lines: Iterable[str], ignored: frozenset[str] = frozenset()) -> Counter[str]:
    """The words of ``lines`` in any order, without links, markup, case, punctuation, glued section
    numbers, grammar words and ``ignored``: what provision changes compare."""
    found: Counter[str] = Counter()
    for line in lines:
        words = meaning(GLUED_NUMBER.sub("", line)).split()
        found.update(w for w in words if w not in GRAMMAR_WORDS and w not in ignored)
    return found


@dataclass(frozen=True)
class Catalog:
    """The provision types in force, in file order."""

    types: tuple[ProvisionType, ...]

    def get(self, provision_id: str) -> ProvisionType | None:
        """The type with ``provision_id``, if any."""
        return next((t for t in self.types if t.id == provision_id), None)

    @cached_property
    def claimed_topics(self) -> frozenset[str]:
        """The taxonomy topics some provision type belongs to: a change is tagged with them only through
        a provision it touches."""
        return frozenset(topic for kind in self.types for topic in kind.topics)

    def topics_of_change(self, taxonomy: Taxonomy, touched_ids: list[str], found: list[str]) -> list[Topic]:
        """A change's topics: those of the provisions it touches, and of the topics the taxonomy's
        patterns ``found`` in it only those no provision type belongs to; in taxonomy order."""
        kinds = [k for k in map(self.get, touched_ids) if k]
        wanted = {t for k in kinds for t in k.topics} | {t for t in found if t not in self.claimed_topics}
        return [topic for topic in taxonomy.topics if topic.id in wanted]

    def regulations_of(self, touched_ids: list[str]) -> set[str]:
        """The regulations the provisions ``touched_ids`` bear on."""
        return {r for k in map(self.get, touched_ids) if k for r in k.regulations}

    def find(self, text: str) -> dict[str, Instance]:
        """The instance of every provision type ``text`` states, by id."""
        scan = Scan(outline(text))
        found = {}
        for kind in self.types:
            instance = _instance(kind, scan)
            if instance:
                found[kind.id] = instance
        return found


class Scan:
    """A version's sentences in order, with their sections, and where a cue word occurs among them."""

    def __init__(self, sections: list[Section]) -> None:
        self.sections = sections
        self.sentences: list[str] = []
        self.section_of: list[int] = []
        self.spans: list[range] = []
        for index, section in enumerate(sections):
            statements = [part for sentence in section.sentences for part in _statements(sentence)]
            self.spans.append(range(len(self.sentences), len(self.sentences) + len(statements)))
            self.sentences += statements
            self.section_of += [index] * len(statements)
        lowered = [s.lower() for s in self.sentences]
        self.starts = list(accumulate((len(s) + 1 for s in lowered), initial=0))
        self.lowered = "\n".join(lowered)

    def containing(self, cues: tuple[str, ...]) -> set[int]:
        """The indexes of the sentences that contain any of ``cues`` (lower-case fragments)."""
        found: set[int] = set()
        for cue in cues:
            at = self.lowered.find(cue)
            while at != -1:
                index = bisect_right(self.starts, at) - 1
                found.add(index)
                at = self.lowered.find(cue, self.starts[index + 1])
        return found

    def in_sections(self, sections: set[int]) -> set[int]:
        """The indexes of the sentences of ``sections``."""
        return {i for section in sections for i in self.spans[section]}


def _statements(sentence: str) -> list[str]:
    """The sentence, or the cells and inline list items of a table row."""
    if not TABLE_ROW.match(sentence):
        return [sentence]
    return [part for part in CELL_OR_ITEM.split(sentence) if part.strip(" -|")]


def _instance(kind: ProvisionType, scan: Scan) -> Instance | None:
    cued = {
        i for i, section in enumerate(scan.sections) if any(kind.headings.search(h) for h in section.path)
    }
    tried = scan.containing(kind.cues) if kind.cues else set(range(len(scan.sentences)))
    hits = {
        i
        for i in tried | scan.in_sections(cued)
        if kind.states(scan.sentences[i], scan.section_of[i] in cued)
    }
    for i in sorted(hits):
        for j in range(i + 1, min(i + 1 + NEAR, len(scan.sentences))):
            if scan.section_of[j] == scan.section_of[i] and kind.near.search(scan.sentences[j]):
                hits.add(j)
    if not hits:
        return None
    ordered = sorted(hits)
    main = scan.sections[Counter(scan.section_of[i] for i in ordered).most_common(1)[0][0]]
    clauses = tuple(dict.fromkeys(scan.sentences[i] for i in ordered))
    return Instance(kind.id, main.heading or None, tuple(main.path), clauses)


def touched(
    before: dict[str, Instance],
    after: dict[str, Instance],
    title: str = "",
    texts: tuple[str, str] | None = None,
) -> list[str]:
    """The provisions whose clauses say something else in ``after`` than in ``before``: edited beyond
    punctuation, markup and grammar words, appeared or gone (a clause that only moved is untouched). The
    words of the document's ``title`` are left out: "this Privacy Policy" that becomes "this policy"
    names the document otherwise, it does not change the clause. Given the documents' ``texts`` (before,
    after), a provision is touched only by words the document itself gained or lost: words that only
    moved between sentences (a heading glued to a clause, then split from it) change no clause."""
    ignored = frozenset(meaning(title).split())
    edited = _edited(texts, ignored) if texts else None
    ids = list(dict.fromkeys([*before, *after]))
    empty: Counter[str] = Counter()
    found = []
    for i in ids:
        was = before[i].words(ignored) if i in before else empty
        now = after[i].words(ignored) if i in after else empty
        if was != now and (edited is None or _agrees(edited, was, now)):
            found.append(i)
    return found


def _edited(texts: tuple[str, str], ignored: frozenset[str]) -> Counter[str]:
    """How many times each word occurs more (or fewer, negative) in the second text than the first
    (read from the lines that differ: the others cancel out)."""
    before, after = Counter(texts[0].splitlines()), Counter(texts[1].splitlines())
    delta = said((after - before).elements(), ignored)
    delta.subtract(said((before - after).elements(), ignored))
    return delta


def _agrees(edited: Counter[str], was: Counter[str], now: Counter[str]) -> bool:
    """Whether some word the clauses gained (lost) from ``was`` to ``now`` is one the document gained
    (lost) too."""
    change = Counter(now)
    change.subtract(was)
    return any(n and edited[w] and (n > 0) == (edited[w] > 0) for w, n in change.items())


def _pattern(source: str, entry: dict, field: str) -> re.Pattern:
    patterns = entry.get(field) or []
    if not isinstance(patterns, list):
        raise ProvisionCatalogError(f"{source}: provision {entry.get('id')!r}: '{field}' is not a list")
    if not patterns:
        return NEVER
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns), re.I)
    except re.error as exc:
        raise ProvisionCatalogError(f"{source}: provision {entry.get('id')!r}: '{field}': {exc}") from None


def _topic_ids(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)


def _types(source: str, data: object) -> list[ProvisionType]:
    if not isinstance(data, dict) or not isinstance(data.get("provisions"), list):
        raise ProvisionCatalogError(f"{source}: expected a mapping with a 'provisions' list")
    types = []
    for entry in data["provisions"]:
        if not isinstance(entry, dict) or not entry.get("id"):
            raise ProvisionCatalogError(f"{source}: provision {entry!r} has no id")
        types.append(
            ProvisionType(
                id=str(entry["id"]),
                label=str(entry.get("label") or entry["id"]),
                description=str(entry.get("description") or ""),
                topics=_topic_ids(entry.get("topic")),
                regulations=tuple(str(r) for r in entry.get("regulations") or []),
                clauses=_pattern(source, entry, "clauses"),
                headings=_pattern(source, entry, "headings"),
                in_section=_pattern(source, entry, "in_section"),
                near=_pattern(source, entry, "near"),
                requires=_pattern(source, entry, "requires") if entry.get("requires") else None,
                exclude=_pattern(source, entry, "not"),
                cues=tuple(str(c).lower() for c in entry.get("cues") or []),
            )
        )
    return types


@lru_cache(maxsize=8)
def load_catalog(extra: Path | None = None) -> Catalog:
    """The bundled provision types, extended or overridden by those of the operator's file ``extra``."""
    return Catalog(tuple(bundled_and_extra("provisions.yaml", extra, _types, ProvisionCatalogError)))


def catalog_for(settings: Settings) -> Catalog:
    """The catalog in force under ``settings`` (its ``provisions_file``, if any)."""
    return load_catalog(settings.provisions_file)
