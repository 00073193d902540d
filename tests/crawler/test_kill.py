"""A crawl killed with SIGKILL at random moments, again and again, leaves no half-written version:
the chains verify, no version repeats its parent, and the next crawl completes the history."""

from __future__ import annotations

import random
import signal
import time

import pytest

from tests.crawler.conftest import document, sources_yaml

pytestmark = pytest.mark.slow  # crawls run in a child process

DOCUMENTS = [f"acme-doc-{n}" for n in range(24)]


def policy(slug: str, edition: int) -> str:
    return (
        f"<h1>{slug} policy</h1><p>Edition {edition}: you may not use the service to build weapons, "
        f"and we keep your chats for {30 + edition} days before deleting them for good.</p>"
        + "".join(f"<p>Clause {n} of {slug} applies in every region where we offer it.</p>" for n in range(8))
    )


def test_crawls_killed_at_random_moments_leave_whole_versions_and_the_next_crawl_completes(
    site, load, crawl, db, cli
):
    rounds = random.Random(20261204)
    site.delay = 0.3  # pages arrive over several of the store's one-second commits
    for slug in DOCUMENTS:
        site.html(f"/{slug}", policy(slug, 0))
    load(sources_yaml(*(document(slug, f"{site.url}/{slug}", "select: [main]") for slug in DOCUMENTS)))
    crawl()

    for edition in range(1, 6):  # each crawl killed after a random number of pages were served
        for slug in DOCUMENTS:
            site.html(f"/{slug}", policy(slug, edition))
        served, kill_after = len(site.requests), rounds.randint(1, len(DOCUMENTS) - 1)
        running = crawl(background=True)
        deadline = time.monotonic() + 60
        while len(site.requests) - served < kill_after and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rounds.uniform(0, 0.2))
        running.send_signal(signal.SIGKILL)
        running.wait(timeout=30)
    crawl()

    assert "every chain intact" in cli("verify").output
    for slug in DOCUMENTS:
        versions = db.versions(slug)
        assert all(older != newer for older, newer in zip(versions, versions[1:])), slug
        assert "Edition 5:" in versions[-1] and "Edition 0:" in versions[0], slug
        assert db.events(slug)[-1].outcome in ("changed", "unchanged"), slug
