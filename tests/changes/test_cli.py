"""`policywatch changes list|show` on a migrated database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from policywatch.cli import cli
from store.db import make_engine, transaction
from store.versions import record_version
from tests.factories import make_document

BEFORE = "# Terms\n\n## Fees\nYou pay monthly.\n\n## Links\nSee [help](https://x.test/?id=1).\n"
SUBSTANTIVE = BEFORE.replace("monthly.", "monthly. Refunds are no longer available <b>at all</b>.")
COSMETIC = SUBSTANTIVE.replace("?id=1", "?id=2")
START = datetime(2026, 5, 1, tzinfo=UTC)


def _seed(url: str) -> None:
    from changes.record import record_changes
    from policywatch.settings import load_settings

    engine = make_engine(url)
    with transaction(engine) as session:
        document = make_document(session)
        make_document(session, slug="other-terms", platform_slug="other")
        for i, text in enumerate([BEFORE, SUBSTANTIVE, COSMETIC]):
            record_version(session, document, text, [], created_at=START + timedelta(days=i))
        record_changes(session, load_settings())
    engine.dispose()


def test_list_json_filters_and_fields(migrated_url):
    _seed(migrated_url)
    runner = CliRunner()
    everything = json.loads(runner.invoke(cli, ["changes", "list", "--json"]).output)
    assert [c["significance"] for c in everything] == ["substantive", "cosmetic"]
    first = everything[0]
    assert first["platform"] == "acme" and first["document"] == "acme-terms"
    assert first["detected_at"] == "2026-05-02T00:00:00Z"
    assert first["sections"][0]["heading"] == "Fees" and first["sections"][0]["status"] == "modified"
    assert first["sections"][0]["added"] == ["Refunds are no longer available <b>at all</b>."]
    assert "pricing" in first["topics"] and first["summary"].startswith(
        "Terms of Service: section 'Fees' modified"
    )
    assert first["to_version"] > first["from_version"]
    alerts = json.loads(
        runner.invoke(cli, ["changes", "list", "--json", "--min-significance", "minor"]).output
    )
    assert [c["id"] for c in alerts] == [first["id"]]
    later = json.loads(
        runner.invoke(cli, ["changes", "list", "--json", "--since", "2026-05-02T12:00:00Z"]).output
    )
    assert [c["significance"] for c in later] == ["cosmetic"]
    assert json.loads(runner.invoke(cli, ["changes", "list", "--json", "--platform", "other"]).output) == []
    assert json.loads(runner.invoke(cli, ["changes", "list", "--json", "--document", "nope"]).output) == []
    table = runner.invoke(cli, ["changes", "list"]).output
    assert "substantive" in table and "acme-terms" in table


def test_show_renders_a_redline_in_every_format(migrated_url):
    _seed(migrated_url)
    runner = CliRunner()
    change_id = json.loads(runner.invoke(cli, ["changes", "list", "--json"]).output)[0]["id"]
    html = runner.invoke(cli, ["changes", "show", str(change_id), "--format", "html"]).output
    assert "<ins>Refunds are no longer available &lt;b&gt;at all&lt;/b&gt;.</ins>" in html
    assert "<b>" not in html
    text = runner.invoke(cli, ["changes", "show", str(change_id)]).output
    assert "+ Refunds are no longer available" in text
    markdown = runner.invoke(cli, ["changes", "show", str(change_id), "--format", "markdown"]).output
    assert "- added: **Refunds are no longer available" in markdown
    record = json.loads(runner.invoke(cli, ["changes", "show", str(change_id), "--format", "json"]).output)
    assert record["id"] == change_id and record["significance"] == "substantive"
    missing = runner.invoke(cli, ["changes", "show", "999"])
    assert missing.exit_code != 0 and "no change with id 999" in missing.output


def test_since_must_be_iso8601(migrated_url):
    result = CliRunner().invoke(cli, ["changes", "list", "--since", "yesterday"])
    assert result.exit_code != 0 and "ISO 8601" in result.output


def test_show_renders_a_changed_table_as_rows_in_every_format(migrated_url):
    from tests.web.tables import record_table_change

    engine = make_engine(migrated_url)
    with transaction(engine) as session:
        change_id = str(record_table_change(session).id)
    engine.dispose()
    runner = CliRunner()

    def show(fmt: str) -> str:
        return runner.invoke(cli, ["changes", "show", change_id, "--format", fmt]).output

    text = show("text").splitlines()
    start = text.index("  changed row:")
    assert text[start : start + 4] == [
        "  changed row:",
        "    Subprocessor: Stripe, Inc.",
        "    Location: United States → Ireland",
        "  removed row:",
    ]
    assert not [line for line in text if line.lstrip().startswith(("+ |", "- |", "~ |"))]  # no pipe soup
    markdown = show("markdown")
    assert "|  | Subprocessor | Purpose | Data processed | Location |" in markdown
    assert (
        "| changed | Stripe, Inc. | Payment processing and fraud prevention | Billing details | " in markdown
    )
    assert "~~United States~~**Ireland**" in markdown
    html = show("html")
    assert '<td class="cell-changed"><del>United States</del><ins>Ireland</ins></td>' in html
    assert (
        '<tr class="row-added"><td>added</td><td><ins>Intercom R&amp;D Unlimited Company</ins></td>' in html
    )
