"""Sections and sentences: what a reader of a change sees."""

from __future__ import annotations

from changes.analysis import analyse
from changes.compare import compare_sections, word_diff
from changes.outline import outline, split_sentences

POLICY = """# Usage Policy

Intro text applies to everyone.

## Exceptions for government customers
We may allow government agencies to use the service. Such use requires a separate agreement.

## Fees
You pay monthly. Late payments incur interest.

## Contact
Write to legal@example.com for questions about this policy.
"""


def _by_heading(old: str, new: str) -> dict:
    return {s.heading: s for s in compare_sections(old, new)}


def test_outline_keeps_heading_paths_and_splits_sentences():
    sections = outline(POLICY)
    assert [s.heading for s in sections] == [
        "Usage Policy",
        "Exceptions for government customers",
        "Fees",
        "Contact",
    ]
    assert sections[2].path == ["Usage Policy", "Fees"]
    assert sections[2].sentences == ["You pay monthly.", "Late payments incur interest."]
    assert split_sentences("for any such Claim.2 Claims Outside the United States. If you") == [
        "for any such Claim.",
        "2 Claims Outside the United States.",
        "If you",
    ]
    assert split_sentences("Use it, e.g. for tests. Do not resell it.") == [
        "Use it, e.g. for tests.",
        "Do not resell it.",
    ]


def test_section_added_and_removed():
    new = (
        POLICY.replace("## Contact\nWrite to legal@example.com for questions about this policy.\n", "")
        + "\n## Military use\nMilitary agencies may use the service for logistics.\n"
    )
    changes = _by_heading(POLICY, new)
    assert changes["Military use"].status == "added"
    assert changes["Military use"].added == ["Military agencies may use the service for logistics."]
    assert changes["Contact"].status == "removed"
    assert changes["Contact"].removed == ["Write to legal@example.com for questions about this policy."]


def test_renamed_section_is_modified_not_removed_and_added():
    new = POLICY.replace("## Fees", "## Fees and billing")
    [change] = compare_sections(POLICY, new)
    assert (change.heading, change.old_heading, change.status) == ("Fees and billing", "Fees", "modified")
    assert change.added == ["Fees and billing"] and change.removed == ["Fees"]
    assert change.changed[0]["diff"] == [["equal", "Fees"], ["insert", " and billing"]]


def test_moved_section_is_moved():
    fees = "## Fees\nYou pay monthly. Late payments incur interest.\n\n"
    new = POLICY.replace(fees, "") + "\n" + fees
    [change] = compare_sections(POLICY, new)  # Fees moved after Contact, or Contact before Fees
    assert change.heading in ("Fees", "Contact") and change.status == "moved"
    assert change.added == [] and change.removed == []
    assert analyse(POLICY, new).significance == "cosmetic"


def test_sentences_added_removed_and_changed_with_word_diff():
    new = POLICY.replace(
        "Such use requires a separate agreement.",
        "Such use requires a signed agreement. Defence agencies are included.",
    ).replace(" Late payments incur interest.", "")
    changes = _by_heading(POLICY, new)
    government = changes["Exceptions for government customers"]
    assert government.changed[0]["before"] == "Such use requires a separate agreement."
    assert government.changed[0]["diff"] == [
        ["equal", "Such use requires a "],
        ["delete", "separate"],
        ["insert", "signed"],
        ["equal", " agreement."],
    ]
    # a changed sentence is listed in added (new wording) and removed (old wording) too
    assert set(government.added) == {
        "Such use requires a signed agreement.",
        "Defence agencies are included.",
    }
    assert government.removed == ["Such use requires a separate agreement."]
    assert changes["Fees"].removed == ["Late payments incur interest."]


def test_counts_and_summary():
    new = POLICY.replace(
        "Such use requires a separate agreement.",
        "Such use requires a separate agreement. Military agencies may use it for weapons research.",
    )
    analysis = analyse(POLICY, new, title="Usage Policy")
    assert analysis.details["counts"] == {
        "words_added": 8,
        "words_removed": 0,
        "sentences_added": 1,
        "sentences_removed": 0,
        "sections_touched": 1,
    }
    assert analysis.summary.startswith(
        "Usage Policy: section 'Exceptions for government customers' modified — 1 clause added; "
        "topics: Government and national security, Military and weapons"
    )
    assert analysis.reasons[0] == "1 clause added in 'Exceptions for government customers'"


def test_word_diff_of_identical_text_is_one_equal_run():
    assert word_diff("same words", "same words") == [["equal", "same words"]]
