"""A misbehaving provider delays email, never drops it, duplicates it a bounded number of times, and
never stops the other emails: outages, slow answers, cut and garbled answers, one bad email."""

from __future__ import annotations

import email
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from alerts.delivery.backends import FileBackend
from alerts.delivery.outbox import queue_alerts
from alerts.delivery.sender import Sender
from policywatch.settings import get_settings
from policywatch.usecases.status import service_status
from store.db import transaction
from store.models import Delivery, utcnow
from tests.alerts.builders import change, confirmed, document, send_alerts

READERS = ["ann@example.com", "bob@example.com", "cat@example.com"]


@pytest.fixture
def patient(monkeypatch):
    """Retries left to later runs: a run tries each email once."""
    monkeypatch.setenv("POLICYWATCH_EMAIL_RETRY_WAIT", "0")
    monkeypatch.setenv("POLICYWATCH_EMAIL_RETRY_BASE", "60")


def readers_told_of_one_change(engine, readers=READERS) -> None:
    with transaction(engine) as session:
        usage = document(session)
        for address in readers:
            confirmed(session, address)
        change(session, usage)


def deliveries(engine) -> list[Delivery]:
    with transaction(engine) as session:
        return list(session.scalars(select(Delivery).where(Delivery.kind == "alert").order_by(Delivery.id)))


def later(engine, hours: float = 0) -> None:
    """As if the pending emails were due now (and queued ``hours`` earlier)."""
    with transaction(engine) as session:
        now = utcnow()
        session.execute(update(Delivery).where(Delivery.status == "pending").values(next_attempt_at=now))
        if hours:
            session.execute(update(Delivery).values(created_at=now - timedelta(hours=hours)))


def message_keys(requests) -> list[str]:
    return [p["custom_args"]["message_key"] for r in requests for p in r.body["personalizations"]]


def test_an_outage_delays_email_across_runs_with_capped_backoff_until_the_provider_recovers(
    db, sendgrid, patient, monkeypatch, caplog
):
    monkeypatch.setenv("POLICYWATCH_EMAIL_RETRY_MAX_DELAY", "7200")
    readers_told_of_one_change(db)
    sendgrid.answer(500, times=1000)

    with caplog.at_level(logging.WARNING, logger="alerts.delivery.sender"):
        first = send_alerts(db)
    [told] = [record.message for record in caplog.records]  # one line per run, not one per email
    delays = []
    for _ in range(9):
        later(db)
        send_alerts(db)
        [next_attempt] = {d.next_attempt_at for d in deliveries(db)}  # one email, one retry time
        delays.append(round((next_attempt - utcnow()).total_seconds() / 60))

    assert (first.sent, first.retried, first.failed) == (0, 3, 0)
    assert told.startswith("email delivery delayed: 3 delivery row(s) pending") and "HTTP 500" in told
    assert all(d.status == "pending" for d in deliveries(db))
    assert delays == [2, 4, 8, 16, 32, 64, 120, 120, 120]  # minutes: doubling from 1, capped at 2 h
    with transaction(db) as session:
        status = service_status(session, utcnow())
    assert status["deliveries"]["pending"] == 3 and "failed" not in status["deliveries"]
    assert (
        status["delayed_deliveries"]["deliveries"] == 3
        and "HTTP 500" in status["delayed_deliveries"]["error"]
    )

    sendgrid.script.clear()
    later(db)
    recovered = send_alerts(db)

    assert recovered.sent == 3 and sorted(sendgrid.recipients()) == READERS
    assert {d.status for d in deliveries(db)} == {"sent"}


def test_an_email_older_than_the_maximum_age_fails_with_the_reason(db, sendgrid, patient):
    readers_told_of_one_change(db, ["ann@example.com"])
    sendgrid.answer(500)
    send_alerts(db)
    later(db, hours=73)  # default maximum age: 72 hours
    sendgrid.answer(503)

    report = send_alerts(db)

    [delivery] = deliveries(db)
    assert (report.failed, delivery.status) == (1, "failed")
    assert (
        delivery.last_error.startswith("gave up after 2 attempts in 73.0 h") and "503" in delivery.last_error
    )
    with transaction(db) as session:
        [shown] = service_status(session, utcnow())["failed_deliveries"]
    assert shown["status"] == "failed" and "503" in shown["error"]


def test_a_provider_slower_than_the_timeout_gets_each_email_a_bounded_number_of_times(
    db, sendgrid, monkeypatch
):
    monkeypatch.setenv("POLICYWATCH_EMAIL_TIMEOUT", "0.2")
    readers_told_of_one_change(db, ["ann@example.com"])
    sendgrid.answer(202, delay=1, times=10)  # accepts each request, answers after the client gave up

    report = send_alerts(db)
    again = send_alerts(db)

    [delivery] = deliveries(db)
    assert (report.sent, report.unconfirmed, again.requests) == (0, 1, 0)
    assert sendgrid.recipients() == ["ann@example.com"] * 2  # the first request and one retry
    assert len(set(message_keys(sendgrid.received))) == 1  # the retry carries the same message key
    assert delivery.status == "unconfirmed" and delivery.unconfirmed_attempts == 2
    assert "timed out" in delivery.last_error and "may have accepted" in delivery.last_error


def test_a_timed_out_email_is_retried_with_its_message_key_and_recorded_sent(db, sendgrid, monkeypatch):
    monkeypatch.setenv("POLICYWATCH_EMAIL_TIMEOUT", "0.2")
    readers_told_of_one_change(db, ["ann@example.com"])
    sendgrid.answer(202, delay=1)

    report = send_alerts(db)

    [delivery] = deliveries(db)
    first, second = sendgrid.received
    assert report.sent == 1 and message_keys([first]) == message_keys([second]) == [delivery.message_key]
    assert (delivery.status, delivery.provider_message_id) == ("sent", second.message_id)
    assert delivery.unconfirmed_attempts == 1  # honest: the first request may have been delivered too


@pytest.mark.parametrize("answer, reason", [({"truncated": True}, "IncompleteRead"), ({}, "BadStatusLine")])
def test_a_cut_or_garbled_answer_retries_that_batch_alone(db, sendgrid, patient, monkeypatch, answer, reason):
    monkeypatch.setenv("POLICYWATCH_EMAIL_CONCURRENCY", "1")
    with transaction(db) as session:
        usage = document(session)
        terms = document(session, slug="openai-terms", title="Terms of Use")
        confirmed(session, "ann@example.com", document="openai-usage")
        confirmed(session, "bob@example.com", document="openai-terms")
        change(session, usage)
        change(session, terms)
    sendgrid.answer(202 if answer else 0, **answer)

    first = send_alerts(db)

    cut, sent = deliveries(db)
    assert (first.retried, first.sent) == (1, 1)
    assert (cut.status, sent.status) == ("pending", "sent")
    assert reason in cut.last_error

    later(db)
    second = send_alerts(db)

    assert second.sent == 1 and {d.status for d in deliveries(db)} == {"sent"}
    to_ann = [
        r for r in sendgrid.received if r.body["personalizations"][0]["to"][0]["email"] == "ann@example.com"
    ]
    assert len(to_ann) == 2 and len(set(message_keys(to_ann))) == 1


class RefusesBob(FileBackend):
    """The file backend, failing the way a bad header does for bob's email."""

    def send(self, batch):
        if any(r.email == "bob@example.com" for r in batch.recipients):
            raise ValueError("Header values may not contain linefeed or carriage return characters")
        return super().send(batch)


def test_one_email_that_cannot_be_sent_fails_alone(db, monkeypatch):
    monkeypatch.setenv("POLICYWATCH_EMAIL_BATCH_SIZE", "1")
    monkeypatch.setenv("POLICYWATCH_EMAIL_CONCURRENCY", "2")
    readers_told_of_one_change(db)
    with transaction(db) as session:
        queue_alerts(session)

    report = Sender(db, get_settings(), backend=RefusesBob(get_settings())).run()

    states = {d.id: (d.status, d.last_error) for d in deliveries(db)}
    assert (report.sent, report.failed) == (2, 1)
    ann, bob, cat = states.values()
    assert ann[0] == cat[0] == "sent"
    assert bob[0] == "failed" and "ValueError: Header values may not contain linefeed" in bob[1]
    assert len(list(get_settings().outbox.glob("*.eml"))) == 2


def test_an_email_that_cannot_be_composed_fails_alone(db, monkeypatch):
    from alerts.content import compose

    real = compose.alert_email

    def broken_for_terms(views):
        if any(view["title"].endswith("Terms of Use") for view in views):
            raise KeyError("section")
        return real(views)

    monkeypatch.setattr(compose, "alert_email", broken_for_terms)
    with transaction(db) as session:
        usage = document(session)
        terms = document(session, slug="openai-terms", title="Terms of Use")
        confirmed(session, "ann@example.com", document="openai-usage")
        confirmed(session, "bob@example.com", document="openai-terms")
        change(session, usage)
        change(session, terms)

    report = send_alerts(db)

    ann, bob = deliveries(db)
    assert (report.sent, report.failed) == (1, 1)
    assert ann.status == "sent" and bob.status == "failed" and "could not be composed" in bob.last_error


def test_a_title_with_a_line_break_goes_out_on_one_line(db):
    with transaction(db) as session:
        usage = document(session, title="Usage\r\nBcc: everyone@example.com")  # stored before load refused it
        confirmed(session, "ann@example.com")
        change(session, usage)

    report = send_alerts(db)

    [eml] = get_settings().outbox.glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes())
    assert report.sent == 1
    assert message["Subject"] == "[policywatch] Openai Usage Bcc: everyone@example.com: substantive change"
    assert message["Bcc"] is None and message["To"] == "ann@example.com"


def test_alerts_send_reports_delay_without_failing_and_fails_on_unconfirmed_email(db, sendgrid, monkeypatch):
    from click.testing import CliRunner

    from policywatch.cli import cli

    monkeypatch.setenv("POLICYWATCH_EMAIL_RETRY_WAIT", "0")
    monkeypatch.setenv("POLICYWATCH_EMAIL_RETRY_BASE", "3600")  # the retry is never due within the run
    readers_told_of_one_change(db, ["ann@example.com"])
    sendgrid.answer(0)  # garbage: a transient error of that request, not a crash

    delayed = CliRunner().invoke(cli, ["alerts", "send"])
    later(db)
    monkeypatch.setenv("POLICYWATCH_EMAIL_TIMEOUT", "0.2")  # from now on: a short wait for answers
    get_settings.cache_clear()
    sendgrid.answer(202, delay=1)  # accepted after the client gave up: perhaps delivered
    unconfirmed = CliRunner().invoke(cli, ["alerts", "send"])

    assert delayed.exit_code == 0 and "0 email(s) sent in 1 request(s), 1 to retry" in delayed.output
    assert unconfirmed.exit_code == 1 and "1 unconfirmed" in unconfirmed.output
