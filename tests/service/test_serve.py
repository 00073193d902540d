"""`policywatch serve` as a process: one leader per database, standby takeover when the leader dies,
and a clean stop on SIGTERM even in the middle of a crawl."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, update

from store.db import make_engine, transaction
from store.models import CrawlRun, Lease, Source, Version, utcnow
from store.versions import verify_all

pytestmark = pytest.mark.slow  # runs ``policywatch serve`` and its crawls in child processes


def wait_for(condition, seconds: float = 180.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def serve(**settings) -> subprocess.Popen:
    """`policywatch serve` in a child process; its log lines collect in ``process.lines``."""
    env = dict(os.environ) | {f"POLICYWATCH_{name.upper()}": str(value) for name, value in settings.items()}
    process = subprocess.Popen(
        [sys.executable, "-m", "policywatch", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    process.lines = []
    threading.Thread(target=lambda: process.lines.extend(process.stdout), daemon=True).start()
    return process


def stop(process: subprocess.Popen) -> str:
    """SIGTERM, then the whole log once it exited."""
    process.send_signal(signal.SIGTERM)
    return finish(process)


def finish(process: subprocess.Popen) -> str:
    """The whole log once the process exited."""
    process.wait(timeout=90)
    time.sleep(0.2)  # the reader thread drains the pipe
    return "".join(process.lines)


def leader_pid(engine) -> int | None:
    with transaction(engine) as session:
        lease = session.scalar(select(Lease).where(Lease.expires_at > utcnow()))
    return int(lease.holder.split(":")[1]) if lease else None


@pytest.fixture
def engine(migrated_url):
    engine = make_engine(migrated_url)
    yield engine
    engine.dispose()


def test_a_standby_takes_over_when_the_leader_dies_and_sigterm_releases_the_lease(engine):
    first = serve(leader_lease_seconds=9)  # renewed every 3 s
    try:
        assert wait_for(lambda: leader_pid(engine) == first.pid)
        second = serve(leader_lease_seconds=9)
        assert wait_for(
            lambda: any("standing by" in line and f":{first.pid}:" in line for line in second.lines)
        )
        assert leader_pid(engine) == first.pid
        first.kill()  # dies without releasing: the standby waits for the lease to expire
        first.wait()
        assert wait_for(lambda: leader_pid(engine) == second.pid)
        output = stop(second)
        assert second.returncode == 0, output
        assert leader_pid(engine) is None
        assert "stopped" in output
    finally:
        for process in (first, locals().get("second")):
            if process and process.poll() is None:
                process.kill()


class SlowPages:
    """A local site whose policy page takes a minute to answer: a crawl is surely running."""

    def __init__(self):
        self.requested = threading.Event()
        self.release = threading.Event()
        pages = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                if self.path == "/robots.txt":
                    self.send_error(404)
                    return
                pages.requested.set()
                pages.release.wait(60)
                body = b"<html><body><main><h1>Terms</h1><p>Late answer.</p></main></body></html>"
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/terms"

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def load_due_document(engine, tmp_path, url: str, schedule: str | None = None) -> None:
    """Load one document fetched from ``url`` through ``policywatch sources load`` and make it due now."""
    every = f"    schedule: {schedule}\n" if schedule else ""
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        f"platforms:\n- slug: acme\n  name: Acme\n  documents:\n  - slug: acme-terms\n"
        f"    title: Terms\n    type: Terms of Service\n{every}    url: {url}\n"
    )
    subprocess.run(
        [sys.executable, "-m", "policywatch", "sources", "load", str(sources)],
        check=True,
        capture_output=True,
    )
    with transaction(engine) as session:
        session.execute(update(Source).values(next_fetch_at=utcnow() - timedelta(minutes=1)))


def test_sigterm_during_a_crawl_lets_it_finish_its_page_then_stops_cleanly(engine, tmp_path):
    pages = SlowPages()
    load_due_document(engine, tmp_path, pages.url)
    process = serve(crawl_check_seconds=1, shutdown_grace_seconds=30, crawl_timeout=120)
    try:
        assert pages.requested.wait(240), "the scheduler did not start a crawl"
        children = subprocess.run(
            ["pgrep", "-P", str(process.pid)], capture_output=True, text=True
        ).stdout.split()
        assert children, "the crawl does not run in a child process"
        process.send_signal(signal.SIGTERM)
        time.sleep(1)
        pages.release.set()  # the page answers while the crawl is stopping
        output = finish(process)
    finally:
        if process.poll() is None:
            process.kill()
        pages.close()
    assert process.returncode == 0, output
    assert not any(os.path.exists(f"/proc/{pid}") for pid in children), "the crawl child outlived serve"
    with transaction(engine) as session:
        assert session.scalar(select(Lease)) is None
        assert [run.status for run in session.scalars(select(CrawlRun))] == ["finished"]
        assert [version.seq for version in session.scalars(select(Version))] == [1]
        assert verify_all(session) == (1, [])


def test_serve_runs_crawl_after_crawl_each_in_a_new_process(engine, tmp_path):
    pages = SlowPages()
    pages.release.set()  # answers at once
    load_due_document(engine, tmp_path, pages.url, schedule="1s")

    def finished_runs() -> int:
        with transaction(engine) as session:
            return len(session.scalars(select(CrawlRun).where(CrawlRun.status == "finished")).all())

    process = serve(crawl_check_seconds=1)
    try:
        # crawls run one after another: once a fourth has finished, the first three children have
        # exited and been logged (stopping right after the third could cut its exit line)
        assert wait_for(lambda: finished_runs() >= 4, 300), "fewer than four crawls ran"
        output = stop(process)
    finally:
        if process.poll() is None:
            process.kill()
        pages.close()
    assert process.returncode == 0, output
    crawled = [line for line in output.splitlines() if "policywatch crawl --due" in line]
    assert sum(line.endswith(": exit 0") for line in crawled) >= 3  # on PostgreSQL: by its worker
    with transaction(engine) as session:
        assert [v.seq for v in session.scalars(select(Version))] == [1]  # the page never changed
