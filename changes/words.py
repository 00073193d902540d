"""Word-level diffs of two short texts (a clause, a table cell)."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

WORD = re.compile(r"\s+|\w+|[^\w\s]")


def word_diff(before: str, after: str) -> list[list[str]]:
    """[op, text] runs turning ``before`` into ``after`` word by word; op is equal, insert or delete."""
    a, b = WORD.findall(before), WORD.findall(after)
    runs: list[list[str]] = []

    def emit(op: str, text: str) -> None:
        if not text:
            return
        if runs and runs[-1][0] == op:
            runs[-1][1] += text
        else:
            runs.append([op, text])

    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            emit("equal", "".join(a[i1:i2]))
        else:
            emit("delete", "".join(a[i1:i2]))
            emit("insert", "".join(b[j1:j2]))
    return runs
