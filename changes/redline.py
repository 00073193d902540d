"""Word-level comparison of any two version texts, as blocks the redline and side-by-side views render.

Lines are aligned first (a longest common subsequence of lines, rapidfuzz's ``Indel.opcodes``,
in C++), then the words of each changed run of lines (``difflib``, whose longest-block-first
matching keeps a sentence's edits readable), so a long policy diffs quickly. A run rewritten as a
whole (less than ``REWRITTEN`` of the shorter side's words kept, in order) shows as removed then
added: marking the few little words both happen to share would only cut it into fragments, and
costs the most. Long unchanged runs fold into a gap that keeps ``CONTEXT`` lines on each side.

A table a change touches is one ``table`` block, shown as a table (changes.tables: header, changed
rows with their cells' word-level diffs, rows added and removed); its segments still cover all its
lines, so the inline segments rebuild both texts.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from rapidfuzz.distance import Indel, LCSseq

from changes.tables import diff_tables, pair_tables, tables_in

CONTEXT = 3
WORDS = re.compile(r"\s+|\w+|[^\w\s]")
MAX_WORD_DIFF = 20_000  # tokens per side above which a changed run shows as removed + added whole
REWRITTEN = 0.5  # share of the shorter side's words kept (in order) below which a run counts as rewritten


@dataclass(frozen=True)
class Segment:
    """A piece of text and what happened to it: ``equal``, ``insert`` or ``delete``."""

    op: str
    text: str


@dataclass
class Block:
    """``same`` lines, a ``gap`` of unchanged lines folded away, a ``changed`` run of lines
    (``removed`` lines of the old text replaced by ``added`` lines of the new one), or a changed
    ``table`` (its lines' segments, and the ``table`` diff of changes.tables.diff_tables)."""

    kind: str
    lines: list[str] = field(default_factory=list)
    old: list[Segment] = field(default_factory=list)
    new: list[Segment] = field(default_factory=list)
    inline: list[Segment] = field(default_factory=list)
    removed: int = 0
    added: int = 0
    table: dict | None = None

    @property
    def skipped(self) -> int:
        return len(self.lines)

    @property
    def sides(self) -> tuple[bool, bool]:
        """Whether the block holds lines of the old text, and of the new one."""
        return (self.removed > 0, self.added > 0) if self.kind in ("changed", "table") else (True, True)


@dataclass(frozen=True)
class Comparison:
    """The blocks of a comparison and how many words were added and removed."""

    blocks: list[Block]
    added_words: int
    removed_words: int

    @property
    def identical(self) -> bool:
        return not (self.added_words or self.removed_words)


def compare_texts(old: str, new: str, context: int = CONTEXT) -> Comparison:
    """The word-level comparison of ``old`` with ``new``."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    opcodes = _line_runs(old_lines, new_lines)
    blocks = _Blocks(old_lines, new_lines, context, _changed_tables(old_lines, new_lines, opcodes))
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            blocks.same(i1, i2, j1)
        else:
            blocks.changed(range(i1, i2), range(j1, j2))
    added = sum(_word_count(s.text) for b in blocks.done for s in b.new if s.op == "insert")
    removed = sum(_word_count(s.text) for b in blocks.done for s in b.old if s.op == "delete")
    return Comparison(blocks.done, added, removed)


@dataclass
class _TableSpan:
    """A changed table: its lines in the old text and in the new one (empty when on one side only)."""

    old: range
    new: range
    table: dict


def _changed_tables(
    old_lines: list[str], new_lines: list[str], opcodes: list[tuple[str, int, int, int, int]]
) -> list[_TableSpan]:
    """The tables whose lines a changed run of lines touches, with what changed in them."""
    changed_old = {i for tag, i1, i2, _, _ in opcodes if tag != "equal" for i in range(i1, i2)}
    changed_new = {j for tag, _, _, j1, j2 in opcodes if tag != "equal" for j in range(j1, j2)}
    spans = []
    for before, after in pair_tables(tables_in(old_lines), tables_in(new_lines)):
        old_range = range(before.start, before.end) if before else range(0)
        new_range = range(after.start, after.end) if after else range(0)
        if changed_old.isdisjoint(old_range) and changed_new.isdisjoint(new_range):
            continue
        table = diff_tables(before, after)
        if table:
            spans.append(_TableSpan(old_range, new_range, table))
    return spans


class _Blocks:
    """The blocks of a comparison, built run by run; a changed table's lines make one table block,
    where its first line is met."""

    def __init__(self, old: list[str], new: list[str], context: int, tables: list[_TableSpan]) -> None:
        self.old, self.new, self.context = old, new, context
        self.old_table = {i: span for span in tables for i in span.old}
        self.new_table = {j: span for span in tables for j in span.new}
        self.shown: set[int] = set()
        self.done: list[Block] = []

    def same(self, i1: int, i2: int, j1: int) -> None:
        """Equal lines ``i1``..``i2`` of the old text (from ``j1`` in the new one), folded when long."""
        start = i1
        for i in range(i1, i2):
            spans = [s for s in (self.old_table.get(i), self.new_table.get(j1 + i - i1)) if s is not None]
            if spans:
                self._fold(start, i, j1 + start - i1)
                for span in spans:
                    self._table(span)
                start = i + 1
        self._fold(start, i2, j1 + start - i1)

    def changed(self, old: range, new: range) -> None:
        """A run of old lines replaced by new ones: plain lines before the first table line of each
        side, the tables, then the plain lines after."""
        spans = [self.new_table.get(j) for j in new] + [self.old_table.get(i) for i in old]
        first_old = next((i for i in old if i in self.old_table), old.stop)
        first_new = next((j for j in new if j in self.new_table), new.stop)
        self._lines([i for i in old if i < first_old], [j for j in new if j < first_new])
        for span in spans:
            if span is not None:
                self._table(span)
        after_old = [i for i in old if i > first_old and i not in self.old_table]
        self._lines(after_old, [j for j in new if j > first_new and j not in self.new_table])

    def _fold(self, i1: int, i2: int, j1: int) -> None:
        if i1 < i2:
            first, last = i1 == 0 and j1 == 0, i2 == len(self.old) and j1 + i2 - i1 == len(self.new)
            self.done.extend(_fold(self.old[i1:i2], self.context, first, last))

    def _lines(self, old: list[int], new: list[int]) -> None:
        if old or new:
            block = _changed("\n".join(self.old[i] for i in old), "\n".join(self.new[j] for j in new))
            block.removed, block.added = len(old), len(new)
            self.done.append(block)

    def _table(self, span: _TableSpan) -> None:
        if id(span) in self.shown:
            return
        self.shown.add(id(span))
        block = _changed("\n".join(self.old[i] for i in span.old), "\n".join(self.new[j] for j in span.new))
        block.kind, block.table = "table", span.table
        block.removed, block.added = len(span.old), len(span.new)
        self.done.append(block)


def _line_runs(old_lines: list[str], new_lines: list[str]) -> list[tuple[str, int, int, int, int]]:
    """Runs of equal and of changed lines (a changed run: the lines removed and added between two
    equal runs), as ``difflib`` opcodes with every change tagged ``replace``."""
    runs: list[tuple[str, int, int, int, int]] = []
    for op in Indel.opcodes(old_lines, new_lines):
        tag, i1, i2, j1, j2 = op.tag, op.src_start, op.src_end, op.dest_start, op.dest_end
        if tag == "equal":
            runs.append((tag, i1, i2, j1, j2))
        elif runs and runs[-1][0] == "replace":
            runs[-1] = ("replace", runs[-1][1], i2, runs[-1][3], j2)
        else:
            runs.append(("replace", i1, i2, j1, j2))
    return runs


def inline_segments(comparison: Comparison) -> list[Segment]:
    """The whole comparison as one run of segments (gaps shown as equal text): without its inserts it
    is the old text, without its deletes the new one. A newline joins a block to the text before it
    on each side that both hold lines of."""
    segments: list[Segment] = []
    old_before = new_before = False
    for block in comparison.blocks:
        has_old, has_new = block.sides
        old_newline, new_newline = old_before and has_old, new_before and has_new
        if old_newline or new_newline:
            _append(
                segments,
                "equal" if old_newline and new_newline else "delete" if old_newline else "insert",
                "\n",
            )
        old_before, new_before = old_before or has_old, new_before or has_new
        for segment in (
            block.inline if block.kind in ("changed", "table") else [Segment("equal", "\n".join(block.lines))]
        ):
            _append(segments, segment.op, segment.text)
    return segments


def _fold(lines: list[str], context: int, first: bool, last: bool) -> list[Block]:
    head = 0 if first else context
    tail = 0 if last else context
    if len(lines) <= head + tail + 1:
        return [Block("same", lines=lines)]
    folded = [Block("same", lines=lines[:head])] if head else []
    folded.append(Block("gap", lines=lines[head : len(lines) - tail]))
    if tail:
        folded.append(Block("same", lines=lines[-tail:]))
    return folded


def _changed(old: str, new: str) -> Block:
    old_words, new_words = WORDS.findall(old), WORDS.findall(new)
    if (
        max(len(old_words), len(new_words)) > MAX_WORD_DIFF
        or not old_words
        or not new_words
        or _rewritten(old, new)
    ):
        old_part = [Segment("delete", old)] if old else []
        new_part = [Segment("insert", new)] if new else []
        return Block("changed", old=old_part, new=new_part, inline=old_part + _newline(old, new) + new_part)
    block = Block("changed")
    matcher = difflib.SequenceMatcher(None, old_words, new_words, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        before, after = "".join(old_words[i1:i2]), "".join(new_words[j1:j2])
        if tag == "equal":
            for side in (block.old, block.new, block.inline):
                _append(side, "equal", before)
            continue
        if before:
            _append(block.old, "delete", before)
            _append(block.inline, "delete", before)
        if after:
            _append(block.new, "insert", after)
            _append(block.inline, "insert", after)
    return block


def _rewritten(old: str, new: str) -> bool:
    """Whether less than REWRITTEN of the shorter side's words survive, in order, on the other side."""
    old_words, new_words = re.findall(r"\w+", old), re.findall(r"\w+", new)
    shorter = min(len(old_words), len(new_words))
    return shorter > 0 and LCSseq.similarity(old_words, new_words) < REWRITTEN * shorter


def _newline(old: str, new: str) -> list[Segment]:
    return [Segment("equal", "\n")] if old and new else []


def _append(segments: list[Segment], op: str, text: str) -> None:
    if segments and segments[-1].op == op:
        segments[-1] = Segment(op, segments[-1].text + text)
    else:
        segments.append(Segment(op, text))


def _word_count(text: str) -> int:
    return len(re.findall(r"\w+", text))
