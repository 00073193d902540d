"""Each significance rule: noise is cosmetic, dates and typos are minor, clauses are substantive."""

from __future__ import annotations

import pytest

from changes.analysis import analyse

BASE = """# Privacy Policy
Last updated: September 15, 2025

Updated 5 days ago

## Sharing
1. We share data with [service providers](https://example.com/providers?utm=abc&did=1) under contract.
2. We never sell your personal data.
3. Law enforcement requests are reviewed by our legal team.

## Retention
We keep chats for 30 days, then delete them.
"""


def _edit(*pairs: tuple[str, str]) -> str:
    text = BASE
    for old, new in pairs:
        assert old in text
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize(
    "edited, reason",
    [
        (_edit(("## Sharing\n", "## Sharing\n\n"), ("under contract.", "under  contract. ")), None),
        (_edit(("never sell", "never   sell")), None),
        (_edit(("utm=abc&did=1", "utm=xyz&did=2")), "link targets"),
        (_edit(("Updated 5 days ago", "Updated 6 days ago")), "relative dates"),
        (_edit(("We never sell", "we never sell")), "letter case"),
        (_edit(("under contract.", "under contract;")), "punctuation"),
        (_edit(("We never sell your personal data.", "We **never** sell your personal data.")), "markup"),
        (
            _edit(("1. We share", "- We share"), ("2. We never", "- We never"), ("3. Law", "- Law")),
            "list numbering",
        ),
        (_edit(("September 15, 2025", "15 September 2025")), "date format"),
    ],
)
def test_noise_is_cosmetic(edited, reason):
    analysis = analyse(BASE, edited)
    assert analysis.significance == "cosmetic"
    assert analysis.topics == [] and not analysis.details["flapping"]
    if reason:
        assert any(reason in r for r in analysis.reasons), analysis.reasons


def test_last_updated_date_is_minor():
    analysis = analyse(BASE, _edit(("September 15, 2025", "October 2, 2025")))
    assert analysis.significance == "minor"
    assert analysis.reasons == ["date changed in 'Last updated: October 2, 2025'"]


def test_typo_fix_is_minor():
    analysis = analyse(BASE, _edit(("reviewed by our legal", "reviewd by our legal")))
    assert analysis.significance == "minor"
    assert analysis.reasons[0].startswith("spelling fixed in")


def test_url_shown_as_text_changing_its_path_is_cosmetic():
    before = _edit(
        ("reviewed by our legal team.", "reviewed by our legal team, see https://example.com/en/legal.")
    )
    after = _edit(
        ("reviewed by our legal team.", "reviewed by our legal team, see https://example.com/legal.")
    )
    analysis = analyse(before, after)
    assert analysis.significance == "cosmetic"
    assert analysis.reasons == ["only a URL shown as text changed in 1 sentence"]


@pytest.mark.parametrize(
    "edited",
    [
        _edit(("## Retention\n", "## Retention\n*close*\n")),
        _edit(("Updated 5 days ago\n", "Updated 5 days ago\n\nTable of contents\n\nService status:\n")),
    ],
)
def test_page_chrome_labels_are_cosmetic(edited):
    analysis = analyse(BASE, edited)
    assert analysis.significance == "cosmetic"
    assert analysis.reasons[0].startswith("page chrome (short labels) added or removed")


def test_a_page_rebuilt_with_its_title_and_date_as_plain_lines_is_cosmetic():
    rebuilt = _edit(
        (
            "# Privacy Policy\nLast updated: September 15, 2025\n",
            "Privacy Policy\n\nLast updated: September 15, 2025\n",
        )
    )
    before = BASE.replace("Last updated: September 15, 2025", "## Last updated: September 15, 2025")
    for old in (BASE, before):
        analysis = analyse(old, rebuilt)
        assert analysis.significance == "cosmetic", analysis.reasons


def test_a_list_letter_losing_its_space_is_cosmetic():
    lettered = _edit(("3. Law", "(c) Law"))
    analysis = analyse(lettered, lettered.replace("(c) Law", "(c)Law"))
    assert analysis.significance == "cosmetic" and analysis.reasons == [
        "only list numbering changed in 1 sentence"
    ]


def test_a_list_number_alone_on_its_line_is_not_a_clause():
    numbered = _edit(("## Retention\n", "## Retention\n- **1.\n"))  # bold running on to the next line
    assert analyse(numbered, numbered.replace("**1.", "**2.")).significance == "cosmetic"


def test_a_lost_space_is_cosmetic():
    before = _edit(("under contract.", "under contract, see https://example.com/terms or ask us."))
    after = _edit(("under contract.", "under contract, see https://example.com/termsor ask us."))
    assert analyse(before, after).significance == "cosmetic"


@pytest.mark.parametrize(
    "edited, reason",
    [
        (
            _edit(("We keep chats", "We keep chats for 30 days, then delete them.\nWe keep chats")),
            "repeating text",
        ),
        (_edit(("reviewed by our legal team", "reviewed by the our legal team")), "'the' added or dropped"),
        (_edit(("under contract.", "under contract; and/or")), "'and or' added or dropped"),
        (
            _edit(
                (
                    "We keep chats for 30 days, then delete them.",
                    "We keep chats for 30 days, delete them then.",
                )
            ),
            "words reordered",
        ),
    ],
)
def test_chrome_repeats_and_small_word_edits_are_minor(edited, reason):
    analysis = analyse(BASE, edited)
    assert analysis.significance == "minor"
    assert any(reason in r for r in analysis.reasons), analysis.reasons


@pytest.mark.parametrize(
    "edited",
    [
        _edit(("30 days", "90 days")),
        _edit(
            ("reviewed by our legal team", "not reviewed by our legal team")
        ),  # one short word that matters                                               # a number changes
        _edit(("We never sell", "We may sell")),  # one short word
        _edit(
            (
                "We never sell your personal data.",
                "We never sell your personal data. We may train models on your chats.",
            )
        ),
        _edit(("3. Law enforcement requests are reviewed by our legal team.\n", "")),  # a clause removed
        _edit(("## Retention", "## Retention and deletion"), ("then delete", "then anonymise")),
    ],
)
def test_clauses_are_substantive(edited):
    assert analyse(BASE, edited).significance == "substantive"


def test_an_error_page_is_not_a_change_of_the_policy():
    policy = BASE + "".join(
        f"\n## Purpose {i}\nWe process account data for purpose {i} only.\n" for i in range(10)
    )
    analysis = analyse(policy, "# Page not found\nSorry, this page isn't available.\n")
    assert analysis.significance == "cosmetic"
    assert "error page" in analysis.reasons[0]


def test_content_returning_to_a_recent_state_is_flapping():
    banner = "We use cookies. Accept all or manage cookie settings.\n\n"
    analysis = analyse(banner + BASE, BASE, recent=[BASE])
    assert analysis.significance == "cosmetic" and analysis.details["flapping"]
    assert analysis.reasons[0] == "content returns to a state seen 2 versions ago (flapping)"
    # the banner appears again: it was seen recently, so this is flapping too
    again = analyse(BASE, banner + BASE, recent=[BASE, banner + BASE])
    assert again.significance == "cosmetic" and again.details["flapping"]


def test_a_real_edit_alongside_flapping_stays_substantive():
    banner = "We use cookies. Accept all or manage cookie settings.\n\n"
    edited = _edit(("30 days", "90 days"))
    analysis = analyse(banner + BASE, edited, recent=[BASE])
    assert analysis.significance == "substantive"
    assert analysis.reasons[0] == "1 clause reworded in 'Retention'"
    assert any("flapping" in r for r in analysis.reasons)


def test_a_page_served_in_another_language_is_cosmetic():
    english = (
        "These terms govern your use of the service. You must comply with the law and with our policies. "
        "We may suspend your account if you break the rules. The service is provided as is. We are not "
        "liable for damages to the extent allowed by law. You can contact us at any time. Your data is "
        "processed as described in the privacy policy of the company and its affiliates.\n"
    )
    french = (
        "Ces conditions régissent votre utilisation du service. Vous devez respecter la loi et nos politiques. "
        "Nous pouvons suspendre votre compte si vous enfreignez les règles. Le service est fourni tel quel. "
        "Nous ne sommes pas responsables des dommages dans la mesure permise par la loi. Vous pouvez nous "
        "contacter à tout moment. Vos données sont traitées comme décrit dans la politique de confidentialité "
        "de la société et de ses affiliés.\n"
    )
    analysis = analyse(english, french)
    assert analysis.significance == "cosmetic" and "language" in analysis.reasons[0]
    rewritten = english.replace(
        "We may suspend your account if you break the rules.",
        "We may delete your account and all its data without notice.",
    )
    assert analyse(english, rewritten).significance == "substantive"
