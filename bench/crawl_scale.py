"""Crawl scale: pages per second and peak memory of `policywatch crawl --all` at 1,000 and 10,000 pages.

    .venv/bin/python bench/crawl_scale.py [--pages 1000 10000]

Serves N distinct pages from a local server on 127.0.0.1, made from the bundled real policy pages
(policywatch/demo/replay, Open Terms Archive, ODC-By 1.0): page i is one of them with the word "the"
made "the-i" throughout, so every page has its own bytes and its own text. For each N, on a fresh
database: loads N documents, then times four crawls of all of them, each in its own process:
  first      every page new: extracted, converted, stored, a first version each;
  volatile   every page with a new nonce in <head>: same fingerprint, neither parsed nor stored;
  outside    every page with a visible notice after its text: parsed and stored, not converted;
  304        every page answers 304 Not Modified to the conditional request.
Prints pages/s, CPU ms per page and the crawl process's peak RSS; bench/README.md keeps the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from policywatch.demo.bundle import Replay  # noqa: E402


class Pages:
    """The N generated pages, made on request (N copies of 300 KB pages would not fit in memory)."""

    def __init__(self, count: int):
        replay = Replay()
        latest = [
            (doc, replay.page(doc, len(doc.blobs) - 1)[1])
            for doc in replay.documents
            if doc.blobs[-1] and doc.content_type.startswith("text/html")
        ]
        self.templates = [(doc, body) for doc, body in latest if _extracts(doc, body)]
        self.count, self.nonce, self.notice = count, "0", ""

    def document(self, i: int):
        return self.templates[i % len(self.templates)][0]

    def body(self, i: int) -> bytes:
        template = self.templates[i % len(self.templates)][1]
        page = template.replace(b" the ", b" the-%d " % i)
        if self.notice:
            page = page.replace(b"</body>", b"<div>%s</div></body>" % self.notice.encode(), 1)
        return page.replace(b"<head>", b'<head><meta name="nonce" content="%s">' % self.nonce.encode(), 1)


def _extracts(doc, body: bytes) -> bool:
    """Whether the page is a document under its declaration (some bundled pages are error pages)."""
    from crawler.extract.extraction import ExtractionError, select_region

    try:
        select_region(body, url=doc.url, content_type=doc.content_type, select=doc.select, remove=doc.remove)
    except ExtractionError:
        return False
    return True


def serve(pages: Pages) -> ThreadingHTTPServer:
    """A loopback server answering /page/<i> with ETag and 304s."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 (http.server's naming)
            if not self.path.startswith("/page/"):
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = pages.body(int(self.path.rsplit("/", 1)[1]))
            tag = f'"{hashlib.sha1(body).hexdigest()}"'
            if self.headers.get("If-None-Match") == tag:
                self.send_response(304)
                self.send_header("ETag", tag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", tag)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def sources_file(pages: Pages, base: str, path: Path) -> None:
    """A sources file declaring every page as a document of one of ten platforms."""
    platforms = {}
    for i in range(pages.count):
        doc = pages.document(i)
        platform = platforms.setdefault(
            i % 10, {"slug": f"scale-{i % 10}", "name": f"Scale {i % 10}", "documents": []}
        )
        entry = {"slug": f"page-{i}", "title": doc.title, "type": doc.terms_type, "url": f"{base}/page/{i}"}
        entry.update({key: getattr(doc, key) for key in ("select", "remove") if getattr(doc, key)})
        platform["documents"].append(entry)
    path.write_text(json.dumps({"platforms": list(platforms.values())}))


def run(env: dict, *args: str) -> tuple[float, float, int]:
    """Run ``policywatch ARGS``; its wall seconds, CPU seconds and peak RSS in KB."""
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "policywatch", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"policywatch {' '.join(args)} failed: {process.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def measure(count: int) -> None:
    """Load ``count`` pages and time the four crawls."""
    pages = Pages(count)
    server = serve(pages)
    work = Path(tempfile.mkdtemp(prefix="pw_scale_"))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "POLICYWATCH_DATA_DIR": str(work),
        "POLICYWATCH_CRAWL_DELAY": "0",
        "POLICYWATCH_DATABASE_URL": f"sqlite:///{work / 'scale.db'}",
    }
    sources_file(pages, f"http://127.0.0.1:{server.server_address[1]}", work / "sources.json")
    run(env, "db", "upgrade")
    run(env, "sources", "load", str(work / "sources.json"))
    for name, nonce, notice in (
        ("first", "0", ""),
        ("volatile", "1", ""),
        ("outside", "1", "Notice"),
        ("304", "1", "Notice"),
    ):
        pages.nonce, pages.notice = nonce, notice
        wall, cpu, rss = run(env, "crawl", "--all")
        print(
            f"{count:>6} pages  {name:<9} {count / wall:7.1f} pages/s  "
            f"{cpu / count * 1000:6.1f} ms CPU/page  peak RSS {rss / 1024:6.0f} MB  "
            f"({wall:.1f} s, {_outcomes(work / 'scale.db')})",
            flush=True,
        )
    server.shutdown()


def _outcomes(database: Path) -> str:
    """The last crawl's outcome counts, from its crawl run."""
    with sqlite3.connect(database) as connection:
        stats = json.loads(
            connection.execute("SELECT stats FROM crawl_run ORDER BY id DESC LIMIT 1").fetchone()[0]
        )
    return ", ".join(
        f"{stats[key]} {key}" for key in ("changed", "unchanged", "not_modified", "error") if stats.get(key)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    for count in args.pages:
        measure(count)


if __name__ == "__main__":
    main()
