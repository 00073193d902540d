"""A tiny threaded HTTP server on 127.0.0.1 that serves the replay (policy pages and the sample
newsroom) at its current tick, with ETag / Last-Modified and 304s like a well-behaved web server."""

from __future__ import annotations

import email.utils
import hashlib
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from policywatch.demo.bundle import Replay

HOST = "127.0.0.1"  # loopback only, by design


class ReplayServer:
    """Serves ``replay`` on a free port of 127.0.0.1 in a background thread; ``tick`` picks the crawl
    being replayed. Use as a context manager."""

    def __init__(self, replay: Replay):
        self.replay = replay
        self.tick = 0
        self.requests = 0
        self._by_path = {doc.path: doc for doc in replay.documents}
        #: the day of each replayed crawl, from which the sample posts are dated
        self.days = [replay.moment(tick).date() for tick in range(len(replay.ticks))]
        self._http = ThreadingHTTPServer((HOST, 0), _handler(self))
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, name="replay-server", daemon=True)

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://{HOST}:{self._http.server_address[1]}"

    def url(self, document) -> str:
        """The loopback URL a replay document is served at."""
        return self.base_url + document.path

    @property
    def listing_url(self) -> str:
        """The loopback URL of the sample newsroom's listing."""
        return self.base_url + self.replay.newsroom.path

    def answer(
        self, path: str, if_none_match: str | None, if_modified_since: str | None
    ) -> tuple[int, dict, bytes]:
        """(status, headers, body) for a GET of ``path`` at the current tick."""
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n"
        sample = self.replay.newsroom.page(path, self.tick, self.days)
        if sample is not None:
            return _sample_answer(sample, if_none_match)
        document = self._by_path.get(path)
        page = self.replay.page(document, self.tick) if document else None
        if document is None or page is None:
            return 404, {"Content-Type": "text/plain"}, b"not found\n"
        sha, body = page
        modified = self._first_tick_serving(document, sha)
        headers = {
            "ETag": f'"{sha[:32]}"',
            "Last-Modified": email.utils.format_datetime(modified, usegmt=True),
            "Content-Type": document.content_type,
        }
        if if_none_match == headers["ETag"] or (
            if_none_match is None and if_modified_since and _not_after(modified, if_modified_since)
        ):
            return 304, headers, b""
        return 200, headers, body

    def _first_tick_serving(self, document, sha: str) -> datetime:
        tick = self.tick
        while tick > 0 and document.blobs[tick - 1] == sha:
            tick -= 1
        return self.replay.moment(tick)

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._http.shutdown()
        self._http.server_close()


def _sample_answer(body: bytes, if_none_match: str | None) -> tuple[int, dict, bytes]:
    """A sample newsroom page, or 304 when the client has it (by its ETag)."""
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Content-Type": "text/html; charset=utf-8"}
    return (304, headers, b"") if if_none_match == headers["ETag"] else (200, headers, body)


def _not_after(modified: datetime, header: str) -> bool:
    try:
        return modified <= email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False


def _handler(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            server.requests += 1
            status, headers, body = server.answer(
                self.path, self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
            )
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            """Quiet: the demo prints its own progress."""

    return Handler
