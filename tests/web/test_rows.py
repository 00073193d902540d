"""Rows of the long tables built in Python: stored text escaped, long summaries cut as Jinja cuts them."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from jinja2 import Environment

from web.rendering.rows import change_rows, version_rows

MOMENT = datetime(2026, 5, 1, 10, 30, tzinfo=UTC)


def test_version_rows_escape_stored_text_and_cut_long_summaries():
    summary = "Section '<script>alert(1)</script>' modified — " + "clause added " * 30
    rows = version_rows(
        [
            SimpleNamespace(
                seq=2,
                created_at=MOMENT,
                significance="substantive",
                change_id=7,
                summary=summary,
                topics=['mili"tary'],
            ),
            SimpleNamespace(
                seq=1, created_at=MOMENT, significance=None, change_id=None, summary=None, topics=None
            ),
        ],
        "doc<x>",
        {},
    )
    assert "<script>" not in rows and "&lt;script&gt;" in rows and "doc&lt;x&gt;" in rows
    assert Environment(autoescape=True).from_string("{{ s | truncate(160) }}").render(s=summary) in rows
    assert "mili%22tary" in rows and "first version recorded" in rows
    whole = '<span class="nowrap">2026-05-01</span> <span class="nowrap">10:30 UTC</span>'
    assert whole in rows  # a narrow column breaks between date and time, not at the date's hyphens


def test_change_rows_escape_names_and_say_when_nothing_matches():
    change = SimpleNamespace(
        id=3,
        detected_at=MOMENT,
        significance="minor",
        summary="a < b",
        topics=[],
        platform="acme",
        platform_name="Acme <Corp>",
        document="terms",
        document_title="T&C",
    )
    rows = change_rows([change], {})
    assert "Acme &lt;Corp&gt;" in rows and "T&amp;C" in rows and "a &lt; b" in rows
    assert "/platforms/" not in change_rows([change], {}, show_document=False)
    assert "No changes match." in change_rows([], {})
