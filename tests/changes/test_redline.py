"""The word-level comparison behind the redline and side-by-side views."""

from __future__ import annotations

from changes.redline import compare_texts, inline_segments


def rebuilt(comparison, leave_out: str) -> str:
    return "".join(s.text for s in inline_segments(comparison) if s.op != leave_out)


def test_words_not_lines_are_marked():
    comparison = compare_texts(
        "We keep data for 30 days.\nContact us.", "We keep data for 90 days.\nContact us."
    )
    changed = [b for b in comparison.blocks if b.kind == "changed"]
    assert [(s.op, s.text) for s in changed[0].inline] == [
        ("equal", "We keep data for "),
        ("delete", "30"),
        ("insert", "90"),
        ("equal", " days."),
    ]
    assert (comparison.added_words, comparison.removed_words) == (1, 1)


def test_long_unchanged_runs_fold_but_the_full_view_rebuilds_both_texts():
    old = "\n".join(f"Clause {i} stays." for i in range(40))
    new = old.replace("Clause 20 stays.", "Clause 20 is gone.")
    folded = compare_texts(old, new)
    assert [b.kind for b in folded.blocks] == ["gap", "same", "changed", "same", "gap"]
    assert folded.blocks[0].skipped == 17
    full = compare_texts(old, new, context=10**9)
    assert rebuilt(full, "insert") == old and rebuilt(full, "delete") == new


def test_added_and_removed_lines_and_identical_texts():
    comparison = compare_texts("A.\nB.", "A.\nB.\nC is new.")
    assert comparison.added_words == 3 and comparison.removed_words == 0
    assert compare_texts("same", "same").identical


def test_a_rewritten_paragraph_shows_removed_then_added_whole():
    old = "Intro.\nWe may share the data with partners for marketing.\nEnd."
    new = "Intro.\nAccounts of minors are closed within the week of the report.\nEnd."
    changed = [b for b in compare_texts(old, new).blocks if b.kind == "changed"]
    assert [(s.op, s.text) for s in changed[0].inline] == [
        ("delete", "We may share the data with partners for marketing."),
        ("equal", "\n"),
        ("insert", "Accounts of minors are closed within the week of the report."),
    ]


def test_lines_only_added_or_only_removed_rebuild_both_texts():
    cases = [
        ("A.\nB.", "A.\nB.\nC is new."),
        ("A.\nB.\nC goes.", "A.\nB."),
        ("A.\n\nB.", "A.\nB."),
        ("B.", "New first line.\nB."),
        ("# T\n\nOne.\n\n# U\n\nTwo.", "# T\n\nOne.\n\n# New\n\nAdded.\n\n# U\n\nTwo."),
    ]
    for old, new in cases:
        full = compare_texts(old, new, context=10**9)
        assert (rebuilt(full, "insert"), rebuilt(full, "delete")) == (old, new)


def test_a_changed_table_is_one_table_block_and_the_full_view_rebuilds_both_texts():
    old = "Intro.\n\n| Name | Location |\n| --- | --- |\n| Stripe | United States |\n| AWS | US |\n\nEnd."
    new = old.replace("United States", "Ireland").replace("End.", "End here.")
    folded = compare_texts(old, new)
    assert [b.kind for b in folded.blocks] == ["same", "table", "same", "changed"]
    [table] = [b.table for b in folded.blocks if b.kind == "table"]
    assert [row["status"] for row in table["rows"]] == ["changed", "same"]
    assert (folded.added_words, folded.removed_words) == (2, 2)  # Ireland, here / United States
    full = compare_texts(old, new, context=10**9)
    assert rebuilt(full, "insert") == old and rebuilt(full, "delete") == new
