"""The JSON API serves the same history, paged, and describes itself in OpenAPI."""

from __future__ import annotations

from fastapi.testclient import TestClient

from changes.notes import digest
from changes.provisions import load_catalog
from changes.record import record_provisions
from policywatch.settings import get_settings
from store.db import transaction
from store.models import ProvisionNote
from store.notes import record_note
from web.app import create_app


def test_lists_are_paged_with_total_and_next(client):
    first = client.get("/api/changes?limit=2").json()
    assert first["total"] == 4 and len(first["items"]) == 2 and first["next_offset"] == 2
    last = client.get("/api/changes?limit=2&offset=2").json()
    assert len(last["items"]) == 2 and last["next_offset"] is None
    ids = [c["id"] for c in first["items"] + last["items"]]
    assert len(set(ids)) == 4
    assert all(c["reasons"][0].endswith(" by test") for c in first["items"] + last["items"])
    platforms = client.get("/api/platforms").json()
    assert [p["slug"] for p in platforms["items"]] == ["acme", "globex"] and platforms["total"] == 2


def test_changes_filter_like_the_cli(client, site):
    def ids(**params):
        return [c["id"] for c in client.get("/api/changes", params=params).json()["items"]]

    assert ids(min_significance="substantive") == [site.globex_change, site.acme_changes[0]]  # newest first
    assert ids(platform="globex") == [site.globex_change]
    assert ids(document="acme-terms", min_significance="minor") == [
        site.acme_changes[2],
        site.acme_changes[0],
    ]
    assert ids(since="2026-05-01") == [site.acme_changes[2], site.globex_change, site.acme_changes[1]]
    assert ids(since="2026-05-01", until="2026-05-31") == [site.globex_change, site.acme_changes[1]]
    assert ids(topic="government") == [site.acme_changes[0]]
    assert client.get("/api/changes?min_significance=huge").status_code == 422


def test_documents_versions_and_texts(client):
    documents = client.get("/api/documents?platform=acme").json()["items"]
    assert [(d["slug"], d["versions"]) for d in documents] == [("acme-terms", 4)]
    versions = client.get("/api/documents/acme-terms/versions").json()
    assert [v["seq"] for v in versions["items"]] == [4, 3, 2, 1]
    assert [
        v["seq"] for v in client.get("/api/documents/acme-terms/versions?cosmetic=false").json()["items"]
    ] == [4, 2, 1]
    v2 = client.get("/api/documents/acme-terms/versions/2").json()
    assert v2["significance"] == "substantive" and "national security" in v2["text"]
    assert client.get("/api/documents/acme-terms/versions/7").status_code == 404


def test_diff_segments_rebuild_both_texts(client):
    diff = client.get("/api/documents/acme-terms/diff?from=1&to=4").json()
    old = "".join(s["text"] for s in diff["segments"] if s["op"] != "insert")
    new = "".join(s["text"] for s in diff["segments"] if s["op"] != "delete")
    assert old == client.get("/api/documents/acme-terms/versions/1").json()["text"]
    assert new == client.get("/api/documents/acme-terms/versions/4").json()["text"]
    assert diff["added_words"] > 0 and diff["removed_words"] > 0


def test_change_detail_compare_and_topics(client, site):
    change = client.get(f"/api/changes/{site.globex_change}").json()
    assert change["details"]["sections"][0]["changed"][0]["after"] == "We keep your data for 90 days."
    compare = client.get("/api/compare?topic=data_retention").json()
    clauses = {p["platform"]: p["clauses"] for p in compare["items"]}
    assert [c["text"] for c in clauses["globex"]] == ["We keep your data for 90 days."]
    assert clauses["globex"][0]["change_id"] == site.globex_change
    assert "government" in {t["id"] for t in client.get("/api/topics").json()}


def test_openapi_describes_every_api_list(client):
    schema = client.get("/openapi.json").json()
    for path in (
        "/api/platforms",
        "/api/documents",
        "/api/documents/{slug}/versions",
        "/api/changes",
        "/api/announcements",
        "/api/search",
        "/api/compare",
    ):
        parameters = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
        assert {"limit", "offset"} <= parameters, path
    assert not any(path.startswith("/api/operator") for path in schema["paths"])  # no token configured


def test_announcements_are_listed_as_the_cli_lists_them(fresh_client, fresh_engine):
    from store.db import transaction
    from tests.web.site import add_announcement

    with transaction(fresh_engine) as session:
        add_announcement(session)

    page = fresh_client.get("/api/announcements?platform=acme").json()
    assert page["total"] == 1
    assert page["items"][0] | {"first_seen": None} == {
        "platform": "acme",
        "source": "acme-news",
        "url": "https://acme.test/news/gov-deal",
        "title": "Gov deal",
        "published": "2026-05-02",
        "first_seen": None,
        "removed": None,
        "topics": ["government"],
        "versions": 0,
        "document": "acme-gov-deal",
    }
    assert fresh_client.get("/api/announcements?platform=globex").json()["total"] == 0
    assert fresh_client.get("/api/announcements?since=2999-01-01").json()["total"] == 0


def test_provisions_of_the_latest_versions_with_the_machine_written_note_kept_on_them(fresh_engine):
    training_text = "We may train our models on content you submit unless you opt out."
    with transaction(fresh_engine) as session:
        record_provisions(session, load_catalog())
        record_note(session, "training_on_user_data", digest(training_text), "test-model", "Opt out.")
    with transaction(fresh_engine) as session:
        written = session.get_one(ProvisionNote, ("training_on_user_data", digest(training_text)))
    with TestClient(create_app(get_settings(), fresh_engine)) as client:
        stated = [p for p in client.get("/api/provisions?document=acme-terms").json() if p["present"]]
        globex = client.get("/api/provisions", params={"platform": "globex"}).json()
        schema = client.get("/openapi.json").json()["components"]["schemas"]
    training = next(p for p in stated if p["provision"] == "training_on_user_data")
    assert training["heading"] == "Training" and training["version"] == 4
    assert training["text"] == training_text
    assert training["note"] == {
        "text": "Opt out.",
        "model": "test-model",
        "written_at": written.created_at.isoformat().replace("+00:00", "Z"),
        "machine_written": True,
    }
    assert [p["provision"] for p in stated if p["note"]] == ["training_on_user_data"]
    assert all(p["note"] is None for p in globex)
    assert "note" in schema["ProvisionOut"]["properties"] and "note" not in schema["ProvisionOut"]["required"]
    assert set(schema["ProvisionNoteOut"]["required"]) == {"text", "model", "written_at"}
    assert {p["document"] for p in globex} == {"globex-privacy"} or {p["platform"] for p in globex} == {
        "globex"
    }
    retention = next(p for p in globex if p["provision"] == "data_retention")
    assert retention["present"] and retention["text"] == "We keep your data for 90 days."
