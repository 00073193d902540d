"""Subscribers: address validation, tier limits, double opt-in and signed links."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from itsdangerous import TimestampSigner
from sqlalchemy import select

from alerts.audience import tokens
from alerts.audience.subscribers import (
    SubscriberError,
    confirm,
    find,
    mask_email,
    remove_subscription,
    subscribe,
    subscriber_for,
    unsubscribe,
    update_subscription,
)
from alerts.audience.tokens import TokenError, Tokens
from policywatch.cli import cli
from policywatch.settings import get_settings
from store.db import transaction
from store.models import Delivery
from tests.alerts.builders import change, confirmed, document, send_alerts


def link_tokens() -> Tokens:
    """The link tokens of the settings in force."""
    return Tokens.from_settings(get_settings())


def test_addresses_are_validated_and_normalised(engine):
    with transaction(engine) as session:
        document(session)
        assert subscribe(session, "  Ann@Example.COM ", platform="openai").email == "ann@example.com"
        assert (
            subscribe(session, "ann@example.com", platform="openai").id == find(session, "ANN@example.com").id
        )
        with pytest.raises(SubscriberError, match="invalid email address 'not-an-address@'"):  # as typed
            subscribe(session, "not-an-address@", platform="openai")
        with pytest.raises(SubscriberError, match="unknown platform 'nobody'"):
            subscribe(session, "ann@example.com", platform="nobody")
    assert mask_email("ann@example.com") == "a***@example.com"


def test_tier_limits_are_enforced_with_a_clear_message(engine):
    with transaction(engine) as session:
        for index in range(12):
            document(session, f"vendor{index}")
        subscribe(session, "free@example.com", "free", "vendor0")
        with pytest.raises(
            SubscriberError, match="the free tier follows at most 1 platform; f\\*\\*\\*@example.com"
        ):
            subscribe(session, "free@example.com", platform="vendor1")
        with pytest.raises(SubscriberError, match="topic filters need the professional tier"):
            subscribe(session, "free@example.com", platform="vendor0", topics=["data_sharing"])
        with pytest.raises(SubscriberError, match="unknown topic 'weather'; known topics: .*data_sharing"):
            subscribe(session, "pro@example.com", "professional", "vendor0", topics=["weather"])
        for index in range(10):
            subscribe(session, "watch@example.com", "watcher", f"vendor{index}")
        with pytest.raises(SubscriberError, match="the watcher tier follows at most 10 platforms"):
            subscribe(session, "watch@example.com", platform="vendor10")
        for index in range(12):
            subscribe(session, "pro@example.com", "professional", f"vendor{index}", topics=["data_sharing"])
        assert len(find(session, "pro@example.com").subscriptions) == 12


def test_nothing_but_the_confirmation_is_sent_before_confirming(db, sendgrid):
    with transaction(db) as session:
        usage = document(session)
        subscribe(session, "ann@example.com", "watcher", "openai")
        change(session, usage)

    send_alerts(db)

    [request] = sendgrid.accepted
    assert request.body["subject"] == "[policywatch] Confirm your subscription"
    assert request.body["categories"] == ["policywatch", "confirmation"]
    text = request.body["content"][0]["value"]
    assert "You asked to follow:\n  - Openai (every document)" in text  # what is being confirmed
    [personalization] = request.body["personalizations"]
    confirm_link = next(v for v in personalization["substitutions"].values() if "/confirm/" in v)
    assert confirm_link.startswith("https://policywatch.test/confirm/")

    with transaction(db) as session:
        assert confirm(session, confirm_link.rsplit("/", 1)[1], tokens=link_tokens()).status == "confirmed"
        change(session, usage)
    send_alerts(db)

    assert [r.body["categories"][1] for r in sendgrid.accepted] == ["confirmation", "alert"]
    assert "1 new change" not in sendgrid.accepted[1].body["subject"]  # only the change after confirming
    with transaction(db) as session:
        assert session.scalar(select(Delivery.change_id).where(Delivery.kind == "alert")) == 2


def test_the_confirmation_names_topics_and_provisions_by_their_labels(db, sendgrid, tmp_path, monkeypatch):
    from changes.taxonomy import taxonomy_for

    extra = tmp_path / "topics.yaml"
    extra.write_text("topics:\n  - id: model_welfare\n    label: Model welfare\n    patterns: ['welfare']\n")
    monkeypatch.setenv("POLICYWATCH_TAXONOMY_FILE", str(extra))
    get_settings.cache_clear()
    with transaction(db) as session:
        document(session, "acme", title="Usage Policy")
        subscribe(
            session,
            "pro@example.com",
            "professional",
            "acme",
            topics=["government", "model_welfare"],
            provisions=["government_carve_out"],
            taxonomy=taxonomy_for(get_settings()),
        )
    send_alerts(db)

    [request] = sendgrid.accepted
    text, html = (part["value"] for part in request.body["content"])
    wanted = "Acme (every document), topics: Government and national security, Model welfare, "
    wanted += "provisions: Government carve-out"
    assert f"  - {wanted}" in text.splitlines() and f"<li>{wanted}</li>" in html
    assert "model_welfare" not in text + html and "government_carve_out" not in text + html


def test_tokens_cannot_be_forged_or_used_for_another_purpose_or_subscriber(engine):
    with transaction(engine) as session:
        document(session)
        ann = confirmed(session, "ann@example.com")
        bob = confirmed(session, "bob@example.com")
        token = link_tokens().make("unsubscribe", ann.id, ann.email)

        with pytest.raises(TokenError, match="invalid"):
            subscriber_for(
                session,
                "unsubscribe",
                token[:-2] + ("AA" if token[-2:] != "AA" else "BB"),
                tokens=link_tokens(),
            )
        with pytest.raises(TokenError, match="invalid"):
            subscriber_for(session, "preferences", token, tokens=link_tokens())
        with pytest.raises(TokenError, match="invalid"):  # same payload, signed with another key
            forged = TimestampSigner("guessed", salt="policywatch.unsubscribe").sign(f"{bob.id}.{'0' * 16}")
            subscriber_for(session, "unsubscribe", forged.decode(), tokens=link_tokens())
        with pytest.raises(TokenError, match="does not belong"):  # validly signed for ann's id, bob's address
            subscriber_for(
                session,
                "unsubscribe",
                link_tokens().make("unsubscribe", ann.id, bob.email),
                tokens=link_tokens(),
            )
        ann.email = "ann.new@example.com"
        with pytest.raises(
            TokenError, match="does not belong"
        ):  # the address changed since the link was sent
            unsubscribe(session, token, tokens=link_tokens())
        assert bob.status == "confirmed"


def test_confirmation_links_expire(engine, monkeypatch):
    with transaction(engine) as session:
        document(session)
        ann = subscribe(session, "ann@example.com", platform="openai")
        token = link_tokens().make("confirm", ann.id, ann.email)
        monkeypatch.setitem(tokens.PURPOSES, "confirm", ("confirm", -1))
        with pytest.raises(TokenError, match="expired"):
            confirm(session, token, tokens=link_tokens())


def test_unsubscribing_cancels_unsent_emails_and_stops_alerts(db, sendgrid):
    from alerts.delivery.outbox import queue_alerts

    with transaction(db) as session:
        usage = document(session)
        ann = confirmed(session, "ann@example.com")  # confirmed by the operator: its confirmation is moot
        token = link_tokens().make("unsubscribe", ann.id, ann.email)
        change(session, usage)
        queue_alerts(session)
        assert unsubscribe(session, token, tokens=link_tokens()).status == "unsubscribed"
        assert (
            unsubscribe(session, token, tokens=link_tokens()).status == "unsubscribed"
        )  # one-click may be sent twice
        change(session, usage)

    report = send_alerts(db)

    assert (report.sent, sendgrid.received) == (0, [])
    with transaction(db) as session:
        rows = session.execute(select(Delivery.kind, Delivery.status).order_by(Delivery.id)).all()
    assert rows == [("confirmation", "cancelled"), ("alert", "cancelled")]


def test_a_queued_alert_is_not_sent_after_a_downgrade_to_free(db, sendgrid):
    from alerts.delivery.outbox import queue_alerts

    with transaction(db) as session:
        usage = document(session)
        confirmed(session, "ann@example.com", tier="watcher")
        change(session, usage)
        queue_alerts(session)
        subscribe(session, "ann@example.com", tier="free", platform="openai")

    report = send_alerts(db)

    assert (report.sent, report.cancelled, sendgrid.received) == (0, 2, [])


def test_preferences_change_filters_and_remove_subscriptions(engine):
    with transaction(engine) as session:
        document(session)
        document(session, "anthropic", slug="anthropic-aup")
        ann = confirmed(session, "ann@example.com", tier="professional")
        subscribe(session, "ann@example.com", platform="anthropic")
        token = link_tokens().make("preferences", ann.id, ann.email)
        first, second = ann.subscriptions
        updated = update_subscription(
            session,
            token,
            first.id,
            topics=["data_sharing"],
            min_significance_alert="minor",
            tokens=link_tokens(),
        )
        assert (updated.topics, updated.min_significance_alert) == (["data_sharing"], "minor")
        with pytest.raises(SubscriberError, match="unknown significance 'huge'"):
            update_subscription(
                session, token, first.id, min_significance_digest="huge", tokens=link_tokens()
            )
        assert [
            s.id for s in remove_subscription(session, token, second.id, tokens=link_tokens()).subscriptions
        ] == [first.id]


def test_subscribers_cli_adds_lists_confirms_and_removes(migrated_url):
    from store.db import make_engine

    engine = make_engine(migrated_url)
    with transaction(engine) as session:
        document(session)
    engine.dispose()
    runner = CliRunner()

    added = runner.invoke(
        cli,
        [
            "subscribers",
            "add",
            "Ann@Example.com",
            "--tier",
            "watcher",
            "--platform",
            "openai",
            "--min-significance",
            "minor",
        ],
    )
    refused = runner.invoke(
        cli, ["subscribers", "add", "ann@example.com", "--platform", "openai", "--topic", "data_sharing"]
    )
    confirmed_ = runner.invoke(cli, ["subscribers", "confirm", "ann@example.com"])
    listed = runner.invoke(cli, ["subscribers", "list"])
    removed = runner.invoke(cli, ["subscribers", "remove", "ann@example.com"])
    empty = runner.invoke(cli, ["subscribers", "list"])

    assert added.exit_code == 0 and "a***@example.com: watcher, pending" in added.output
    assert "1 email(s) sent" in added.output  # the confirmation, to the .eml outbox
    assert refused.exit_code == 1 and "topic filters need the professional tier" in refused.output
    assert confirmed_.exit_code == 0
    assert "a***@example.com\twatcher\tconfirmed" in listed.output and "ann@example.com" not in listed.output
    assert "openai alert>=minor digest>=minor" in listed.output
    assert removed.exit_code == 0 and empty.output == ""


def test_a_document_is_named_with_its_platform_once():
    from store.queries.documents import document_title

    assert document_title("OpenAI", "OpenAI Services Agreement") == "OpenAI Services Agreement"
    assert document_title("OpenAI", "Usage Policies") == "OpenAI Usage Policies"
