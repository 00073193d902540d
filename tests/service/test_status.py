"""`policywatch status` and the housekeeping job, on what an operator would see."""

from __future__ import annotations

import json
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import select

from policywatch.cli import cli
from policywatch.service.housekeeping import (
    close_interrupted_runs,
    prune_fetch_events,
    release_claims_of,
    release_expired_claims,
)
from store.db import make_engine, transaction
from store.leases import acquire_lease
from store.models import Change, CrawlRun, Delivery, FetchEvent, Subscriber, utcnow
from store.versions import record_version
from tests.factories import make_document


def seed(engine):
    """A broken source, a healthy one, a change waiting for alerts, a cosmetic one, a failed delivery,
    a leader."""
    now = utcnow()
    with transaction(engine) as session:
        broken = make_document(session, "acme-terms", ("https://acme.test/terms",))
        broken.sources[0].consecutive_failures, broken.sources[0].broken_since = 3, now
        broken.sources[0].last_error = "https://acme.test/terms: HTTP 503 after 3 retries"
        healthy = make_document(session, "acme-privacy", ("https://acme.test/privacy",))
        healthy.sources[0].last_fetched_at, healthy.sources[0].next_fetch_at = now, now + timedelta(hours=12)
        first = record_version(session, healthy, "We keep data 30 days.", [])
        second = record_version(session, healthy, "We keep data 90 days.", [])
        third = record_version(session, healthy, "We keep data 90 days!", [])
        session.add_all(
            [
                Change(
                    document_id=healthy.id,
                    from_version_id=first.id,
                    to_version_id=second.id,
                    significance="substantive",
                ),
                Change(
                    document_id=healthy.id,
                    from_version_id=second.id,
                    to_version_id=third.id,
                    significance="cosmetic",
                ),
            ]
        )
        subscriber = Subscriber(email="a@example.com", status="confirmed")
        session.add(subscriber)
        session.flush()
        session.add(
            Delivery(
                subscriber_id=subscriber.id,
                kind="confirmation",
                status="failed",
                attempts=8,
                last_error="sendgrid: 401 invalid API key",
            )
        )
        acquire_lease(session, "scheduler", "host-a:4242:abcdef", now, timedelta(seconds=30))


def test_status_reports_broken_sources_waiting_changes_failed_deliveries_and_the_leader(migrated_url):
    engine = make_engine(migrated_url)
    seed(engine)
    engine.dispose()
    result = CliRunner().invoke(cli, ["status", "--json"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.output)
    by_document = {s["document"]: s for s in status["sources"]}
    assert by_document["acme-terms"]["broken"] and "HTTP 503" in by_document["acme-terms"]["reason"]
    assert not by_document["acme-privacy"]["broken"] and by_document["acme-privacy"]["next_crawl"]
    assert [(c["document"], c["significance"]) for c in status["changes_waiting"]] == [
        ("acme-privacy", "substantive")
    ]
    assert status["deliveries"] == {"failed": 1}
    assert "401" in status["failed_deliveries"][0]["error"]
    assert (
        status["scheduler"]["leader"]["holder"] == "host-a:4242:abcdef"
        and status["scheduler"]["leader"]["alive"]
    )

    plain = CliRunner().invoke(cli, ["status"]).output
    assert "led by host-a:4242:abcdef" in plain and "broken: 1" in plain and "BROKEN" in plain


def test_status_tells_of_email_delayed_by_provider_errors_and_email_left_unconfirmed(migrated_url):
    engine = make_engine(migrated_url)
    with transaction(engine) as session:
        subscriber = Subscriber(email="a@example.com", status="confirmed")
        session.add(subscriber)
        session.flush()
        error = "sendgrid https://api.sendgrid.com/v3/mail/send: HTTP 500 {}"
        session.add_all(
            [
                Delivery(subscriber_id=subscriber.id, kind="confirmation", attempts=5, last_error=error),
                Delivery(
                    subscriber_id=subscriber.id,
                    kind="digest",
                    digest_week="2026-W20",
                    status="unconfirmed",
                    attempts=2,
                    last_error="not sent again: 2 request(s) got no whole answer",
                ),
            ]
        )
    engine.dispose()

    status = json.loads(CliRunner().invoke(cli, ["status", "--json"]).output)
    plain = CliRunner().invoke(cli, ["status"]).output

    assert (
        status["delayed_deliveries"]["deliveries"] == 1
        and "HTTP 500" in status["delayed_deliveries"]["error"]
    )
    assert [d["status"] for d in status["failed_deliveries"]] == ["unconfirmed"]
    assert "delivery delayed: 1 pending after provider errors" in plain and "HTTP 500" in plain
    assert "unconfirmed: delivery" in plain and "1 unconfirmed" in plain


def test_status_says_when_no_scheduler_leads(migrated_url):
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 0 and "no leader" in result.output


def test_housekeeping_frees_expired_claims_closes_killed_runs_and_prunes_old_fetch_events(engine):
    now = utcnow()
    with transaction(engine) as session:
        document = make_document(session)
        source = document.sources[0]
        subscriber = Subscriber(email="a@example.com", status="confirmed")
        session.add(subscriber)
        session.flush()
        stale = Delivery(
            subscriber_id=subscriber.id,
            kind="confirmation",
            status="sending",
            claimed_by="host:1:dead",
            claimed_until=now - timedelta(minutes=1),
        )
        live = Delivery(
            subscriber_id=subscriber.id,
            kind="digest",
            digest_week="2026-W20",
            status="sending",
            claimed_by="host:2:live",
            claimed_until=now + timedelta(minutes=4),
        )
        killed = CrawlRun(started_at=now - timedelta(hours=2), status="running")
        running = CrawlRun(started_at=now - timedelta(minutes=5), status="running")
        session.add_all([stale, live, killed, running])
        for days in (400, 300, 200):
            session.add(
                FetchEvent(
                    source_id=source.id,
                    url=source.url,
                    outcome="error",
                    fetched_at=now - timedelta(days=days),
                )
            )
        session.add(
            FetchEvent(
                source_id=source.id, url=source.url, outcome="unchanged", fetched_at=now - timedelta(days=1)
            )
        )
    with transaction(engine) as session:
        assert release_expired_claims(session, now) == 1
        assert close_interrupted_runs(session, now, run_timeout=1800) == 1
        assert prune_fetch_events(session, now - timedelta(days=180)) == 3
    with transaction(engine) as session:
        assert [
            (d.status, d.claimed_by, d.unconfirmed_attempts)
            for d in session.scalars(select(Delivery).order_by(Delivery.id))
        ] == [("pending", None, 1), ("sending", "host:2:live", 0)]  # the dead sender may have sent it
        assert [r.status for r in session.scalars(select(CrawlRun).order_by(CrawlRun.id))] == [
            "interrupted",
            "running",
        ]
        assert [e.outcome for e in session.scalars(select(FetchEvent))] == ["unchanged"]


def test_claims_of_a_stopped_sender_are_freed_at_once_and_no_others(engine):
    now = utcnow()
    with transaction(engine) as session:
        subscriber = Subscriber(email="a@example.com", status="confirmed")
        session.add(subscriber)
        session.flush()
        for week, holder in (
            ("2026-W20", "host:41:aaaa"),
            ("2026-W21", "host:4142:bbbb"),
            ("2026-W22", "other:41:cccc"),
        ):
            session.add(
                Delivery(
                    subscriber_id=subscriber.id,
                    kind="digest",
                    digest_week=week,
                    status="sending",
                    claimed_by=holder,
                    claimed_until=now + timedelta(minutes=5),
                )
            )
    with transaction(engine) as session:
        assert release_claims_of(session, ["host:41:"]) == 1
        assert release_claims_of(session, []) == 0
    with transaction(engine) as session:
        assert [
            (d.status, d.claimed_by, d.unconfirmed_attempts)
            for d in session.scalars(select(Delivery).order_by(Delivery.id))
        ] == [("pending", None, 1), ("sending", "host:4142:bbbb", 0), ("sending", "other:41:cccc", 0)]


def test_a_source_failing_short_of_broken_is_shown_failing_with_its_reason_on_one_line(migrated_url):
    engine = make_engine(migrated_url)
    with transaction(engine) as session:
        failing = make_document(session, "acme-aup", ("https://acme.test/aup",))
        failing.sources[0].consecutive_failures = 2
        failing.sources[0].last_error = "https://acme.test/aup: blocked\nchallenge page\n(Cloudflare)"
        make_document(session, "acme-privacy", ("https://acme.test/privacy",))
    engine.dispose()

    lines = CliRunner().invoke(cli, ["status"]).output.splitlines()
    (aup,) = [line for line in lines if line.startswith("acme-aup\t")]
    assert aup.endswith(
        "failing (2 failures in a row): https://acme.test/aup: blocked challenge page (Cloudflare)"
    )
    assert [line for line in lines if line.startswith("acme-privacy\t")][0].endswith("\tok")
    assert "challenge page" not in "\n".join(line for line in lines if not line.startswith("acme-aup"))


def test_tables_on_a_narrow_terminal_wrap_long_urls_instead_of_cutting_them():
    import io
    import re

    from rich.console import Console

    from policywatch.cli.common import rich_table

    url = "http://127.0.0.1:8123/legal/usage-policy?version=2026-12-01"
    table = rich_table("document", "url", "health")
    table.add_row("acme-aup", url, "ok")
    out = io.StringIO()
    Console(file=out, width=40).print(table)
    assert "…" not in out.getvalue()
    url_column = "".join(re.split(r"[│┃|]", line)[2].strip() for line in out.getvalue().splitlines()[3:-1])
    assert url in url_column
