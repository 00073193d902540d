"""Subscriptions by provision: alerted only by a change of the provision followed, professional only."""

from __future__ import annotations

import pytest

from alerts.audience.subscribers import SubscriberError, subscribe
from changes.record import record_changes
from policywatch.settings import load_settings
from store.db import transaction
from store.versions import record_version
from tests.alerts.builders import change, confirmed, document, send_alerts

POLICY = """# Usage Policy

## Exceptions for government customers
We may tailor these restrictions for government customers.

## Contact
Write to legal@acme.test.
"""


def test_a_provision_subscription_is_alerted_by_its_provision_and_not_by_a_change_elsewhere(db, sendgrid):
    with transaction(db) as session:
        usage = document(session, "acme", title="Usage Policy")
        confirmed(
            session,
            "pro@example.com",
            tier="professional",
            platform="acme",
            provisions=["government_carve_out"],
        )
        confirmed(session, "all@example.com", tier="watcher", platform="acme")
        change(session, usage, "substantive", summary="Contact section reworded.")
    send_alerts(db)
    assert sorted(sendgrid.recipients()) == ["all@example.com"]

    with transaction(db) as session:
        usage = document(session, "acme", slug="acme-usage-2", title="Usage Policy")
        change(
            session,
            usage,
            "substantive",
            summary="Government carve-out widened.",
            provisions=("government_carve_out",),
        )
    send_alerts(db)
    assert sorted(sendgrid.recipients()) == ["all@example.com", "all@example.com", "pro@example.com"]


def test_provision_filters_need_the_professional_tier_and_a_catalog_id(db):
    with transaction(db) as session:
        document(session, "acme")
        with pytest.raises(SubscriberError, match="provision filters need the professional tier"):
            subscribe(session, "w@example.com", "watcher", "acme", provisions=["minimum_age"])
        with pytest.raises(SubscriberError, match="unknown provision 'nonsense'; known provisions: gov"):
            subscribe(session, "p@example.com", "professional", "acme", provisions=["nonsense"])


def test_the_alert_opens_with_the_provision_before_and_after(db, sendgrid):
    with transaction(db) as session:
        usage = document(session, "acme", title="Usage Policy")
        confirmed(
            session,
            "pro@example.com",
            tier="professional",
            platform="acme",
            provisions=["government_carve_out"],
        )
        record_version(session, usage, POLICY, [])
        record_version(session, usage, POLICY.replace("may tailor", "may tailor or waive"), [])
        record_changes(session, load_settings())
    send_alerts(db)
    [request] = sendgrid.accepted
    text, html = request.body["content"]
    lines = text["value"].splitlines()
    start = lines.index("Government carve-out changed:")
    assert lines[1].startswith("* Acme Usage Policy — substantive")  # one line per change first
    assert start < lines.index("  § Exceptions for government customers (modified)")
    assert lines[start : start + 3] == [
        "Government carve-out changed:",
        "  - We may tailor these restrictions for government customers.",
        "  + We may tailor or waive these restrictions for government customers.",
    ]
    assert "<strong>Government carve-out</strong> changed" in html["value"]


def test_the_alert_names_a_provision_of_the_operators_catalog_by_its_label(
    db, sendgrid, tmp_path, monkeypatch
):
    from changes.provisions import catalog_for
    from policywatch.settings import get_settings

    extra = tmp_path / "provisions.yaml"
    extra.write_text(
        "provisions:\n  - id: tailoring\n    label: Tailored restrictions\n    topic: government\n"
        "    clauses: ['\\btailor\\b']\n"
    )
    monkeypatch.setenv("POLICYWATCH_PROVISIONS_FILE", str(extra))
    get_settings.cache_clear()
    with transaction(db) as session:
        usage = document(session, "acme", title="Usage Policy")
        confirmed(
            session,
            "pro@example.com",
            tier="professional",
            platform="acme",
            provisions=["tailoring"],
            catalog=catalog_for(get_settings()),
        )
        record_version(session, usage, POLICY, [])
        record_version(session, usage, POLICY.replace("may tailor", "may tailor or waive"), [])
        record_changes(session, get_settings())
    send_alerts(db)
    [request] = sendgrid.accepted
    text, html = (part["value"] for part in request.body["content"])
    assert "Tailored restrictions changed:" in text.splitlines()
    assert "<strong>Tailored restrictions</strong> changed" in html
