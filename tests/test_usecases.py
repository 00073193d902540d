"""The use cases every front end calls, end to end on a migrated SQLite database."""

from __future__ import annotations

import pytest
import yaml
from fastapi.testclient import TestClient

from policywatch import usecases
from policywatch.runtime import Runtime
from policywatch.settings import get_settings
from policywatch.usecases.operator import OperatorActions
from store.db import StoreError, transaction
from store.models import Document
from tests.alerts.builders import change, confirmed, document
from web.app import create_app

SOURCES = {
    "platforms": [
        {
            "slug": "acme",
            "name": "Acme",
            "documents": [
                {
                    "slug": "acme-terms",
                    "title": "Terms",
                    "type": "Terms of Service",
                    "url": "http://127.0.0.1:9/t",
                }
            ],
        }
    ]
}


@pytest.fixture
def runtime(migrated_url, monkeypatch):
    monkeypatch.setenv("POLICYWATCH_EMAIL_BACKEND", "file")
    with Runtime.from_settings(get_settings()) as made:
        yield made


def test_a_runtime_refuses_a_database_whose_schema_is_behind(database_url, monkeypatch):
    monkeypatch.setenv("POLICYWATCH_DATABASE_URL", database_url)
    with pytest.raises(StoreError, match="policywatch db upgrade"):
        Runtime.from_settings(get_settings())


def test_loading_sources_creates_the_documents_and_loading_again_changes_nothing(runtime, tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(SOURCES))
    assert "1 created" in usecases.load_sources(runtime, path).line()
    assert "0 created, 0 updated, 0 deactivated" in usecases.load_sources(runtime, path).line()
    with transaction(runtime.engine) as session:
        assert [d.slug for d in session.query(Document)] == ["acme-terms"]


def test_alerts_then_the_digest_reach_a_confirmed_subscriber_once(runtime):
    with transaction(runtime.engine) as session:
        made = change(session, document(session))
        confirmed(session, "ann@example.com")
        year, week, _ = made.detected_at.isocalendar()
    sent = usecases.send_alerts(runtime)
    assert (sent.changes, sent.queued, sent.delivered.error) == (1, 1, None)
    report = sent.delivered.report
    assert (report.sent, report.cancelled) == (1, 1)  # the alert; the confirmation is moot once confirmed
    again = usecases.send_alerts(runtime)
    assert (again.changes, again.queued, again.delivered.report.sent) == (0, 0, 0)
    digest = usecases.send_digest(runtime, f"{year}-W{week:02d}")
    assert (digest.queued, digest.delivered.report.sent) == (1, 1)
    assert usecases.send_digest(runtime, digest.week).delivered.report.sent == 0  # once per week
    assert len(list(runtime.settings.outbox.glob("*.eml"))) == 2
    with pytest.raises(ValueError, match="week"):
        usecases.send_digest(runtime, "last week")


def test_the_operator_page_loads_sources_through_the_use_case(runtime, monkeypatch):
    monkeypatch.setenv("POLICYWATCH_OPERATOR_TOKEN", "t" * 32)
    get_settings.cache_clear()
    settings = get_settings()
    app = create_app(settings, runtime.engine, operator_actions=OperatorActions(runtime))
    auth = {"Authorization": f"Bearer {'t' * 32}", "Content-Type": "text/plain"}
    with TestClient(app) as client:
        loaded = client.post("/api/operator/sources", content=yaml.safe_dump(SOURCES), headers=auth)
        refused = client.post("/api/operator/sources", content="platforms: 3", headers=auth)
    assert loaded.status_code == 200 and loaded.json()["returncode"] == 0
    assert "1 created" in loaded.json()["output"]
    assert refused.json()["returncode"] == 1 and refused.json()["output"].startswith("Error: ")
