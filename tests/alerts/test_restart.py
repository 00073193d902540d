"""A sender killed in the middle of a batch and restarted loses nothing and duplicates nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from sqlalchemy import select

from policywatch.settings import get_settings
from store.db import transaction
from store.models import Delivery
from tests.alerts.builders import change, confirmed, document

pytestmark = pytest.mark.slow  # senders run in child processes

RECIPIENTS = [f"reader{i}@example.com" for i in range(8)]


def _sender() -> subprocess.Popen:
    """``policywatch alerts send`` in its own process, with this test's settings."""
    return subprocess.Popen(
        [sys.executable, "-m", "policywatch", "alerts", "send"],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_killed_sender_restarts_without_loss_or_duplicate(db, sendgrid, monkeypatch):
    # One recipient per request, one request at a time, and a one-second lease to outlive.
    for name, value in {
        "EMAIL_BATCH_SIZE": "1",
        "EMAIL_CONCURRENCY": "1",
        "EMAIL_LEASE_SECONDS": "1",
    }.items():
        monkeypatch.setenv(f"POLICYWATCH_{name}", value)
    with transaction(db) as session:
        usage = document(session)
        for address in RECIPIENTS:
            confirmed(session, address)
        change(session, usage)
    sendgrid.hold(after=3)

    first = _sender()
    assert sendgrid.wait_for_held(timeout=300), first.communicate()[0]  # generous: CI machines get busy
    first.send_signal(signal.SIGKILL)
    first.wait()
    sendgrid.release()
    second = _sender()
    output = second.communicate(timeout=300)[0]

    assert second.returncode == 0, output
    assert [r.abandoned for r in sendgrid.received].count(True) == 1  # the request in flight at the kill
    assert sorted(sendgrid.recipients()) == sorted(RECIPIENTS)  # every reader exactly once
    with transaction(db) as session:
        rows = session.execute(
            select(Delivery.status, Delivery.provider_message_id, Delivery.unconfirmed_attempts).where(
                Delivery.kind == "alert"
            )
        ).all()
    assert {status for status, _, _ in rows} == {"sent"}
    assert sorted(message_id for _, message_id, _ in rows) == sorted(r.message_id for r in sendgrid.accepted)
    assert sorted(lost for _, _, lost in rows) == [0] * 7 + [1]  # the row in flight at the kill: honest


def test_two_senders_at_once_never_send_the_same_row(db, sendgrid, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from alerts.delivery.outbox import queue_alerts
    from alerts.delivery.sender import Sender

    monkeypatch.setenv("POLICYWATCH_EMAIL_BATCH_SIZE", "3")
    monkeypatch.setenv("POLICYWATCH_EMAIL_CONCURRENCY", "1")
    readers = [f"reader{i}@example.com" for i in range(30)]
    with transaction(db) as session:
        usage = document(session)
        for address in readers:
            confirmed(session, address)
        change(session, usage)
        queue_alerts(session)

    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda _: Sender(db, get_settings()).run(), range(2)))

    assert sorted(sendgrid.recipients()) == sorted(readers)
    assert sum(report.sent for report in reports) == len(readers)


def test_senders_killed_at_random_moments_lose_no_email_and_repeat_only_what_was_in_flight(
    db, sendgrid, monkeypatch
):
    import random
    import time

    from sqlalchemy import update

    from store.models import utcnow

    for name, value in {
        "EMAIL_BATCH_SIZE": "1",
        "EMAIL_CONCURRENCY": "1",
        "EMAIL_LEASE_SECONDS": "1",
    }.items():
        monkeypatch.setenv(f"POLICYWATCH_{name}", value)
    readers = [f"reader{i}@example.com" for i in range(12)]
    with transaction(db) as session:
        usage = document(session)
        for address in readers:
            confirmed(session, address)
        change(session, usage)
    sendgrid.answer(202, delay=0.2, times=1000)  # each request in flight for a while
    moments = random.Random(20261204)

    kills = 0
    for _ in range(4):
        sender = _sender()
        time.sleep(moments.uniform(1.0, 3.0))
        if sender.poll() is None:
            sender.send_signal(signal.SIGKILL)
            kills += 1
        sender.wait()
    for _ in range(5):  # then runs that are let finish, until nothing is left to send
        time.sleep(1.1)  # claims of the killed senders lapse
        with transaction(db) as session:
            session.execute(
                update(Delivery).where(Delivery.status == "pending").values(next_attempt_at=utcnow())
            )
        assert _sender().wait(timeout=300) is not None
        with transaction(db) as session:
            left = session.scalars(select(Delivery).where(Delivery.status.in_(("pending", "sending")))).all()
        if not left:
            break

    with transaction(db) as session:
        statuses = dict(
            session.execute(select(Delivery.id, Delivery.status).where(Delivery.kind == "alert")).all()
        )
    assert set(statuses.values()) <= {"sent", "unconfirmed"} and kills
    received = sendgrid.recipients()
    assert set(received) == set(readers)  # no email lost
    assert len(received) - len(readers) <= kills  # a copy more only for a request in flight at a kill
