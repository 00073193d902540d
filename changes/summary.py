"""The one-paragraph human summary of a change."""

from __future__ import annotations

from changes.compare import SectionChange
from changes.plain import plain

SHOWN_SECTIONS = 3


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def section_phrase(section: SectionChange) -> str:
    """E.g. "section 'Fees' modified — 2 clauses added, 1 removed" (names without Markdown markers)."""
    heading = plain(section.heading)
    name = f"section '{heading}'" if heading else "the introduction"
    if section.old_heading is not None:
        name += f" (was '{plain(section.old_heading)}')"
    if section.status in ("added", "removed", "moved"):
        return f"{name} {section.status}"
    changed = len(section.changed)
    counts = [
        (len(section.added) - changed, "added"),
        (len(section.removed) - changed, "removed"),
        (changed, "reworded"),
    ]
    parts = [f"{n} {verb}" for n, verb in counts if n > 0]
    if not parts:
        return f"{name} modified"
    parts[0] = f"{_plural(int(parts[0].split()[0]), 'clause')} {parts[0].split(' ', 1)[1]}"
    return f"{name} modified — {', '.join(parts)}"


def summarise(
    title: str, significance: str, sections: list[SectionChange], reasons: list[str], topics: list[str]
) -> str:
    """E.g. "Usage Policy: section 'Exceptions' modified — 2 clauses added, 1 removed; topics:
    Government and national security." (``topics`` are labels: readers see the summary)."""
    if significance == "cosmetic":
        why = "; ".join(reasons) if reasons else "no wording change"
        return f"{title}: cosmetic change only — {why}."
    phrases = [
        section_phrase(s) for s in sections if s.added or s.removed or s.changed or s.status != "modified"
    ]
    shown = phrases[:SHOWN_SECTIONS]
    if len(phrases) > SHOWN_SECTIONS:
        shown.append(f"and {_plural(len(phrases) - SHOWN_SECTIONS, 'more section')}")
    text = f"{title}: {'; '.join(shown) or 'wording changed'}"
    if significance == "minor":
        text += f" ({'; '.join(reasons)})"
    if topics:
        text += f"; topics: {', '.join(topics)}"
    return text + "."
