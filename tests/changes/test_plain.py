"""Markdown shown as text (redlines, clauses, snippets, emails) reads without its markers."""

from __future__ import annotations

from changes.plain import plain


def test_markdown_markers_are_dropped_and_the_words_kept():
    text = (
        "## Data\n\n**Last updated:** c**ustomers** \\_puid\n\n"
        "| a | b \\| c |\n|---|:---:|\n| 1 | 2 |\n\nEnd."
    )
    assert plain(text) == "Data\n\nLast updated: customers _puid\n\na · b | c\n1 · 2\n\nEnd."


def test_a_flattened_snippet_loses_its_heading_hashes_but_not_a_hash_inside_a_word():
    assert plain("# Privacy We keep data. ## Sharing We never sell it.") == (
        "Privacy We keep data. Sharing We never sell it."
    )
    assert plain("Section #5 covers C# and 3 * 4.") == "Section #5 covers C# and 3 * 4."
