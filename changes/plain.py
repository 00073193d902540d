"""Markdown as the words a reader sees, for the places that show a version's text as text (redlines,
clauses, search snippets, emails): no heading hashes, emphasis markers, backslash escapes or table
pipes. Rendering a whole version as HTML is web.rendering.markdown's job."""

from __future__ import annotations

import re

HEADING = re.compile(r"(?:^|(?<=\s))#{1,6}(?=\s)\s*", re.M)  # '# Title', also mid-snippet
EMPHASIS = re.compile(r"(?<!\\)(?:\*\*|__)")
ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~])")
TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$\n?", re.M)
TABLE_ROW = re.compile(r"^[ \t]*\|(.*?)\|?[ \t]*$", re.M)
CELL_BORDER = re.compile(r"\s*(?<!\\)\|\s*")


def _row(match: re.Match) -> str:
    return " · ".join(cell.strip() for cell in CELL_BORDER.split(match.group(1).strip()))


def plain(text: str) -> str:
    """``text`` without Markdown's markers: '## Data', '**Last updated:**', '\\_puid' and a table row
    '| a | b |' read 'Data', 'Last updated:', '_puid' and 'a · b'; a table's rule line is dropped."""
    text = TABLE_ROW.sub(_row, TABLE_RULE.sub("", text))
    return ESCAPE.sub(r"\1", EMPHASIS.sub("", HEADING.sub("", text)))
