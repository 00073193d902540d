"""The weekly digest, the .eml file backend and the alerts / digest commands."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from alerts.content.weekly_digest import last_complete_week, parse_week
from policywatch.cli import cli
from policywatch.settings import get_settings
from store.db import make_engine, transaction
from tests.alerts.builders import change, confirmed, document, send_digest

MONDAY = datetime(2026, 11, 9, 8, tzinfo=UTC)  # in 2026-W46


def test_weeks_are_iso_weeks():
    assert parse_week("2026-W46") == (
        datetime(2026, 11, 9, tzinfo=UTC),
        datetime(2026, 11, 16, tzinfo=UTC),
    )
    assert last_complete_week(datetime(2026, 11, 22, 12, tzinfo=UTC)) == "2026-W46"
    assert last_complete_week(datetime(2027, 1, 4, tzinfo=UTC)) == "2026-W53"
    for bad in ("2026-46", "2026-W54", "last week"):
        with pytest.raises(ValueError, match="week"):
            parse_week(bad)


def _digest(engine, week="2026-W46"):
    return send_digest(engine, week)


def test_digest_groups_by_platform_most_significant_first_and_sends_once(db, sendgrid):
    with transaction(db) as session:
        usage = document(session, "openai", platform_name="OpenAI")
        aup = document(
            session,
            "anthropic",
            slug="anthropic-aup",
            title="Acceptable Use Policy",
            platform_name="Anthropic",
        )
        confirmed(session, "free@example.com", tier="free", platform="openai")
        confirmed(session, "both@example.com", platform="openai")
        confirmed(session, "both@example.com", platform="anthropic")
        change(session, usage, "minor", summary="Minor OpenAI edit.", detected_at=MONDAY)
        change(session, aup, "substantive", summary="Anthropic bans X.", detected_at=MONDAY)
        change(session, usage, "substantive", summary="OpenAI bans Y.", detected_at=MONDAY)
        change(session, usage, "cosmetic", summary="Typo.", detected_at=MONDAY)  # below the digest default
        change(
            session,
            usage,
            "substantive",
            summary="Next week.",
            detected_at=datetime(2026, 11, 16, tzinfo=UTC),
        )

    first = _digest(db)
    second = _digest(db)

    assert (first.sent, second.sent, second.requests) == (2, 0, 0)
    by_recipient = {
        p["to"][0]["email"]: r.body for r in sendgrid.accepted for p in r.body["personalizations"]
    }
    both = by_recipient["both@example.com"]
    assert both["subject"] == "[policywatch] Weekly digest 2026-W46: 3 changes on 2 platforms"
    assert both["categories"] == ["policywatch", "digest"]
    text = both["content"][0]["value"]
    assert "3 changes (2 substantive, 1 minor, 0 cosmetic)" in text
    summary = text[text.index("== This week's changes ==") : text.index("== OpenAI (2) ==")]
    assert "* OpenAI Usage Policies — substantive: OpenAI bans Y." in summary  # one line per change first
    openai = text[text.index("== OpenAI (2) ==") :]
    assert openai.index("OpenAI bans Y.") < openai.index("Minor OpenAI edit.")
    assert text.index("== Anthropic (1) ==") < text.rindex("Anthropic bans X.")
    assert "Typo." not in text and "Next week." not in text
    assert "https://policywatch.test/changes/" in text
    assert (
        by_recipient["free@example.com"]["subject"]
        == "[policywatch] Weekly digest 2026-W46: 2 changes on 1 platform"
    )


def test_a_week_with_nothing_to_report_sends_nothing(db, sendgrid):
    with transaction(db) as session:
        usage = document(session)
        confirmed(session, "ann@example.com")
        subscribe_only = document(session, "anthropic", slug="anthropic-aup")
        change(session, subscribe_only, "substantive", detected_at=MONDAY)  # not followed
        change(session, usage, "cosmetic", detected_at=MONDAY)  # too small

    report = _digest(db)

    assert (report.sent, report.requests, sendgrid.received) == (0, 0, [])


def test_file_backend_writes_whole_eml_files_with_both_parts(migrated_url):
    engine = make_engine(migrated_url)
    with transaction(engine) as session:
        usage = document(session, platform_name="OpenAI")
        confirmed(session, "ann@example.com")
        head = change(session, usage, summary="A <b>bold</b> claim.").to_version.chain_hash
    engine.dispose()

    result = CliRunner().invoke(cli, ["alerts", "send"])

    assert result.exit_code == 0, result.output
    assert "1 new change(s), 1 alert(s) queued" in result.output
    outbox = get_settings().outbox
    files = sorted(outbox.iterdir())
    assert [f.suffix for f in files] == [".eml"]  # no temporary file left; the moot confirmation is cancelled
    message = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert message["To"] == "ann@example.com"
    assert message["Subject"] == "[policywatch] OpenAI Usage Policies: substantive change"
    assert message["List-Unsubscribe"].startswith(f"<{get_settings().base_url}/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    host = urlsplit(get_settings().base_url).hostname
    assert message["List-Id"] == f"policywatch alerts <alerts.{host}>"  # clients filter on it
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "A <b>bold</b> claim." in text and "A &lt;b&gt;bold&lt;/b&gt; claim." in html
    assert message["List-Unsubscribe"].strip("<>") in text and "%unsubscribe-" not in html
    assert f"Version chain head: {head}" in text and head in html  # anchors the history outside it


def test_digest_command_defaults_to_the_last_complete_week_and_checks_its_option(migrated_url):
    runner = CliRunner()
    assert "is not an ISO week" in runner.invoke(cli, ["digest", "send", "--week", "46"]).output
    result = runner.invoke(cli, ["digest", "send"])
    assert result.exit_code == 0
    assert f"digest {last_complete_week(datetime.now(UTC))}: 0 subscriber(s)" in result.output


def test_an_alert_opens_with_one_line_per_change_and_shows_a_reworded_clause_once_as_a_redline(migrated_url):
    engine = make_engine(migrated_url)
    before, after = "We keep chats for 30 days.", "We keep chats for 90 days."
    with transaction(engine) as session:
        usage = document(session, platform_name="OpenAI")
        confirmed(session, "ann@example.com")
        made = change(session, usage, summary="Chats are kept for 90 days instead of 30.")
        section = dict(made.details["sections"][0], added=[after], removed=[before])
        section["changed"] = [{"before": before, "after": after}]
        made.details = {**made.details, "sections": [section]}
    engine.dispose()

    assert CliRunner().invoke(cli, ["alerts", "send"]).exit_code == 0
    (eml,) = get_settings().outbox.iterdir()
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "* OpenAI Usage Policies — substantive: Chats are kept for 90 days instead of 30." in text
    assert text.index("* OpenAI Usage Policies") < text.index("§ Prohibited uses")
    assert text.count("We keep chats for 90 days.") == 1 and text.count("We keep chats for 30 days.") == 1
    assert "We keep chats for <del" in html and ">30</del>" in html and ">90</ins> days." in html
    assert html.count("We keep chats for") == 1
