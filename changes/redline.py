"""Word-level comparison of any two version texts, as blocks the redline and side-by-side views render.

Lines are aligned first (a longest common subsequence of lines, rapidfuzz's ``Indel.opcodes``,
in C++), then the words of each changed run of lines (``difflib``, whose longest-block-first
matching keeps a sentence's edits readable), so a long policy diffs quickly. A run rewritten as a
whole (less than ``REWRITTEN`` of the shorter side's words kept, in order) shows as removed then
added: marking the few little words both happen to share would only cut it into fragments, and
costs the most. Long unchanged runs fold into a gap that keeps ``CONTEXT`` lines on each side.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from rapidfuzz.distance import Indel, LCSseq

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
    """``same`` lines, a ``gap`` of unchanged lines folded away, or a ``changed`` run of lines
    (``removed`` lines of the old text replaced by ``added`` lines of the new one)."""

    kind: str
    lines: list[str] = field(default_factory=list)
    old: list[Segment] = field(default_factory=list)
    new: list[Segment] = field(default_factory=list)
    inline: list[Segment] = field(default_factory=list)
    removed: int = 0
    added: int = 0

    @property
    def skipped(self) -> int:
        return len(self.lines)

    @property
    def sides(self) -> tuple[bool, bool]:
        """Whether the block holds lines of the old text, and of the new one."""
        return (self.removed > 0, self.added > 0) if self.kind == "changed" else (True, True)


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
    blocks: list[Block] = []
    added = removed = 0
    opcodes = _line_runs(old_lines, new_lines)
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            blocks.extend(_fold(old_lines[i1:i2], context, first=index == 0, last=index == len(opcodes) - 1))
            continue
        block = _changed("\n".join(old_lines[i1:i2]), "\n".join(new_lines[j1:j2]))
        block.removed, block.added = i2 - i1, j2 - j1
        added += sum(_word_count(s.text) for s in block.new if s.op == "insert")
        removed += sum(_word_count(s.text) for s in block.old if s.op == "delete")
        blocks.append(block)
    return Comparison(blocks, added, removed)


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
            block.inline if block.kind == "changed" else [Segment("equal", "\n".join(block.lines))]
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
