"""Markdown pipe tables in a version's text, and what changed in one between two versions: its
header, then its rows, each cell with its word-level diff.

A table is a header line, its delimiter line (``| --- | --- |``) and the rows right under it, each
line starting with ``|`` (as the extractor writes them). Tables are paired by header, columns by
their header text (a renamed column keeps its place), rows by their whole text; a row left over is
then paired with one alike (the same first cell, such as the subprocessor or the data category, or
most of its text), so an edited cell makes one changed row, not a row removed and another added.
Runs of unchanged rows are kept as their count only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from rapidfuzz import fuzz, process

from changes.words import word_diff

SIMILAR_ROW = 60.0  # rapidfuzz ratio above which a removed and an added row are one edited row
CELL_BORDER = re.compile(r"(?<!\\)\|")
ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")  # CommonMark: any ASCII punctuation may be escaped
DELIMITER_CELL = re.compile(r"^:?-{3,}:?$")

Column = tuple[int | None, int | None]


@dataclass(frozen=True)
class Table:
    """One table: its header and rows (cells unescaped), at lines ``start`` to ``end`` (exclusive)."""

    start: int
    end: int
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def is_row(line: str) -> bool:
    """Whether ``line`` is a line of a pipe table."""
    return line.lstrip().startswith("|")


def cells(line: str) -> list[str]:
    """The cells of one table line, without their Markdown escapes."""
    parts = CELL_BORDER.split(line.strip())
    parts = parts[1:] if parts and not parts[0].strip() else parts
    parts = parts[:-1] if len(parts) > 1 and not parts[-1].strip() else parts
    return [ESCAPED.sub(r"\1", part.strip()) for part in parts]


def _delimiter(line: str) -> bool:
    found = cells(line)
    return bool(found) and all(DELIMITER_CELL.match(cell.replace(" ", "")) for cell in found)


def tables_in(lines: Sequence[str]) -> list[Table]:
    """The tables of ``lines``, in order."""
    tables, i = [], 0
    while i < len(lines):
        if not (is_row(lines[i]) and i + 1 < len(lines) and _delimiter(lines[i + 1])):
            i += 1
            continue
        header, end = cells(lines[i]), i + 2
        while end < len(lines) and is_row(lines[end]):
            end += 1
        rows = tuple(_fit(cells(line), len(header)) for line in lines[i + 2 : end])
        tables.append(Table(i, end, tuple(header), rows))
        i = end
    return tables


def _fit(row: list[str], width: int) -> tuple[str, ...]:
    """``row`` made ``width`` cells long: padded, or its surplus cells kept in the last one."""
    if len(row) <= width:
        return tuple(row + [""] * (width - len(row)))
    return tuple(row[: width - 1] + [" | ".join(row[width - 1 :])])


def _key(cells: Sequence[str]) -> str:
    return " | ".join(" ".join(cell.lower().split()) for cell in cells)


def pair_tables(old: Sequence[Table], new: Sequence[Table]) -> list[tuple[Table | None, Table | None]]:
    """Old and new tables paired by header (then in order); None on one side: added or removed."""
    pairs: list[tuple[Table | None, Table | None]] = []
    matcher = SequenceMatcher(
        None, [_key(t.header) for t in old], [_key(t.header) for t in new], autojunk=False
    )
    for _, i1, i2, j1, j2 in matcher.get_opcodes():
        gone, came = list(old[i1:i2]), list(new[j1:j2])
        paired = min(len(gone), len(came))
        pairs += list(zip(gone[:paired], came[:paired]))
        pairs += [(t, None) for t in gone[paired:]] + [(None, t) for t in came[paired:]]
    return pairs


def table_changes(old_lines: Sequence[str], new_lines: Sequence[str]) -> list[dict]:
    """What changed in each table of ``old_lines`` and ``new_lines`` (see ``diff_tables``), in order."""
    found = (diff_tables(o, n) for o, n in pair_tables(tables_in(old_lines), tables_in(new_lines)))
    return [change for change in found if change]


def diff_tables(old: Table | None, new: Table | None) -> dict | None:
    """What changed from ``old`` to ``new`` (None: the table was added, or removed), None if nothing:
    ``header``, a list of cells, and ``rows``: ``{"status": "same", "count": n}`` for a run of
    unchanged rows, else ``{"status": "changed" | "added" | "removed", "cells": [...]}``. A cell is
    ``{"changed": bool, "diff": [[op, text], ...]}`` (ops of ``changes.words.word_diff``)."""
    old_header, new_header = (list(t.header) if t else [] for t in (old, new))
    columns = _columns(old_header, new_header)
    header = [_cell(_at(old_header, i), _at(new_header, j)) for i, j in columns]
    old_rows = [_under(row, columns, 0) for row in (old.rows if old else ())]
    new_rows = [_under(row, columns, 1) for row in (new.rows if new else ())]
    rows = _rows(old_rows, new_rows)
    if not any(cell["changed"] for cell in header) and all(row["status"] == "same" for row in rows):
        return None
    return {"header": header, "rows": rows, "columns": len(columns)}


def _columns(old: list[str], new: list[str]) -> list[Column]:
    """(old index, new index) of each column, paired by header; a renamed column keeps its place."""
    columns: list[Column] = []
    matcher = SequenceMatcher(None, [_key([h]) for h in old], [_key([h]) for h in new], autojunk=False)
    for _, i1, i2, j1, j2 in matcher.get_opcodes():
        paired = min(i2 - i1, j2 - j1)
        columns += [(i1 + k, j1 + k) for k in range(paired)]
        columns += [(i, None) for i in range(i1 + paired, i2)] + [(None, j) for j in range(j1 + paired, j2)]
    return columns


def _at(values: Sequence[str], index: int | None) -> str | None:
    return values[index] if index is not None else None


def _under(row: tuple[str, ...], columns: list[Column], side: int) -> tuple[str | None, ...]:
    """``row`` (of the old table, side 0, or the new one, side 1) laid out under ``columns``."""
    return tuple(_at(row, column[side]) for column in columns)


def _cell(before: str | None, after: str | None) -> dict:
    """One cell: ``before`` and ``after`` are None where the cell does not exist on that side."""
    if before is None or after is None:
        text, op = (after, "insert") if before is None else (before, "delete")
        return {"changed": bool(text), "diff": [[op, text]] if text else []}
    return {"changed": before != after, "diff": word_diff(before, after) if before or after else []}


def _rows(old: list[tuple[str | None, ...]], new: list[tuple[str | None, ...]]) -> list[dict]:
    """The rows of the diff: runs of equal rows as their count, the rows of each run that differs."""
    rows: list[dict] = []
    matcher = SequenceMatcher(
        None, [_key(_text(r)) for r in old], [_key(_text(r)) for r in new], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.append({"status": "same", "count": i2 - i1})
            continue
        rows += _edited(old[i1:i2], new[j1:j2])
    return rows


def _edited(gone: list[tuple[str | None, ...]], came: list[tuple[str | None, ...]]) -> list[dict]:
    """The rows of a run that differs, in reading order: a removed row before the rows that follow it."""
    pairs = _pair_rows(gone, came)
    removed = [i for i in range(len(gone)) if i not in pairs.values()]
    rows = []
    for k, row in enumerate(came):
        follows = pairs.get(k, next((pairs[m] for m in range(k + 1, len(came)) if m in pairs), len(gone)))
        while removed and removed[0] < follows:
            rows.append(_row("removed", gone[removed.pop(0)], None))
        before = gone[pairs[k]] if k in pairs else None
        rows.append(_row("added" if before is None else "changed", before, row))
    return rows + [_row("removed", gone[i], None) for i in removed]


def _text(row: tuple[str | None, ...]) -> list[str]:
    return [cell or "" for cell in row]


def _pair_rows(
    gone: Sequence[tuple[str | None, ...]], came: Sequence[tuple[str | None, ...]]
) -> dict[int, int]:
    """New row index -> old row index of the rows alike: the same first cell, else a first cell and a
    whole row alike (a row naming another subprocessor is another row)."""
    firsts = [_key(_text(row)[:1]) for row in gone]
    pairs: dict[int, int] = {}
    for k, row in enumerate(came):
        first = _key(_text(row)[:1])
        match = next((i for i, f in enumerate(firsts) if f == first and i not in pairs.values()), None)
        if first and match is not None:
            pairs[k] = match
    for k, row in enumerate(came):
        first = _key(_text(row)[:1])
        free = {
            i: _key(_text(old))
            for i, old in enumerate(gone)
            if i not in pairs.values() and fuzz.ratio(firsts[i], first) >= SIMILAR_ROW
        }
        if k in pairs or not free:
            continue
        best = process.extractOne(_key(_text(row)), free, scorer=fuzz.ratio, score_cutoff=SIMILAR_ROW)
        if best:
            pairs[k] = best[2]
    return pairs


def _row(status: str, before: tuple[str | None, ...] | None, after: tuple[str | None, ...] | None) -> dict:
    width = len(before if before is not None else after or ())
    olds = before if before is not None else (None,) * width
    news = after if after is not None else (None,) * width
    return {"status": status, "cells": [_cell(o, n) for o, n in zip(olds, news)]}


def side(cell: dict, op: str) -> str:
    """A cell's text before (``op`` delete) or after (``op`` insert) the change."""
    return "".join(text for kind, text in cell["diff"] if kind in ("equal", op))


def row_lines(header: list[dict], rows: list[dict]) -> list[str]:
    """The changed ``rows`` of a table diff as plain-text lines: "<status> row:", then "Column: value"
    per cell (of a changed row, its first cell and "Column: old → new" per changed cell)."""
    names = [side(cell, "insert") or side(cell, "delete") for cell in header]
    lines = []
    for row in rows:
        if row["status"] == "same":
            continue
        lines.append(f"{row['status']} row:")
        for i, (name, cell) in enumerate(zip(names, row["cells"])):
            before, after = side(cell, "delete"), side(cell, "insert")
            if row["status"] != "changed":
                value = after if row["status"] == "added" else before
                lines += [f"  {name}: {value}"] if value else []
            elif cell["changed"]:
                lines.append(f"  {name}: {before or '(empty)'} → {after or '(empty)'}")
            elif i == 0:
                lines.append(f"  {name}: {after}")
    return lines
