"""The structure of a version's Markdown: sections by heading, and the sentences of each."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# a sentence ends at . ! ? followed by space and an upper-case letter, digit, quote or bracket, or at a
# period the page's markup glued to the next section's number and heading ("...any such Claim.2 Claims")
SENTENCE_END = re.compile(
    r"(?<=[.!?])[\"'”’)]?\s+(?=[\"'“‘(\[]?[A-Z0-9])|(?<=[^\W\d_]\.)(?=\d+(?:\.\d+)*\.?\s+[A-Z])"
)
LIST_MARKER = re.compile(r"^\s*(?:[-+*]\s*)?(?:\(?\w{1,4}[.)])?$")
ABBREVIATION = re.compile(r"\b(?:e\.g|i\.e|etc|vs|Inc|Ltd|Co|Corp|No|Art|Sec|U\.S|Mr|Ms|Dr|St)\.$")


@dataclass
class Section:
    """One heading and the lines under it (up to the next heading of any level)."""

    heading: str
    path: list[str]
    lines: list[str] = field(default_factory=list)

    @cached_property
    def sentences(self) -> list[str]:
        """The section's sentences in order (a list item is at least one sentence, a table row is one)."""
        return [s for line in self.lines for s in ([line] if line.startswith("|") else split_sentences(line))]


def split_sentences(line: str) -> list[str]:
    """The sentences of one Markdown line; abbreviations such as "e.g." and list numbers such as
    "2." do not end a sentence."""
    parts, start = [], 0
    for match in SENTENCE_END.finditer(line):
        before = line[start : match.start()]
        if ABBREVIATION.search(before) or LIST_MARKER.match(before):
            continue
        parts.append(line[start : match.start()].strip())
        start = match.end()
    parts.append(line[start:].strip())
    return [p for p in parts if p]


def heading_of(line: str) -> tuple[int, str] | None:
    """(level, text) when ``line`` is an ATX heading."""
    match = HEADING.match(line)
    if match and match.group(2):
        return len(match.group(1)), match.group(2)
    return None


def outline(text: str) -> list[Section]:
    """The sections of ``text`` in order; text before the first heading is a section with heading ""."""
    sections = [Section("", [])]
    stack: list[tuple[int, str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        found = heading_of(line)
        if found is None:
            sections[-1].lines.append(line)
            continue
        level, title = found
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        sections.append(Section(title, [t for _, t in stack]))
    return [s for s in sections if s.heading or s.lines]
