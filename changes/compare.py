"""Comparing two versions' Markdown: which sections changed, and which sentences within them.

Sections are paired by heading path, then by heading, then by content similarity (rapidfuzz), so a
renamed or reordered section is "modified"/"moved", not "removed + added". Within a pair the
sentences are aligned with difflib's SequenceMatcher on their meaning keys (changes.meaning), so a
sentence whose link target or punctuation changed is equal; a removed and an added sentence that
are alike are reported as "changed", with a word-level diff. A changed sentence is also listed in
"added" (new wording) and "removed" (old wording), so readers of those lists see every clause. A
table row is one sentence; the section also keeps what changed in each of its tables, row by row and
cell by cell (changes.tables), for readers to see a table as a table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher

from rapidfuzz import fuzz, process

from changes.meaning import key, meaning
from changes.outline import Section, outline
from changes.tables import is_row, table_changes
from changes.words import word_diff

SIMILAR_SENTENCE = 60.0  # rapidfuzz ratio above which a removed and an added sentence are one edit
SIMILAR_SECTION = 50.0  # token-set ratio above which two unpaired sections are one, renamed


@dataclass
class SectionChange:
    """What changed in one section."""

    heading: str
    path: list[str]
    status: str
    old_heading: str | None = None
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)
    cosmetic: list[tuple[str, str]] = field(default_factory=list)
    tables: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        """The section as stored in Change.details["sections"] (``tables`` only when one changed)."""
        stored = {
            "heading": self.heading,
            "path": self.path,
            "status": self.status,
            "old_heading": self.old_heading,
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed,
        }
        return stored | ({"tables": self.tables} if self.tables else {})

    @property
    def unpaired(self) -> tuple[list[str], list[str]]:
        """The added and the removed sentences that are not one side of a reworded pair."""
        return unpaired(self.added, self.removed, self.changed)


def unpaired(added: list[str], removed: list[str], changed: list[dict]) -> tuple[list[str], list[str]]:
    """``added`` and ``removed`` without the sentences that are one side of a ``changed`` pair (a changed
    sentence is listed in both, see the module docstring)."""
    after, before = {c["after"] for c in changed}, {c["before"] for c in changed}
    return [s for s in added if s not in after], [s for s in removed if s not in before]


def shown_clauses(section: dict) -> tuple[list[str], list[str], list[dict]]:
    """A stored section's clauses as readers see them: (only added, only removed, reworded pairs),
    each once; table rows are left out when the section keeps its tables (shown as tables)."""
    changed = section.get("changed", [])
    added, removed = unpaired(section.get("added", []), section.get("removed", []), changed)
    if section.get("tables"):
        added, removed = [s for s in added if not is_row(s)], [s for s in removed if not is_row(s)]
        changed = [c for c in changed if not (is_row(c["before"]) and is_row(c["after"]))]
    return added, removed, changed


def pair_sections(old: list[Section], new: list[Section]) -> list[tuple[int | None, int | None]]:
    """Pairs (old index, new index) covering every section; None on one side = added or removed."""
    pairs: dict[int, int] = {}
    for identity in (lambda s: tuple(s.path), lambda s: s.heading.lower()):
        taken = set(pairs.values())
        free_new: dict[object, list[int]] = {}
        for j, section in enumerate(new):
            if j not in taken:
                free_new.setdefault(identity(section), []).append(j)
        for i, section in enumerate(old):
            if i not in pairs and free_new.get(identity(section)):
                pairs[i] = free_new[identity(section)].pop(0)
    _pair_by_content(old, new, pairs)
    taken = set(pairs.values())
    result: list[tuple[int | None, int | None]] = [(i, pairs.get(i)) for i in range(len(old))]
    result += [(None, j) for j in range(len(new)) if j not in taken]
    return result


def _pair_by_content(old: list[Section], new: list[Section], pairs: dict[int, int]) -> None:
    taken = set(pairs.values())
    free_old = [i for i in range(len(old)) if i not in pairs and old[i].lines]
    free_new = {j: " ".join(new[j].lines) for j in range(len(new)) if j not in taken and new[j].lines}
    for i in free_old:
        if not free_new:
            return
        best = process.extractOne(
            " ".join(old[i].lines), free_new, scorer=fuzz.token_set_ratio, score_cutoff=SIMILAR_SECTION
        )
        if best:
            pairs[i] = best[2]
            del free_new[best[2]]


def diff_sentences(
    old: list[str], new: list[str]
) -> tuple[list[str], list[str], list[tuple[str, str]], list[tuple[str, str]]]:
    """(added, removed, changed pairs, cosmetic pairs) between two sentence lists."""
    keys_old, keys_new = [key(s) for s in old], [key(s) for s in new]
    added, removed, changed, cosmetic = [], [], [], []
    matcher = SequenceMatcher(None, keys_old, keys_new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            cosmetic += [(a, b) for a, b in zip(old[i1:i2], new[j1:j2]) if a != b]
            continue
        gone = [s for s, k in zip(old[i1:i2], keys_old[i1:i2]) if k]
        came = [s for s, k in zip(new[j1:j2], keys_new[j1:j2]) if k]
        pairs, gone, came = _pair_alike(gone, came)
        changed += pairs
        removed += gone
        added += came
    return added, removed, changed, cosmetic


def _pair_alike(gone: list[str], came: list[str]) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    if not gone or not came:
        return [], gone, came
    pairs, left = [], list(came)
    rest = []
    for sentence in gone:
        best = process.extractOne(
            meaning(sentence),
            {i: meaning(s) for i, s in enumerate(left)},
            scorer=fuzz.ratio,
            score_cutoff=SIMILAR_SENTENCE,
        )
        if best:
            pairs.append((sentence, left.pop(best[2])))
        else:
            rest.append(sentence)
    return pairs, rest, left


def compare_sections(old_text: str, new_text: str) -> list[SectionChange]:
    """Every section that differs between two versions, in the new version's order (removed ones last)."""
    old, new = outline(old_text), outline(new_text)
    pairs = pair_sections(old, new)
    moved = _moved(pairs)
    changes: list[tuple[float, SectionChange]] = []
    for i, j in pairs:
        if i is not None and j is None:
            section = old[i]
            removed = SectionChange(
                section.heading,
                section.path,
                "removed",
                removed=[s for s in section.sentences if key(s)],
                tables=table_changes(section.lines, []),
            )
            changes.append((len(new) + i, removed))
        elif i is None and j is not None:
            section = new[j]
            added = SectionChange(
                section.heading,
                section.path,
                "added",
                added=[s for s in section.sentences if key(s)],
                tables=table_changes([], section.lines),
            )
            changes.append((j, added))
        elif i is not None and j is not None:
            change = _section_change(old[i], new[j], (i, j) in moved)
            if change:
                changes.append((j, change))
    return [c for _, c in sorted(changes, key=lambda item: item[0])]


def _section_change(old: Section, new: Section, moved: bool) -> SectionChange | None:
    renamed = old.heading != new.heading
    if old.lines == new.lines and not renamed and not moved:
        return None
    added, removed, changed, cosmetic = diff_sentences(old.sentences, new.sentences)
    status = "modified" if added or removed or changed or renamed else ("moved" if moved else "modified")
    change = SectionChange(
        new.heading,
        new.path,
        status,
        old_heading=old.heading if renamed else None,
        added=added + [b for _, b in changed],
        removed=removed + [a for a, _ in changed],
        changed=[{"before": a, "after": b, "diff": word_diff(a, b)} for a, b in changed],
        cosmetic=cosmetic,
        tables=table_changes(old.lines, new.lines) if added or removed or changed else [],
    )
    if renamed and key(old.heading) == key(new.heading):
        change.cosmetic.append((old.heading, new.heading))
    elif renamed and not (old.heading and new.heading):
        # paired with the untitled introduction: the heading is gone (or new), it was not reworded
        change.added[:0] = [new.heading] if new.heading else []
        change.removed[:0] = [old.heading] if old.heading else []
    elif renamed:
        change.changed.insert(
            0, {"before": old.heading, "after": new.heading, "diff": word_diff(old.heading, new.heading)}
        )
        change.added.insert(0, new.heading)
        change.removed.insert(0, old.heading)
    return change


def _moved(pairs: list[tuple[int | None, int | None]]) -> set[tuple[int, int]]:
    """Paired sections that left the common order (not on the longest increasing run of new indexes)."""
    matched = [(i, j) for i, j in pairs if i is not None and j is not None]
    keep = SequenceMatcher(None, [j for _, j in matched], sorted(j for _, j in matched), autojunk=False)
    in_order: set[tuple[int | None, int | None]] = set()
    for block in keep.get_matching_blocks():
        in_order.update(matched[block.a + k] for k in range(block.size))
    return {p for p in matched if p not in in_order}
