"""Fault injection: every way a vendor's server can fail or mislead, served from 127.0.0.1.

Each fault is a document that first serves its good policy (one version), then the fault: the
fetch is recorded as a failure with its kind, no version and no change is made, and when the good
page comes back that is no change either. One thing that looks like a fault is news instead: a
policy's URL that now serves another page (a vendor replacing a policy by a discontinuation notice).
"""

from __future__ import annotations

import gzip
import socket
import struct
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from store.db import transaction
from store.models import Change, Document
from tests.crawler.conftest import document, sources_yaml

pytestmark = pytest.mark.slow  # crawls run in a child process

POLICY = "<h1>Acceptable Use Policy</h1>" + "".join(
    f"<h2>Rule {n}</h2><p>You may not use the service to {verb}, and we may suspend accounts that do so "
    f"after reviewing the activity reported to us under rule {n}.</p>"
    for n, verb in enumerate(
        ("build weapons", "deceive voters", "track people", "harass anyone", "evade export controls"), 1
    )
)
ARTICLE = (
    "<h1>Five recipes for a rainy weekend</h1>"
    "<p>When the weather turns, we like to cook something slow and warm that the whole family can share.</p>"
    "<p>Our first recipe is a pumpkin soup: roast the pumpkin in the oven, then blend it with stock and a "
    "little cream until it is smooth.</p>"
    "<p>For the second, slice potatoes thinly, layer them in a dish with garlic and milk, and bake them "
    "for an hour.</p>"
    "<p>If you prefer something sweet, apples baked with cinnamon and butter are ready in thirty minutes and "
    "keep well for the next day.</p>"
    "<p>We hope these ideas make your weekend a little brighter, and we would love to hear which one you try "
    "first.</p>"
)
Answer = Callable[[BaseHTTPRequestHandler], None]


def page(body: str, title: str = "Acceptable Use Policy", status: int = 200, **headers: str) -> Answer:
    html = f"<html><head><title>{title}</title></head><body><main>{body}</main></body></html>"
    return raw(html.encode(), status, **{"Content-Type": "text/html; charset=utf-8", **headers})


def raw(body: bytes, status: int = 200, **headers: str) -> Answer:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            handler.send_header(name.replace("_", "-"), value)
        handler.end_headers()
        handler.wfile.write(body)

    return answer


def slow(seconds: float) -> Answer:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        page(POLICY)(handler)

    return answer


def cut(reset: bool) -> Answer:
    """Headers promising a whole policy, half of it, then a reset (RST) or a clean close."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        body = f"<html><body><main>{POLICY}</main></body></html>".encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body[: len(body) // 2])
        handler.wfile.flush()
        if reset:
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.close_connection = True
        handler.connection.close()

    return answer


def redirect(location: str) -> Answer:
    return raw(b"", 302, Location=location)


class FaultSite:
    """A local site whose every path answers as its current ``Answer`` says."""

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                site.answers.get(self.path.split("?")[0], raw(b"not found", 404))(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def bomb() -> bytes:
    """A gzip body of a few kilobytes that inflates far beyond the size cap."""
    return gzip.compress(b"<html><body>" + b" " * 50_000_000 + b"</body></html>", compresslevel=9)


#: fault name -> (the answer that replaces the good page, the failure kind recorded)
FAULTS: dict[str, tuple[Callable[[str], Answer], str]] = {
    "server-error": (lambda url: raw(b"<h1>Internal Server Error</h1>", 500), "http_status"),
    "rate-limited": (lambda url: raw(b"slow down", 429, Retry_After="1"), "http_status"),
    "timeout": (lambda url: slow(6), "network"),
    "reset-mid-body": (lambda url: cut(reset=True), "network"),
    "truncated-body": (lambda url: cut(reset=False), "network"),
    "empty-200": (lambda url: raw(b"", 200, Content_Type="text/html"), "error_page"),
    "challenge-200": (
        lambda url: page("<p>Checking your browser before accessing the site.</p>", title="Just a moment..."),
        "bot_challenge",
    ),
    "challenge-403": (
        lambda url: page("<p>Checking your browser before accessing the site.</p>", "Just a moment...", 403),
        "http_status",
    ),
    "error-page-200": (
        lambda url: page(
            "<h1>Page not found</h1><p>Sorry, we could not find that page.</p>", "Page not found"
        ),
        "error_page",
    ),
    "login-redirect": (lambda url: redirect(f"{url}/login?next=/policy"), "login_wall"),
    "redirect-loop": (lambda url: redirect(f"{url}/loop-b"), "network"),
    "selector-gone": (lambda url: page(f"<div class='redesign'>{POLICY}</div>".replace("<h1>", "<h3>")), ""),
    "too-large": (lambda url: page(POLICY + "<p>" + "x" * 300_000 + "</p>"), "too_large"),
    "compression-bomb": (
        lambda url: raw(bomb(), 200, Content_Type="text/html", Content_Encoding="gzip"),
        "too_large",
    ),
    "lost-most-text": (lambda url: page("<h1>Acceptable Use Policy</h1><p>See our terms.</p>"), "shrank"),
    "not-html": (lambda url: raw(bytes(range(256)) * 40, 200, Content_Type="image/png"), "not_a_document"),
}
SELECTED = {"selector-gone": "select: [main > h1, main > h2, main > p]"}


@pytest.fixture
def fault_site():
    site = FaultSite()
    yield site
    site.close()


def changes_of(engine, slug: str) -> int:
    with transaction(engine) as session:
        return session.scalar(
            select(func.count()).select_from(Change).join(Document).where(Document.slug == slug)
        )


def test_every_fault_is_a_failure_with_its_kind_and_the_good_page_back_is_no_change(
    fault_site, load, crawl, db
):
    url = fault_site.url
    for name in FAULTS:
        fault_site.answers[f"/{name}"] = page(POLICY)
    fault_site.answers["/loop-b"] = redirect(f"{url}/redirect-loop")
    load(sources_yaml(*(document(name, f"{url}/{name}", SELECTED.get(name, "")) for name in FAULTS)))
    env = {
        "POLICYWATCH_CRAWL_TIMEOUT": "2",
        "POLICYWATCH_CRAWL_RETRIES": "1",
        "POLICYWATCH_CRAWL_MAX_BYTES": "200000",
    }
    crawl(env=env)
    assert all(len(db.versions(name)) == 1 for name in FAULTS)

    for name, (answer, _) in FAULTS.items():
        fault_site.answers[f"/{name}"] = answer(url)
    crawl(env=env)
    recorded = {name: db.events(name)[-1] for name in FAULTS}
    kinds = {name: event.failure_kind for name, event in recorded.items()}
    expected = {name: kind or "empty_selection" for name, (_, kind) in FAULTS.items()}
    assert kinds == expected, {
        name: recorded[name].reason for name in FAULTS if kinds[name] != expected[name]
    }
    for name, event in recorded.items():
        assert event.outcome == "error" and event.reason, name
        assert len(db.versions(name)) == 1 and changes_of(db.engine, name) == 0, name

    for name in FAULTS:
        fault_site.answers[f"/{name}"] = page(POLICY)
    crawl(env=env)
    for name in FAULTS:
        assert db.events(name)[-1].outcome in ("unchanged", "not_modified"), (
            name,
            db.events(name)[-1].reason,
        )
        assert len(db.versions(name)) == 1 and changes_of(db.engine, name) == 0, name


NATURAL_POLICY = (
    "<h1>Acceptable Use Policy</h1>"
    "<p>You may not use our services to develop weapons, to deceive people about who they are talking to, "
    "or to track a person without their consent.</p>"
    "<p>We review the accounts that are reported to us, and we may suspend an account while the review is "
    "in progress if the activity puts someone at risk.</p>"
    "<p>If you build an application with our models, you are responsible for the way it is used and for "
    "telling your users which of these rules apply to them.</p>"
    "<p>We will update this policy from time to time and tell you by email when a change affects what you "
    "are allowed to do with the service.</p>"
)


def test_another_page_served_at_a_policy_url_is_news_not_a_fault(fault_site, load, crawl, db):
    fault_site.answers["/policy"] = page(NATURAL_POLICY)
    load(sources_yaml(document("acme-policy", f"{fault_site.url}/policy")))
    crawl()
    fault_site.answers["/policy"] = page(ARTICLE, title="Five recipes for a rainy weekend")
    crawl()

    assert db.events("acme-policy")[-1].outcome == "changed"
    assert "Five recipes" in db.versions("acme-policy")[-1]
    with transaction(db.engine) as session:
        (significance,) = session.scalars(select(Change.significance).join(Document)).all()
    assert significance == "substantive"
