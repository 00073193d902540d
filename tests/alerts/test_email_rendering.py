"""The HTML part of the emails in a real browser (Debian's chromium through Playwright): readable on
a desktop, at a mail client's 600 px and a phone's 390 px, no sideways scrolling, under Gmail's
clipping size, no Markdown markers or topic ids, a reworded clause once; each width's screenshot is
kept (tests/browser.py says where)."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from changes.record import record_changes
from policywatch.cli import cli
from policywatch.settings import get_settings
from store.db import make_engine, transaction
from store.versions import record_version
from tests.alerts.builders import change, confirmed, document
from tests.browser import (
    ARGS,
    CHROMIUM,
    WIDTHS,
    broken_words,
    needs_chromium,
    overflow,
    screenshot,
    unreadable,
)

MONDAY = datetime(2026, 11, 9, 8, tzinfo=UTC)  # in 2026-W46
GMAIL_CLIPS_AT = 102_000  # bytes of HTML after which Gmail hides the rest behind a link
EMAIL_WIDTHS = {"desktop": WIDTHS["desktop"], "client": 600, "phone": WIDTHS["phone"]}
DATA_USE = """# Data use

**Last updated:** 1 March 2026

We do **not** train our models on content you submit.

We keep logs for 30 days."""
REWORDED = "We may train our models on content you submit unless you opt out."

pytestmark = needs_chromium


def recorded_change(session: Session, at: datetime = MONDAY) -> None:
    """OpenAI's data-use policy reworded, recorded as the changes layer records it: its Markdown's
    markers in the clauses, topics by id, the reworded clauses also listed as added and removed."""
    data_use = document(session, slug="openai-data-use", title="Data Use Policy", platform_name="OpenAI")
    new = DATA_USE.replace("We do **not** train our models on content you submit.", REWORDED)
    record_version(session, data_use, DATA_USE, [], created_at=at - timedelta(days=30))
    record_version(session, data_use, new.replace("30 days", "90 days"), [], created_at=at)
    record_changes(session, get_settings())


def alert_html(migrated_url) -> str:
    engine = make_engine(migrated_url)
    long_clause = (
        "You may not use https://api.example-vendor.test/v1/organizations/org-0123456789abcdef/usage?"
        "tracking=a1b2c3d4e5f6a7b8c9d0 to build surveillance tools for governmental customers."
    )
    with transaction(engine) as session:
        usage = document(session, platform_name="OpenAI")
        confirmed(session, "ann@example.com")
        made = change(session, usage, summary="A clause on surveillance tools was added.")
        section = dict(made.details["sections"][0], added=[long_clause] * 3)
        made.details = {**made.details, "sections": [section] * 6}
        recorded_change(session)
    engine.dispose()
    assert CliRunner().invoke(cli, ["alerts", "send"]).exit_code == 0
    (eml,) = get_settings().outbox.iterdir()
    return email.message_from_bytes(eml.read_bytes(), policy=policy.default).get_body(("html",)).get_content()


def digest_html(migrated_url) -> str:
    engine = make_engine(migrated_url)
    with transaction(engine) as session:
        usage = document(session, platform_name="OpenAI")
        confirmed(session, "ann@example.com")
        for n in range(12):
            change(
                session,
                usage,
                summary=f"Change {n}: https://api.example-vendor.test/v1/organizations/org-0123456789abcdef "
                "now requires a signed agreement for governmental customers.",
                detected_at=MONDAY,
            )
        recorded_change(session)
    engine.dispose()
    assert CliRunner().invoke(cli, ["digest", "send", "--week", "2026-W46"]).exit_code == 0
    (eml,) = [path for path in get_settings().outbox.iterdir() if b"Weekly digest" in path.read_bytes()]
    return email.message_from_bytes(eml.read_bytes(), policy=policy.default).get_body(("html",)).get_content()


def table_alert_html(migrated_url) -> str:
    """The alert on a subprocessor table that changed (a wide table: four columns of prose)."""
    from tests.web.tables import record_table_change

    engine = make_engine(migrated_url)
    with transaction(engine) as session:
        record_table_change(session)
        confirmed(session, "dpo@example.com", platform="acme")
    engine.dispose()
    assert CliRunner().invoke(cli, ["alerts", "send"]).exit_code == 0
    (eml,) = get_settings().outbox.iterdir()
    return email.message_from_bytes(eml.read_bytes(), policy=policy.default).get_body(("html",)).get_content()


EMAILS = {"alert": alert_html, "digest": digest_html, "table": table_alert_html}


@pytest.mark.parametrize("kind", list(EMAILS))
def test_emails_read_cleanly_on_a_desktop_a_mail_client_and_a_phone(migrated_url, kind):
    from playwright.sync_api import sync_playwright

    html = EMAILS[kind](migrated_url)
    assert len(html.encode()) < GMAIL_CLIPS_AT
    found = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        page = browser.new_page()
        page.set_content(html)
        text = page.inner_text("body")
        reworded = page.locator("h3:has-text('Data use') + ul > li", has_text="train our models").count()
        for name, width in EMAIL_WIDTHS.items():
            page.set_viewport_size({"width": width, "height": 800})
            screenshot(page, f"email-{kind}-{name}")
            found[name] = _unreadable_at(page)
        browser.close()
    assert unreadable(text) == []
    assert reworded == (0 if kind == "table" else 1)  # as its redline, not also as added and removed
    assert found == dict.fromkeys(EMAIL_WIDTHS, []), found


def _unreadable_at(page) -> list[str]:
    """What makes the email hard to read at the page's width: sideways scrolling, small text, and a
    table's cells cutting or breaking their words (a wide table scrolls instead)."""
    problems = [f"{wide} px too wide"] if (wide := overflow(page)) > 0 else []
    if (size := page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")) < 14:
        problems.append(f"{size} px text")
    cut = page.evaluate(
        "[...document.querySelectorAll('td, th')].filter(c => c.scrollWidth > c.clientWidth).length"
    )
    broken = broken_words(page)
    return problems + ([f"{cut} cut cells"] if cut else []) + [f"'{w}' broken" for w in broken]
