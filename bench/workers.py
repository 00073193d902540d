"""Workers benchmark: one crawl round of PAGES pages on HOSTS local hosts (one server per host on
127.0.0.1, each counting its concurrent connections), queued as `serve` queues it (one crawl job
per host) and run by 1, 2, 4… `policywatch worker` processes against one PostgreSQL.

    .venv/bin/python bench/workers.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres \
        [--pages 2000] [--hosts 20] [--workers 1 2 4] [--kill-one-after SECONDS]

For each worker count, on a fresh database: the wall time from the workers' start to the last crawl
job's end, whether each page was fetched exactly once, and the most connections one host had at once
(never above POLICYWATCH_CRAWL_CONCURRENCY_PER_HOST, set here to 2, with a 0.05 s crawl delay).
With ``--kill-one-after``, one worker is killed (SIGKILL) that many seconds into each round: the
others retry its job once its heartbeat is stale, and the round reports whether every page was still
recorded exactly once (a page in flight at the kill may be fetched twice, never recorded twice).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SETTINGS = {"POLICYWATCH_CRAWL_DELAY": "0.05", "POLICYWATCH_CRAWL_CONCURRENCY_PER_HOST": "2"}


class Host:
    """One local server: a policy page per path, every request and the peak of concurrent ones."""

    def __init__(self):
        self.fetched: Counter[str] = Counter()
        self.in_flight = self.peak = 0
        self.lock = threading.Lock()
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                with host.lock:
                    host.in_flight += 1
                    host.peak = max(host.peak, host.in_flight)
                    host.fetched[self.path] += 1
                try:
                    body = f"<html><body><main><h1>{self.path}</h1><p>No weapons.</p></main></body></html>"
                    status = 404 if self.path == "/robots.txt" else 200
                    self.send_response(status)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body.encode())
                finally:
                    with host.lock:
                        host.in_flight -= 1

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", required=True, help="a PostgreSQL server URL (a database is made per run)"
    )
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--kill-one-after", type=float, help="SIGKILL one worker this many seconds in")
    args = parser.parse_args()
    results = [
        _round(args.database_url, args.pages, args.hosts, count, args.kill_one_after)
        for count in args.workers
    ]
    print(json.dumps(results, indent=2))


def _round(server_url: str, pages: int, host_count: int, workers: int, kill_after: float | None) -> dict:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
    name = f"pw_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    hosts = [Host() for _ in range(host_count)]
    folder = Path(tempfile.mkdtemp(prefix="pw-workers-"))
    env = {**os.environ, **SETTINGS, "POLICYWATCH_DATABASE_URL": url, "POLICYWATCH_DATA_DIR": str(folder)}
    try:
        _prepare(url, env, folder, hosts, pages)
        processes, started = [_worker(env, folder, n) for n in range(workers)], time.monotonic()
        killer = threading.Timer(kill_after, processes[0].kill) if kill_after is not None else None
        if killer is not None:
            killer.start()
        _wait_for_crawls(url)
        seconds = time.monotonic() - started
        recorded = _versions_per_document(url)
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=120)
    finally:
        for host in hosts:
            host.server.shutdown()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    fetched = Counter()
    for host in hosts:
        fetched.update(count for path, count in host.fetched.items() if path != "/robots.txt")
    return {
        "workers": workers,
        "pages": pages,
        "hosts": host_count,
        "seconds": round(seconds, 1),
        "each_page_once": dict(fetched) == {1: pages},
        "killed_one_worker_after": kill_after,
        "each_page_recorded_once": recorded == {1: pages},
        "most_connections_to_one_host": max(host.peak for host in hosts),
    }


def _prepare(url: str, env: dict, folder: Path, hosts: list[Host], pages: int) -> None:
    """Migrate, load PAGES documents spread over the hosts, make them all due, queue the round."""
    lines = ["platforms:", "  - slug: bench", "    name: Bench", "    documents:"]
    for n in range(pages):
        host = hosts[n % len(hosts)]
        lines += [
            f"      - slug: page-{n}",
            f"        title: Page {n}",
            "        type: Terms of Service",
            f"        url: {host.url}/page-{n}",
            "        select: [main]",
        ]
    (folder / "sources.yaml").write_text("\n".join(lines) + "\n")
    policywatch = [sys.executable, "-m", "policywatch"]
    subprocess.run([*policywatch, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([*policywatch, "sources", "load", str(folder / "sources.yaml")], env=env, check=True)
    subprocess.run([sys.executable, "-c", QUEUE_ROUND], env=env, check=True, cwd=ROOT)


QUEUE_ROUND = """
from sqlalchemy import update
from policywatch.runtime import Runtime
from policywatch.service import jobs, queue
from policywatch.settings import get_settings
from store.db import transaction
from store.models import Source, utcnow

runtime = Runtime.from_settings(get_settings())
with transaction(runtime.engine) as session:
    session.execute(update(Source).values(next_fetch_at=utcnow()))
    batches = jobs.due_batches(session, utcnow())
app = queue.make_app(runtime.settings).open()
print(queue.enqueue_crawls(app, batches), "crawl jobs queued")
app.close()
"""


def _worker(env: dict, folder: Path, n: int) -> subprocess.Popen:
    log = open(folder / f"worker-{n}.log", "w")  # noqa: SIM115 (the child writes it)
    return subprocess.Popen([sys.executable, "-m", "policywatch", "worker"], env=env, stdout=log, stderr=log)


def _versions_per_document(url: str) -> dict[int, int]:
    """How many documents have 1, 2… versions."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT n, count(*) FROM (SELECT count(*) AS n FROM version GROUP BY document_id) AS c "
                "GROUP BY n"
            )
        ).all()
    engine.dispose()
    return {n: count for n, count in rows}


def _wait_for_crawls(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    query = text(
        "SELECT count(*) FROM procrastinate_jobs "
        "WHERE task_name LIKE '%crawl_batch' AND status IN ('todo', 'doing')"
    )
    try:
        while True:
            with engine.connect() as connection:
                if connection.scalar(query) == 0:
                    return
            time.sleep(0.2)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
