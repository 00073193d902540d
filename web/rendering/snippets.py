"""Search snippets as safe HTML: the store marks matches with START/STOP; the page shows ``<mark>``."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from store.queries.search import START, STOP

_MARKS = re.compile(f"([{START}{STOP}])")


def highlighted(marked: dict[int, str]) -> dict[int, Markup]:
    """Each version's marked snippet, highlighted."""
    return {version_id: highlight(snippet) for version_id, snippet in marked.items()}


def highlight(snippet: str) -> Markup:
    """A marked snippet as safe HTML: the text escaped, the marks turned into balanced ``<mark>`` tags."""
    out, open_ = [], False
    for part in _MARKS.split(escape(snippet)):  # escaping leaves the marks alone
        if part == START:
            if not open_:
                out.append("<mark>")
            open_ = True
        elif part == STOP:
            if open_:
                out.append("</mark>")
            open_ = False
        else:
            out.append(part)
    if open_:
        out.append("</mark>")
    return Markup("".join(out))
