"""The HTML part of the emails in a real browser (Debian's chromium through Playwright): readable
at a mail client's 600 px and a phone's 390 px, no sideways scrolling, under Gmail's clipping size."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import pytest
from click.testing import CliRunner

from policywatch.cli import cli
from policywatch.settings import get_settings
from store.db import make_engine, transaction
from tests.alerts.builders import change, confirmed, document

CHROMIUM = Path("/usr/bin/chromium")
MONDAY = datetime(2026, 11, 9, 8, tzinfo=UTC)  # in 2026-W46
GMAIL_CLIPS_AT = 102_000  # bytes of HTML after which Gmail hides the rest behind a link

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
    ),
]


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
@pytest.mark.parametrize("width", [600, 390])
def test_emails_read_without_sideways_scrolling_at_client_and_phone_widths(migrated_url, width, kind):
    from playwright.sync_api import sync_playwright

    html = EMAILS[kind](migrated_url)
    assert len(html.encode()) < GMAIL_CLIPS_AT
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": width, "height": 800})
        page.set_content(html)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        text_size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        cut_cells = page.evaluate(  # a table's cells keep their words whole; a wide table scrolls instead
            "[...document.querySelectorAll('td, th')].filter(c => c.scrollWidth > c.clientWidth).length"
        )
        browser.close()
    assert cut_cells == 0
    assert overflow <= 0, f"{overflow} px wider than a {width} px screen"
    assert text_size >= 14
