"""Machine-written provision notes: asked of an OpenAI-compatible endpoint (a fake one on 127.0.0.1)
only when the settings name one, once per clause text, and never kept when the request fails."""

from __future__ import annotations

import logging

import pytest
from click.testing import CliRunner

from policywatch.cli import cli
from policywatch.runtime import Runtime
from policywatch.settings import SettingsError, load_settings
from policywatch.usecases.notes import write_notes
from store.db import make_engine, transaction
from store.models import ProvisionNote
from store.versions import record_version
from tests.changes import fake_llm
from tests.changes.test_provisions import POLICY, START, _seed

MILITARY = "You may not use the service for weapons development or military and warfare purposes."


@pytest.fixture
def llm():
    server = fake_llm.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def notes_on(llm, monkeypatch):
    """Notes asked of the fake server with model ``test-model`` and the key in ``FAKE_LLM_KEY``."""
    monkeypatch.setenv("POLICYWATCH_NOTE_URL", llm.url)
    monkeypatch.setenv("POLICYWATCH_NOTE_MODEL", "test-model")
    monkeypatch.setenv("POLICYWATCH_NOTE_API_KEY_ENV", "FAKE_LLM_KEY")
    monkeypatch.setenv("FAKE_LLM_KEY", "sk-test")
    monkeypatch.setenv("POLICYWATCH_NOTE_TIMEOUT", "0.5")
    return llm.state


def _record(url: str, *texts: str) -> None:
    """Versions of ``texts`` (the first ones of acme-terms, or the next), their changes and provisions."""
    from changes.record import record_changes
    from store.models import Document

    engine = make_engine(url)
    with transaction(engine) as session:
        document = session.query(Document).filter_by(slug="acme-terms").one_or_none()
        if document is None:
            _seed(session, texts)
        else:
            for text in texts:
                record_version(session, document, text, [], created_at=START)
        record_changes(session, load_settings())
    engine.dispose()


def _notes(url: str) -> dict[str, str]:
    engine = make_engine(url)
    with transaction(engine) as session:
        notes = {row.provision: row.note for row in session.query(ProvisionNote)}
    engine.dispose()
    return notes


def _round(limit: int | None = None):
    with Runtime.from_settings(load_settings()) as runtime:
        return write_notes(runtime, limit)


def test_each_clause_text_is_asked_once_with_the_model_and_key_configured(migrated_url, notes_on):
    _record(migrated_url, POLICY)
    first = _round()
    assert (first.written, first.failed, first.waiting) == (2, 0, 0)  # military ban, changes clause
    headers, body = notes_on.received[0]
    assert headers["Authorization"] == "Bearer sk-test" and body["model"] == "test-model"
    asked = [b["messages"][-1]["content"] for _, b in notes_on.received]
    assert any("Military and weapons" in question and MILITARY in question for question in asked)
    assert set(_notes(migrated_url)) == {"military_weapons", "unilateral_changes"}

    _record(migrated_url, POLICY.replace("You pay monthly.", "You pay yearly."))  # no provision changed
    assert _round().written == 0 and len(notes_on.received) == 2
    _record(migrated_url, POLICY.replace(" or military and warfare purposes", ""))
    assert _round().written == 1 and len(notes_on.received) == 3
    assert (
        "You may not use the service for weapons development."
        in notes_on.received[-1][1]["messages"][-1]["content"]
    )


def test_a_round_asks_at_most_its_limit(migrated_url, notes_on):
    _record(migrated_url, POLICY)
    done = _round(limit=1)
    assert (done.written, done.waiting) == (1, 1) and len(notes_on.received) == 1


@pytest.mark.parametrize(
    ("status", "body", "delay", "reason", "asked"),
    [
        (503, None, 0.0, "HTTP 503 Service Unavailable: fake failure 503", 1),  # the provider fails: stop
        (401, None, 0.0, "HTTP 401 Unauthorized: fake failure 401", 1),
        (400, None, 0.0, "HTTP 400 Bad Request: fake failure 400", 2),  # this request only: go on
        (200, {"choices": []}, 0.0, "the answer holds no note (choices[0].message.content)", 1),
        (200, None, 1.5, "no answer within 0.5 s", 1),
    ],
)
def test_a_failed_request_keeps_no_note_and_logs_one_line_with_url_and_reason(
    migrated_url, notes_on, llm, caplog, status, body, delay, reason, asked
):
    _record(migrated_url, POLICY)
    notes_on.tell(status, body, delay)
    with caplog.at_level(logging.WARNING, logger="policywatch.usecases.notes"):
        done = _round()
    assert (done.written, done.failed, done.waiting) == (0, asked, 2)
    assert len(notes_on.received) == asked
    lines = [r.getMessage() for r in caplog.records if r.name == "policywatch.usecases.notes"]
    assert lines == [f"provision note from {llm.url} failed: {reason}"] * asked
    assert _notes(migrated_url) == {}
    notes_on.tell()
    assert _round().written == 2  # asked again by the next round


def test_notes_are_off_by_default(migrated_url, llm):
    _record(migrated_url, POLICY)
    assert _round() is None
    result = CliRunner().invoke(cli, ["provisions", "notes"])
    assert result.exit_code != 0 and "notes are off" in result.output
    assert llm.state.received == []


def test_a_note_url_needs_a_model_and_must_be_http(monkeypatch):
    monkeypatch.setenv("POLICYWATCH_NOTE_URL", "http://127.0.0.1:9/v1/chat/completions")
    with pytest.raises(SettingsError, match="POLICYWATCH_NOTE_MODEL: .*required with POLICYWATCH_NOTE_URL"):
        load_settings()
    monkeypatch.setenv("POLICYWATCH_NOTE_MODEL", "test-model")
    monkeypatch.setenv("POLICYWATCH_NOTE_URL", "file:///etc/passwd")
    with pytest.raises(SettingsError, match="POLICYWATCH_NOTE_URL: .*not an http:// or https:// URL"):
        load_settings()


def test_the_notes_command_reports_the_round(migrated_url, notes_on):
    _record(migrated_url, POLICY)
    result = CliRunner().invoke(cli, ["provisions", "notes"])
    assert result.exit_code == 0, result.output
    assert "2 notes written, 0 requests failed, 0 texts without a note" in result.output
    notes_on.tell(503)
    _record(migrated_url, POLICY.replace("by email", "in the product"))
    failed = CliRunner().invoke(cli, ["provisions", "notes"])
    assert (
        failed.exit_code == 1
        and "0 notes written, 1 requests failed, 1 texts without a note" in failed.output
    )
