"""The subscribe rate limit of a real ``policywatch web``: X-Forwarded-For believed only from the
trusted proxies, and one count shared by every worker process."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.web.serving import free_port, start_web, wait_until_healthy

pytestmark = pytest.mark.slow  # runs the web server in child processes


@pytest.fixture
def web(fresh_engine, monkeypatch) -> Iterator:
    """Start ``policywatch web ARGS`` on the test history, allowing two subscribe requests per address."""
    monkeypatch.setenv("POLICYWATCH_SUBSCRIBE_RATE_LIMIT", "2")
    started = []

    def start(*args: str) -> str:
        port = free_port()
        started.append(start_web(port, *args))
        base = f"http://127.0.0.1:{port}"
        wait_until_healthy(base)
        return base

    yield start
    for process in started:
        process.kill()
        process.wait(timeout=30)


def subscribe_codes(base: str, forwarded_for: list[str | None]) -> list[int]:
    """The status of one subscribe form per entry, each on a new connection, sent with that
    X-Forwarded-For (or none)."""
    with httpx.Client(base_url=base, headers={"Connection": "close"}, timeout=30) as browser:
        token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/subscribe").text).group(1)
        return [
            browser.post(
                "/subscribe",
                data={"email": f"user{i}@example.com", "platform": "acme", "csrf_token": token},
                headers={"X-Forwarded-For": address} if address else {},
            ).status_code
            for i, address in enumerate(forwarded_for)
        ]


def test_a_forged_forwarded_for_does_not_dodge_the_limit(web):
    base = web()

    assert subscribe_codes(base, ["203.0.113.1", "203.0.113.2", "203.0.113.3"]) == [200, 200, 429]


def test_a_trusted_proxy_forwards_the_client_address(web, monkeypatch):
    monkeypatch.setenv("POLICYWATCH_TRUSTED_PROXIES", "127.0.0.1, ::1")
    base = web()

    others = subscribe_codes(base, ["203.0.113.1", "203.0.113.2", "203.0.113.3"])
    same = subscribe_codes(base, ["198.51.100.7"] * 3)

    assert (others, same) == ([200, 200, 200], [200, 200, 429])


def test_web_workers_share_one_count(web):
    base = web("--workers", "2")

    assert subscribe_codes(base, [None] * 4) == [200, 200, 429, 429]
