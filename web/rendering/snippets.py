"""Search snippets as safe HTML: the store marks matches with START/STOP; the page shows ``<mark>``."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

from changes.plain import plain
from store.queries.search import START, STOP

_MARKS = re.compile(f"([{START}{STOP}])")


def highlighted(marked: dict[int, str]) -> dict[int, Markup]:
    """Each version's marked snippet, highlighted, without Markdown's markers."""
    return {version_id: highlight(plain(snippet)) for version_id, snippet in marked.items()}


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


def grouped_hits(rows: Sequence, snippets: Mapping[int, Markup]) -> list[dict]:
    """Search hits with consecutive versions of one document showing the same passage folded into
    one entry: its row (the first listed), the snippet, and the versions it stands for."""
    groups: list[dict] = []
    for row in rows:
        snippet = snippets.get(row.id, Markup(""))
        last = groups[-1] if groups else None
        if last and last["row"].document == row.document and last["snippet"] == snippet:
            last["seqs"].append(row.seq)
        else:
            groups.append({"row": row, "snippet": snippet, "seqs": [row.seq]})
    return groups
