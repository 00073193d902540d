"""Crawl fixtures: a programmable HTTP server on 127.0.0.1, sources files, crawls in a subprocess
(Twisted's reactor cannot restart within one process) and a look into the database."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from store.db import make_engine, transaction
from store.models import Document, FetchEvent, Source, Version

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Page:
    """What the server answers on one path; ``etag`` enables conditional GET."""

    body: bytes = b""
    status: int = 200
    headers: dict = field(default_factory=dict)
    etag: str | None = None
    content_type: str = "text/html; charset=utf-8"


class Site:
    """A local web site whose pages tests change between crawls; it logs every request."""

    def __init__(self, host: str = "127.0.0.1"):
        self.pages: dict[str, Page | list[Page]] = {}
        self.requests: list[tuple[float, str, dict]] = []
        #: seconds every answer takes; requests in flight when each arrived; when each was answered
        self.delay, self.in_flight, self.arrivals, self.answered = 0.0, 0, [], []
        self.lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"site": self})
        self.server = ThreadingHTTPServer((host, 0), handler)
        self.url = f"http://{host}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def html(
        self, path: str, main: str, *, nav: str = "Home", title: str = "Policy", head: str = "", **kwargs
    ) -> None:
        """Serve an HTML page whose <main> holds ``main``."""
        body = (
            f"<html><head><title>{title}</title>{head}</head>"
            f"<body><nav>{nav}</nav><main>{main}</main></body></html>"
        )
        self.pages[path] = Page(body.encode(), **kwargs)

    def hits(self, path: str) -> list[tuple[float, dict]]:
        """When ``path`` was requested, and with which headers."""
        return [(moment, headers) for moment, p, headers in self.requests if p == path]


class _Handler(BaseHTTPRequestHandler):
    site: Site

    def do_GET(self):  # noqa: N802 (http.server's naming)
        site = self.site
        site.requests.append((time.monotonic(), self.path, dict(self.headers)))
        with site.lock:
            site.in_flight += 1
            site.arrivals.append(site.in_flight)
        try:
            time.sleep(site.delay)
            self.answer()
        finally:
            with site.lock:
                site.in_flight -= 1
                site.answered.append((time.monotonic(), self.path))

    def answer(self):
        page = self.site.pages.get(self.path.split("?")[0])
        if isinstance(page, list):  # a sequence of answers, the last one repeated
            page = page.pop(0) if len(page) > 1 else page[0]
        if page is None:
            page = Page(b"<html><head><title>Not found</title></head><body>Page not found</body></html>", 404)
        if page.etag and self.headers.get("If-None-Match") == page.etag:
            self.send_response(304)
            self.send_header("ETag", page.etag)
            self.end_headers()
            return
        self.send_response(page.status)
        self.send_header("Content-Type", page.content_type)
        self.send_header("Content-Length", str(len(page.body)))
        if page.etag:
            self.send_header("ETag", page.etag)
        for name, value in page.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(page.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def site():
    site = Site()
    yield site
    site.server.shutdown()
    site.server.server_close()


@pytest.fixture
def internal_site():
    """A site on 127.0.0.2: loopback, but outside the networks the tests allow (127.0.0.1/32)."""
    site = Site("127.0.0.2")
    yield site
    site.server.shutdown()
    site.server.server_close()


@pytest.fixture
def cli(migrated_url):
    """Run a ``policywatch`` command in this process (commands that do not crawl)."""
    from policywatch.cli import cli as group

    def run(*args: str, ok: bool = True, env: dict | None = None):
        from policywatch.settings import get_settings

        get_settings.cache_clear()
        result = CliRunner().invoke(group, list(args), catch_exceptions=False, env=env)
        get_settings.cache_clear()
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run


@pytest.fixture
def load(cli, tmp_path):
    """Load a sources file given as YAML text."""

    def run(text: str):
        path = tmp_path / "sources.yaml"
        path.write_text(text)
        return cli("sources", "load", str(path))

    return run


@pytest.fixture
def crawl(migrated_url, tmp_path):
    """Run ``policywatch crawl ARGS`` in a subprocess on the test database; extra env via ``env=``;
    ``max_file_bytes`` caps the size of every file it writes (a disk that fills up)."""

    def run(
        *args: str, env: dict | None = None, background: bool = False, ok: bool = True, max_file_bytes=None
    ):
        environment = {
            **os.environ,
            "POLICYWATCH_DATABASE_URL": migrated_url,
            "POLICYWATCH_CRAWL_DELAY": "0",
            "POLICYWATCH_DATA_DIR": str(tmp_path / "data"),
            "PYTHONPATH": str(ROOT),
            **(env or {}),
        }
        command = [sys.executable, "-m", "policywatch", "crawl", *(args or ["--all"])]
        if background:
            return subprocess.Popen(
                command, env=environment, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        limit = (
            (lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes,) * 2))
            if max_file_bytes
            else None
        )
        result = subprocess.run(
            command,
            env=environment,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=limit if max_file_bytes else None,
        )
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    return run


class Db:
    """Read what crawls recorded."""

    def __init__(self, url: str):
        self.engine = make_engine(url)

    def versions(self, slug: str) -> list[str]:
        with transaction(self.engine) as session:
            return list(
                session.scalars(
                    select(Version.text).join(Document).where(Document.slug == slug).order_by(Version.seq)
                )
            )

    def events(self, slug: str, position: int = 0) -> list[FetchEvent]:
        with transaction(self.engine) as session:
            return list(
                session.scalars(
                    select(FetchEvent)
                    .join(Source)
                    .join(Document)
                    .where(Document.slug == slug, Source.position == position)
                    .order_by(FetchEvent.id)
                )
            )

    def source(self, slug: str, position: int = 0) -> Source:
        with transaction(self.engine) as session:
            return session.scalars(
                select(Source).join(Document).where(Document.slug == slug, Source.position == position)
            ).one()


@pytest.fixture
def db(migrated_url):
    db = Db(migrated_url)
    yield db
    db.engine.dispose()


def sources_yaml(*documents: str) -> str:
    """A sources file of platform ``acme`` with the given document entries (YAML snippets)."""
    body = "".join(
        "\n".join("      " + line for line in doc.strip().splitlines()) + "\n" for doc in documents
    )
    return f"platforms:\n  - slug: acme\n    name: Acme\n    documents:\n{body}"


def document(slug: str, url: str, *extra: str) -> str:
    """One document entry: ``- slug: …`` with ``url`` and extra lines (``select: [main]``…)."""
    return "\n".join(
        [
            f"- slug: {slug}",
            f"  title: {slug}",
            "  type: Terms of Service",
            f"  url: {url}",
            *(f"  {line}" for line in extra),
        ]
    )
