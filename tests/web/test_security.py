"""Security: strict headers, raw snapshots only as sandboxed attachments, CSRF, rate limit, operator token."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from policywatch.runtime import Runtime
from policywatch.settings import get_settings
from policywatch.usecases.operator import OperatorActions
from web.app import create_app

TOKEN = "operator-secret-token"


def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/documents/acme-terms")
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


def test_urls_with_nul_characters_are_refused(client):
    for path in (
        "/api/documents?platform=%00",
        "/search?q=a%00b",
        "/documents/a%00b",
        "/feeds/documents/%00.atom",
    ):
        assert client.get(path).status_code == 400, path


def test_raw_snapshots_are_sandboxed_attachments(client, site):
    response = client.get(f"/snapshots/{site.hostile_snapshot}")
    assert response.status_code == 200 and b"<script>window.pwned" in response.content
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert response.headers["content-type"] == "application/octet-stream"
    assert client.get("/snapshots/" + "0" * 64).status_code == 404
    assert client.get("/snapshots/not-a-hash").status_code == 422


def test_forms_without_a_valid_csrf_token_are_refused(fresh_client):
    form = {"email": "someone@example.com", "platform": "acme"}
    assert fresh_client.post("/subscribe", data=form).status_code == 403
    assert fresh_client.post("/subscribe", data={**form, "csrf_token": "forged"}).status_code == 403
    page = fresh_client.get("/subscribe").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    other = TestClient(fresh_client.app)  # another browser: no matching cookie
    assert other.post("/subscribe", data={**form, "csrf_token": token}).status_code == 403
    assert fresh_client.post("/subscribe", data={**form, "csrf_token": token}).status_code == 200


def test_subscribing_is_rate_limited_per_address(fresh_engine, monkeypatch):
    monkeypatch.setenv("POLICYWATCH_SUBSCRIBE_RATE_LIMIT", "2")

    get_settings.cache_clear()
    with TestClient(create_app(get_settings(), fresh_engine)) as browser:
        token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/subscribe").text).group(1)
        codes = [
            browser.post(
                "/subscribe", data={"email": f"user{i}@example.com", "platform": "acme", "csrf_token": token}
            ).status_code
            for i in range(3)
        ]
    assert codes == [200, 200, 429]


def test_operator_routes_are_absent_without_a_token(client):
    assert client.get("/api/operator/subscribers").status_code == 404
    assert client.post("/api/operator/crawl?document=acme-terms").status_code == 404


@pytest.fixture
def operator_client(fresh_engine, monkeypatch):
    monkeypatch.setenv("POLICYWATCH_OPERATOR_TOKEN", TOKEN)

    get_settings.cache_clear()
    settings = get_settings()
    actions = OperatorActions(Runtime(settings, fresh_engine))
    with TestClient(create_app(settings, fresh_engine, operator_actions=actions)) as client:
        yield client


def test_operator_routes_need_the_bearer_token(operator_client):
    assert operator_client.get("/api/operator/subscribers").status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert operator_client.get("/api/operator/subscribers", headers=wrong).status_code == 401


@pytest.mark.slow
def test_operator_manages_subscribers_and_starts_crawls(operator_client):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    token = re.search(r'name="csrf_token" value="([^"]+)"', operator_client.get("/subscribe").text).group(1)
    operator_client.post(
        "/subscribe", data={"email": "ops@example.com", "platform": "acme", "csrf_token": token}
    )
    listed = operator_client.get("/api/operator/subscribers", headers=auth).json()
    assert [(s["email"], s["status"]) for s in listed] == [("ops@example.com", "pending")]
    assert (
        operator_client.post(
            "/api/operator/subscribers/confirm?email=ops@example.com", headers=auth
        ).status_code
        == 204
    )
    assert operator_client.get("/api/operator/subscribers", headers=auth).json()[0]["status"] == "confirmed"
    assert (
        operator_client.delete("/api/operator/subscribers?email=ops@example.com", headers=auth).status_code
        == 204
    )
    assert operator_client.get("/api/operator/subscribers", headers=auth).json() == []
    assert (
        operator_client.delete("/api/operator/subscribers?email=ops@example.com", headers=auth).status_code
        == 404
    )
    assert operator_client.post("/api/operator/crawl?document=nope", headers=auth).status_code == 404
    started = operator_client.post("/api/operator/crawl?document=acme-terms", headers=auth)
    assert started.status_code == 202 and started.json()["command"] == [
        "policywatch",
        "crawl",
        "--source",
        "acme-terms",
    ]
    for job in operator_client.app.state.jobs:
        job.wait(timeout=60)
