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
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
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


def test_each_feed_entry_and_api_change_publishes_the_chain_head_it_leads_to(client):
    feed = ET.fromstring(client.get("/feeds/documents/acme-terms.atom").content)
    heads = [e.find("{https://policywatch.dev/ns/audit}chainHead") for e in feed.iter(f"{ATOM}entry")]
    versions = {
        v["seq"]: v["chain_hash"] for v in client.get("/api/documents/acme-terms/versions").json()["items"]
    }
    assert heads and all(versions[int(head.get("seq"))] == head.text for head in heads)
    changes = client.get("/api/changes?document=acme-terms").json()["items"]
    assert all(c["chain_hash"] == versions[c["to_seq"]] for c in changes)


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


def verify(tmp_path, export: dict, *options: str):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    return CliRunner().invoke(cli, ["verify", str(path), *options])


def test_audit_export_is_signed_and_verifies_offline_with_the_published_key(client, tmp_path):
    export = client.get("/documents/acme-terms/audit.json").json()
    assert export["document"] == "acme-terms" and [v["seq"] for v in export["versions"]] == [1, 2, 3, 4]
    key = client.get("/audit/public-key").text.strip()
    assert export["signature"]["public_key"] == key and key in client.get("/documents/acme-terms").text
    head = export["versions"][-1]["chain_hash"]
    result = verify(tmp_path, export, "--public-key", key, "--head", head)
    assert result.exit_code == 0, result.output
    assert "ok: 4 versions, every chain intact; head v4 is the last version; published head found" in (
        result.output
    )


def test_an_edited_truncated_or_forged_export_fails_verification(client, tmp_path):
    from store.chain import chain_hash, text_hash

    key = client.get("/audit/public-key").text.strip()
    export = client.get("/documents/acme-terms/audit.json").json()
    edited = json.loads(json.dumps(export))
    edited["versions"][1]["text"] = edited["versions"][1]["text"].replace("lawful", "unlimited")
    result = verify(tmp_path, edited, "--public-key", key)
    assert result.exit_code == 1 and "acme-terms version 2" in result.output

    truncated = json.loads(json.dumps(export))
    truncated["versions"] = truncated["versions"][:2]
    truncated["head"] = {"seq": 2, "chain_hash": truncated["versions"][-1]["chain_hash"]}
    result = verify(tmp_path, truncated, "--public-key", key)
    assert result.exit_code == 1 and "signature does not match" in result.output
    result = verify(tmp_path, truncated, "--public-key", key, "--head", export["head"]["chain_hash"])
    assert "published chain head" in result.output

    forged = json.loads(json.dumps(export))  # text rewritten and every hash recomputed
    parent = None
    for record in forged["versions"]:
        record["text"] = record["text"].replace("lawful", "unlimited")
        record["text_sha256"] = text_hash(record["text"])
        record["chain_hash"] = chain_hash(
            parent,
            "acme-terms",
            record["seq"],
            record["created_at"],
            record["text_sha256"],
            record["snapshots"],
        )
        parent = record["chain_hash"]
    forged["head"]["chain_hash"] = parent
    result = verify(tmp_path, forged, "--public-key", key)
    assert result.exit_code == 1 and "signature does not match" in result.output
    del forged["signature"]
    assert "not signed" in verify(tmp_path, forged, "--public-key", key).output


def test_an_export_signed_by_another_key_is_refused(client, tmp_path):
    export = client.get("/documents/acme-terms/audit.json").json()
    other = "A" * 43 + "="
    result = verify(tmp_path, export, "--public-key", other)
    assert result.exit_code == 1 and f"not by the trusted key {other}" in result.output


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
