"""normalize_markdown: what is never content disappears, what is content stays exactly."""

from __future__ import annotations

from crawler.extract.extraction import normalize_markdown


def test_invisible_characters_are_removed_and_odd_spaces_become_spaces():
    text = "We\u200b keep\u00a0logs\u00ad for\u2009thirty\u202fdays\u200e.\ufeff\x07"
    assert normalize_markdown(text) == "We keep logs for thirty days.\n"


def test_space_runs_and_trailing_spaces_go_but_list_indentation_stays():
    text = "- One   item  \n  - Nested\titem\t\n"
    assert normalize_markdown(text) == "- One item\n  - Nested item\n"


def test_blank_line_runs_become_one_and_ends_are_trimmed():
    assert normalize_markdown("\n\n# Title\n\n\n\n\nBody\n\n\n") == "# Title\n\nBody\n"


def test_empty_headings_and_list_items_are_dropped():
    assert normalize_markdown("# Title\n\n## \n\n- \n1. \n- Real\n") == "# Title\n\n- Real\n"


def test_typographic_quotes_become_ascii():
    assert normalize_markdown("OpenAI\u2019s \u201cServices\u201d") == 'OpenAI\'s "Services"\n'


def test_unicode_is_composed_with_nfc_not_nfkc():
    decomposed = "Donne\u0301es \u00b2 \ufb01le"  # e + combining acute; superscript two; fi ligature
    assert normalize_markdown(decomposed) == "Donn\u00e9es \u00b2 \ufb01le\n"


def test_windows_line_endings_become_newlines():
    assert normalize_markdown("One\r\nTwo\rThree") == "One\nTwo\nThree\n"


def test_normalising_twice_changes_nothing():
    once = normalize_markdown("  # Title \n\n\n-  item\u00a0 one \n\n\u200b\n")
    assert normalize_markdown(once) == once


def test_empty_text_stays_empty():
    assert normalize_markdown(" \n\u200b\n") == ""


def test_every_unicode_space_separator_becomes_a_space():
    import sys
    import unicodedata

    separators = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Zs"]

    assert normalize_markdown("a" + "a".join(separators) + "a") == "a" + " a" * len(separators) + "\n"
