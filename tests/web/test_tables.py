"""A change inside a table reads as a table: on the change page, the diff page (inline and side by
side) and in the alert emails, from a real-looking subprocessor page through extraction."""

from __future__ import annotations

from fastapi.testclient import TestClient
from lxml import html

from policywatch.settings import get_settings
from store.db import transaction
from tests.web.tables import record_table_change
from web.app import create_app


def table_of(fragment: html.HtmlElement) -> dict:
    """What a reader sees of a table diff: the header, and each row's mark and cells, with the cells
    marked changed and what was struck out and put in."""
    [table] = fragment.cssselect("table.table-diff")
    rows = {}
    for tr in table.cssselect("tbody tr"):
        cells = tr.cssselect("td")
        if "rows-same" in tr.get("class", ""):
            rows.setdefault("unchanged", []).append(cells[0].text_content())
            continue
        name = cells[1].text_content()
        rows[name] = {
            "mark": cells[0].text_content(),
            "changed": [i for i, td in enumerate(cells[1:]) if "cell-changed" in td.get("class", "")],
            "del": [d.text_content() for d in tr.cssselect("del")],
            "ins": [i.text_content() for i in tr.cssselect("ins")],
        }
    return {"header": [th.text_content() for th in table.cssselect("thead th")], "rows": rows}


EXPECTED = {
    "header": ["", "Subprocessor", "Purpose", "Data processed", "Location"],
    "rows": {
        "Stripe, Inc.": {"mark": "changed", "changed": [3], "del": ["United States"], "ins": ["Ireland"]},
        "Zendesk, Inc.": {
            "mark": "removed",
            "changed": [],
            "del": [
                "Zendesk, Inc.",
                "Customer support tickets",
                "Contact details, messages",
                "United States",
            ],
            "ins": [],
        },
    },
}


def test_a_table_change_shows_as_a_table_on_the_change_and_diff_pages(fresh_engine):
    with transaction(fresh_engine) as session:
        change = record_table_change(session)
        change_id = change.id
    with TestClient(create_app(get_settings(), fresh_engine)) as client:
        change_page = html.fromstring(client.get(f"/changes/{change_id}").text)
        inline = html.fromstring(client.get("/documents/acme-subprocessors/diff?from=1&to=2").text)
        side = html.fromstring(client.get("/documents/acme-subprocessors/diff?from=1&to=2&view=side").text)

    [section] = change_page.cssselect("section.section")
    for shown in (section, inline.cssselect(".redline")[0], side.cssselect("table.side")[0]):
        table = table_of(shown)
        assert table["header"] == EXPECTED["header"]
        rows = table["rows"]
        assert rows["Stripe, Inc."] == EXPECTED["rows"]["Stripe, Inc."]  # the cell that changed, word by word
        assert rows["Zendesk, Inc."] == EXPECTED["rows"]["Zendesk, Inc."]
        intercom = rows["Intercom R&D Unlimited Company"]
        assert intercom["mark"] == "added" and intercom["ins"][0] == "Intercom R&D Unlimited Company"
        assert rows["unchanged"] == ["… 1 unchanged row …", "… 1 unchanged row …"]  # AWS, Snowflake
    for page in (change_page, inline, side):
        assert "| Stripe" not in page.cssselect("main")[0].text_content()  # no pipe soup
    clauses = section.cssselect("ul li")
    assert not clauses  # the rows are shown in the table, not again as clauses
