"""Analysis cards: every statement cites the clause it comes from; a unilateral judgment is flagged."""

from __future__ import annotations

from changes.cards import card
from changes.provisions import load_catalog

TERMS = """# Terms

## Suspension
We reserve the right to suspend your account if, in our sole discretion, you breach these Terms.

## Changes to these Terms
We may update these Terms from time to time. We will give you at least 30 days' notice of changes.

## Prohibited uses
You may not use the service for weapons development.
"""


def test_card_cites_each_clause_and_flags_the_vendors_sole_discretion():
    catalog = load_catalog()
    found = catalog.find(TERMS)
    suspension = card(catalog.get("suspension_termination"), found["suspension_termination"])
    clause = (
        "We reserve the right to suspend your account if, in our sole discretion, you breach these Terms."
    )
    assert suspension["statements"] == [
        {"says": "reserves", "clause": clause},
        {"says": "decided by the vendor alone", "clause": clause},
    ]
    assert "Digital Services Act" in suspension["regulations"]
    changes = card(catalog.get("unilateral_changes"), found["unilateral_changes"])
    assert {"says": "permits", "clause": "We may update these Terms from time to time."} in changes[
        "statements"
    ]
    assert {
        "says": "notice given",
        "clause": "We will give you at least 30 days' notice of changes.",
    } in changes["statements"]
    military = card(catalog.get("military_weapons"), found["military_weapons"])
    assert military["statements"] == [
        {"says": "prohibits", "clause": "You may not use the service for weapons development."}
    ]
    texts = [s["clause"] for c in (suspension, changes, military) for s in c["statements"]]
    assert all(text in TERMS for text in texts)  # nothing is invented
