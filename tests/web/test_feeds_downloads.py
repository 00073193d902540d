"""Atom feeds, downloads (text, change JSON, audit export that ``policywatch verify`` checks) and /healthz."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import text

from policywatch.cli import cli
from policywatch.settings import get_settings
from store.migrate import downgrade
from web.app import create_app

ATOM = "{http://www.w3.org/2005/Atom}"


def entries(client, path: str) -> list[str]:
    response = client.get(path)
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    return [entry.findtext(f"{ATOM}title") for entry in feed.iter(f"{ATOM}entry")]


def test_feeds_per_scope_with_minimum_significance(client):
    assert len(entries(client, "/feeds/changes.atom")) == 3  # minor and up by default
    assert len(entries(client, "/feeds/changes.atom?min_significance=cosmetic")) == 4
    assert all(
        "substantive" in t for t in entries(client, "/feeds/changes.atom?min_significance=substantive")
    )
    assert entries(client, "/feeds/platforms/globex.atom") == ["[substantive] Globex Privacy Policy: v1 → v2"]
    assert len(entries(client, "/feeds/documents/acme-terms.atom")) == 2
    assert len(entries(client, "/feeds/topics/training_data.atom")) == 1
    assert client.get("/feeds/topics/nope.atom").status_code == 404
    assert client.get("/feeds/changes.atom?min_significance=loud").status_code == 422


def test_a_platforms_announcements_feed_lists_its_posts(fresh_client, fresh_engine):
    from store.db import transaction
    from tests.web.site import add_announcement

    with transaction(fresh_engine) as session:
        add_announcement(session)

    assert entries(fresh_client, "/feeds/platforms/acme/announcements.atom") == ["Gov deal"]
    assert entries(fresh_client, "/feeds/platforms/globex/announcements.atom") == []
    assert fresh_client.get("/feeds/platforms/nope/announcements.atom").status_code == 404


def test_version_text_and_change_json_download(client, site):
    download = client.get("/documents/acme-terms/versions/4/text")
    assert download.headers["content-disposition"] == 'attachment; filename="acme-terms-v4.md"'
    assert download.text.endswith("unless you opt out.")
    change = client.get(f"/changes/{site.globex_change}/json")
    assert change.headers["content-disposition"].startswith("attachment")
    assert change.json()["summary"] == "Data is kept for 90 days instead of 30."


def test_audit_export_verifies_offline_and_catches_tampering(client, tmp_path):
    export = client.get("/documents/acme-terms/audit.json").json()
    assert export["document"] == "acme-terms" and [v["seq"] for v in export["versions"]] == [1, 2, 3, 4]
    good = tmp_path / "good.json"
    good.write_text(json.dumps(export))
    result = CliRunner().invoke(cli, ["verify", str(good)])
    assert result.exit_code == 0 and "ok: 4 versions" in result.output
    export["versions"][1]["text"] = export["versions"][1]["text"].replace("lawful", "unlimited")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(export))
    result = CliRunner().invoke(cli, ["verify", str(bad)])
    assert result.exit_code == 1 and "acme-terms version 2" in result.output


def test_healthz_reports_schema_and_scheduler_leader(fresh_engine, fresh_client):
    idle = fresh_client.get("/healthz").json()
    assert idle["status"] == "ok" and idle["scheduler"] is None
    with fresh_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO lease (name, holder, acquired_at, expires_at) VALUES "
                "('scheduler', 'host-a:123', '2026-01-01 00:00:00', '2999-01-01 00:00:00')"
            )
        )
    body = fresh_client.get("/healthz").json()
    assert (
        body["status"] == "ok" and body["scheduler"]["holder"] == "host-a:123" and body["scheduler"]["active"]
    )
    assert body["schema"] == body["head"]


def test_healthz_fails_on_a_schema_behind(migrated_url):
    from store.db import make_engine

    downgrade(migrated_url, "base")
    engine = make_engine(migrated_url)
    with TestClient(create_app(get_settings(), engine)) as client:
        response = client.get("/healthz")
    engine.dispose()
    assert response.status_code == 503 and "policywatch db upgrade" in response.json()["reason"]
