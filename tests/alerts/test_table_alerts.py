"""An alert on a change inside a table shows the table: in HTML as a table with the changed cell
marked, in plain text as "Column: value" lines, never as pipes."""

from __future__ import annotations

from lxml import html as lxml_html

from store.db import transaction
from tests.alerts.builders import confirmed, send_alerts
from tests.web.tables import record_table_change


def test_an_alert_shows_a_changed_table_as_rows_and_cells(db, sendgrid):
    with transaction(db) as session:
        record_table_change(session)
        confirmed(session, "dpo@example.com", platform="acme")
    send_alerts(db)

    [request] = sendgrid.accepted
    text, html = (part["value"] for part in request.body["content"])
    lines = text.splitlines()
    start = lines.index("  changed row:")
    assert lines[start : start + 14] == [
        "  changed row:",
        "    Subprocessor: Stripe, Inc.",
        "    Location: United States → Ireland",
        "  removed row:",
        "    Subprocessor: Zendesk, Inc.",
        "    Purpose: Customer support tickets",
        "    Data processed: Contact details, messages",
        "    Location: United States",
        "  added row:",
        "    Subprocessor: Intercom R&D Unlimited Company",
        "    Purpose: In-product support chat",
        "    Data processed: Contact details, messages",
        "    Location: Ireland",
        "",
    ]
    assert not [line for line in lines if "|" in line]  # no pipe soup

    [table] = lxml_html.fromstring(html).cssselect("table")
    header, *rows = table.cssselect("tr")
    assert [th.text_content() for th in header.cssselect("th")] == [
        "",
        "Subprocessor",
        "Purpose",
        "Data processed",
        "Location",
    ]
    stripe = rows[0].cssselect("td")
    assert stripe[0].text_content() == "changed" and stripe[1].text_content() == "Stripe, Inc."
    assert "#fff3c4" in stripe[4].get("style") and "#fff3c4" not in stripe[3].get("style")  # the changed cell
    assert [e.text_content() for e in stripe[4].cssselect("del, ins")] == ["United States", "Ireland"]
    assert [row.cssselect("td")[0].text_content() for row in rows] == [
        "changed",
        "… 1 unchanged row …",
        "removed",
        "… 1 unchanged row …",
        "added",
    ]
    assert "| Stripe" not in html


def test_a_renamed_sections_old_name_reads_without_markdown_markers(db, sendgrid):
    from changes.record import record_changes
    from policywatch.settings import get_settings
    from store.versions import record_version
    from tests.factories import make_document

    old = "# Terms\n\n## **Fees**\n\nYou pay monthly.\n"
    new = "# Terms\n\n## Fees and billing\n\nYou pay monthly. Late payments incur interest.\n"
    with transaction(db) as session:
        document = make_document(session, "acme-terms", ("https://acme.test/terms",), platform_slug="acme")
        for text in (old, new):
            record_version(session, document, text, [])
        record_changes(session, get_settings())
        confirmed(session, "dpo@example.com", platform="acme")
    send_alerts(db)

    [request] = sendgrid.accepted
    text, html = (part["value"] for part in request.body["content"])
    assert '(modified, was "Fees")' in text and "**" not in text
    assert "was “Fees”" in html and "**" not in html
