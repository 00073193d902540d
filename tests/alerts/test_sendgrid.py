"""Same-day alerts through the real sendgrid client against the fake SendGrid server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from alerts.audience.subscribers import unsubscribe
from alerts.audience.tokens import Tokens
from policywatch.settings import get_settings
from store.db import transaction
from store.models import Delivery, utcnow
from tests.alerts.builders import change, confirmed, document, send_alerts


def link_tokens() -> Tokens:
    """The link tokens of the settings in force."""
    return Tokens.from_settings(get_settings())


def one_change_for_ann(engine) -> None:
    """A confirmed subscriber, ann@example.com, with one substantive change waiting to be alerted."""
    with transaction(engine) as session:
        usage = document(session)
        confirmed(session, "ann@example.com")
        change(session, usage)


def _deliveries(engine) -> list[Delivery]:
    with transaction(engine) as session:
        return list(session.scalars(select(Delivery).where(Delivery.kind == "alert").order_by(Delivery.id)))


def test_alert_payload_names_the_change_and_carries_a_working_unsubscribe_link(db, sendgrid):
    with transaction(db) as session:
        usage = document(session, "openai", title="Usage Policies", platform_name="OpenAI")
        confirmed(session, "ann@example.com")
        confirmed(session, "bob@example.com", tier="professional")
        change(session, usage, summary="Weapons <script>alert(1)</script> now prohibited.")

    report = send_alerts(db)

    assert (report.sent, report.requests) == (2, 1)
    [request] = sendgrid.accepted
    body = request.body
    assert request.path == "/v3/mail/send"
    assert body["subject"] == "[policywatch] OpenAI Usage Policies: substantive change"
    assert body["from"] == {"email": "alerts@policywatch.test", "name": "policywatch"}
    text, html = body["content"]
    assert (text["type"], html["type"]) == ("text/plain", "text/html")
    assert "Weapons <script>alert(1)</script> now prohibited." in text["value"]
    assert "&lt;script&gt;" in html["value"] and "<script>" not in html["value"]
    assert "+ Do not develop weapons." in text["value"] and "<del" in html["value"]
    assert "https://policywatch.test/changes/" in text["value"]
    assert sorted(p["to"][0]["email"] for p in body["personalizations"]) == [
        "ann@example.com",
        "bob@example.com",
    ]
    assert body["categories"] == ["policywatch", "alert"]
    for personalization in body["personalizations"]:
        header = personalization["headers"]["List-Unsubscribe"]
        assert header.startswith("<https://policywatch.test/unsubscribe/")
        assert personalization["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert personalization["headers"]["List-Id"] == "policywatch alerts <alerts.policywatch.test>"
        link = header.strip("<>")
        assert link in personalization["substitutions"].values()
        assert any(placeholder in html["value"] for placeholder in personalization["substitutions"])
        assert personalization["custom_args"]["delivery_ids"]
    links = {
        p["to"][0]["email"]: p["headers"]["List-Unsubscribe"].strip("<>") for p in body["personalizations"]
    }
    with transaction(db) as session:
        assert (
            unsubscribe(session, links["bob@example.com"].rsplit("/", 1)[1], tokens=link_tokens()).email
            == "bob@example.com"
        )
    assert {(d.status, d.provider_message_id) for d in _deliveries(db)} == {("sent", request.message_id)}


def test_several_changes_go_out_as_one_email_per_subscriber(db, sendgrid):
    with transaction(db) as session:
        usage = document(session, "openai", title="Usage Policies", platform_name="OpenAI")
        terms = document(session, "openai", slug="openai-terms", title="Terms of Use", platform_name="OpenAI")
        confirmed(session, "ann@example.com")
        change(session, usage, "substantive")
        change(session, terms, "substantive")
        change(session, terms, "minor")  # below the default minimum: not alerted

    send_alerts(db)

    [request] = sendgrid.accepted
    assert request.body["subject"] == (
        "[policywatch] 2 changes: OpenAI Usage Policies (substantive), OpenAI Terms of Use (substantive)"
    )
    assert [p["to"][0]["email"] for p in request.body["personalizations"]] == ["ann@example.com"]
    assert len(_deliveries(db)) == 2
    assert send_alerts(db).sent == 0  # nothing new: nothing sent again


def test_matching_respects_tier_document_topics_and_significance(db, sendgrid):
    with transaction(db) as session:
        usage = document(session, "openai")
        other = document(session, "anthropic", slug="anthropic-aup")
        confirmed(session, "free@example.com", tier="free")
        confirmed(session, "doc@example.com", platform="openai", document="openai-usage")
        confirmed(session, "privacy@example.com", tier="professional", topics=["data_sharing"])
        confirmed(session, "minor@example.com", min_significance="minor")
        confirmed(session, "elsewhere@example.com", platform="anthropic")
        change(session, usage, "minor", topics=("military",))
        change(session, usage, "substantive", topics=("data_sharing",))
        change(session, other, "substantive", flapping=True)

    send_alerts(db)

    assert sorted(sendgrid.recipients()) == ["doc@example.com", "minor@example.com", "privacy@example.com"]
    subjects = {
        p["to"][0]["email"]: r.body["subject"] for r in sendgrid.accepted for p in r.body["personalizations"]
    }
    assert subjects["minor@example.com"].startswith("[policywatch] 2 changes:")
    assert (
        subjects["privacy@example.com"]
        == subjects["doc@example.com"]
        == ("[policywatch] Openai Usage Policies: substantive change")
    )


def test_rate_limit_is_retried_after_the_time_the_provider_asks(db, sendgrid, monkeypatch):
    monkeypatch.setenv("POLICYWATCH_EMAIL_RETRY_WAIT", "5")
    one_change_for_ann(db)
    sendgrid.answer(429, retry_after=600)

    first = send_alerts(db)

    [delivery] = _deliveries(db)
    assert (first.sent, first.retried, delivery.status, delivery.attempts) == (0, 1, "pending", 1)
    assert delivery.next_attempt_at > utcnow() + timedelta(
        seconds=590
    )  # 600 s asked, 5 s is the longest wait
    assert "429" in delivery.last_error


def test_server_errors_are_retried_with_backoff_until_sent(db, sendgrid):
    one_change_for_ann(db)
    sendgrid.answer(500, times=2)
    sendgrid.answer(429, retry_after=0.2)

    report = send_alerts(db)

    [delivery] = _deliveries(db)
    assert [r.status for r in sendgrid.received] == [500, 500, 429, 202]
    assert (report.sent, delivery.status, delivery.attempts) == (1, "sent", 4)
    assert delivery.provider_message_id == sendgrid.accepted[0].message_id
    assert sendgrid.recipients() == ["ann@example.com"]


@pytest.mark.parametrize("status", [400, 401, 403])
def test_permanent_failure_is_recorded_and_not_retried(db, sendgrid, status):
    one_change_for_ann(db)
    sendgrid.answer(status)

    report = send_alerts(db)
    again = send_alerts(db)

    [delivery] = _deliveries(db)
    assert (report.failed, again.requests, len(sendgrid.received)) == (1, 0, 1)
    assert delivery.status == "failed" and f"HTTP {status}" in delivery.last_error


def test_unreachable_provider_is_a_retry_not_a_loss(db, sendgrid, monkeypatch):
    monkeypatch.setenv("POLICYWATCH_SENDGRID_API_HOST", "http://127.0.0.1:9")  # nothing listens on discard
    monkeypatch.setenv("POLICYWATCH_EMAIL_RETRY_WAIT", "0")
    monkeypatch.setenv("POLICYWATCH_EMAIL_RETRY_BASE", "60")
    one_change_for_ann(db)

    report = send_alerts(db)

    [delivery] = _deliveries(db)
    assert (report.retried, delivery.status) == (1, "pending")
    assert "127.0.0.1:9" in delivery.last_error


def test_a_timed_out_request_is_retried_not_lost(db, sendgrid, monkeypatch):
    monkeypatch.setenv("POLICYWATCH_EMAIL_TIMEOUT", "0.5")
    monkeypatch.setenv("POLICYWATCH_EMAIL_RETRY_WAIT", "0")
    monkeypatch.setenv("POLICYWATCH_EMAIL_RETRY_BASE", "60")
    one_change_for_ann(db)
    sendgrid.hold()

    report = send_alerts(db)
    sendgrid.release()

    [delivery] = _deliveries(db)
    assert (report.retried, delivery.status, delivery.attempts) == (1, "pending", 1)
    assert "timed out" in delivery.last_error
