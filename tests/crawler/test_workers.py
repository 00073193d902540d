"""Workers on the PostgreSQL job queue share the crawl: each page is fetched once, a host is crawled
by one job at a time across workers, and a worker killed mid-job has its job finished by another
without any version recorded twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from sqlalchemy import create_engine, make_url, text, update

from policywatch.runtime import Runtime
from policywatch.service import jobs, queue
from policywatch.settings import get_settings
from store.db import make_engine, transaction
from store.models import Source, utcnow
from tests.crawler.conftest import ROOT, Site, document, sources_yaml
from tests.web.serving import free_port

pytestmark = pytest.mark.slow  # workers and their crawls run in child processes


def policy(slug: str) -> str:
    return f"<h1>{slug}</h1><p>You may not use the service of {slug} to build weapons.</p>"


@pytest.fixture
def hosts():
    """Two local web sites: two hosts (one port each) whose pages answer after 0.3 s."""
    sites = [Site(), Site()]
    for site in sites:
        site.delay = 0.3
    yield sites
    for site in sites:
        site.server.shutdown()
        site.server.server_close()


@pytest.fixture
def pg_url(migrated_url):
    if not migrated_url.startswith("postgresql"):
        pytest.skip("the job queue needs PostgreSQL (set POLICYWATCH_TEST_DATABASE_URL)")
    return migrated_url


@pytest.fixture
def app(pg_url):
    app = queue.make_app(get_settings()).open()
    yield app
    app.close()


def publish(load, sites: list[Site], per_host: int) -> dict[str, list[str]]:
    """Serve ``per_host`` policies on each site and load them; the slugs by site URL."""
    slugs = {site.url: [f"doc-{n}-{i}" for i in range(per_host)] for n, site in enumerate(sites)}
    entries = []
    for site in sites:
        for slug in slugs[site.url]:
            site.html(f"/{slug}", policy(slug))
            entries.append(document(slug, f"{site.url}/{slug}", "select: [main]"))
    load(sources_yaml(*entries))
    return slugs


def health(port: int) -> tuple[int, dict]:
    """A worker's /healthz answer: status and JSON."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as answer:
        return answer.code, json.load(answer)
    except OSError:
        return 0, {}


def worker(url: str, tmp_path, name: str, *args: str, **settings) -> subprocess.Popen:
    """`policywatch worker` in a child process, each host's pages fetched one at a time."""
    env = {
        **os.environ,
        "POLICYWATCH_DATABASE_URL": url,
        "POLICYWATCH_CRAWL_DELAY": "0",
        "POLICYWATCH_CRAWL_CONCURRENCY_PER_HOST": "1",
        "POLICYWATCH_WORKER_STALLED_SECONDS": "3",
        "POLICYWATCH_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": str(ROOT),
        **{f"POLICYWATCH_{name.upper()}": str(value) for name, value in settings.items()},
    }
    log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 (the child writes it)
    return subprocess.Popen(
        [sys.executable, "-m", "policywatch", "worker", *args], env=env, cwd=ROOT, stdout=log, stderr=log
    )


def job_states(url: str) -> list[tuple[str, str, int]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT task_name, status, attempts FROM procrastinate_jobs ORDER BY id")
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def wait_for(condition, seconds: float = 240.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def crawls_done(url: str) -> bool:
    crawls = [state for state in job_states(url) if state[0].endswith("crawl_batch")]
    return bool(crawls) and all(status == "succeeded" for _, status, _ in crawls)


def due_batches() -> dict[str, list[int]]:
    """What `serve` queues on PostgreSQL: the documents due, by host."""
    runtime = Runtime.from_settings(get_settings())
    with transaction(runtime.engine) as session:
        session.execute(update(Source).values(next_fetch_at=utcnow()))  # all due now
        batches = jobs.due_batches(session, utcnow())
    runtime.close()
    return batches


def stop(*workers: subprocess.Popen) -> None:
    for process in workers:
        if process.poll() is None:
            process.terminate()
    for process in workers:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def test_two_workers_fetch_each_page_once_one_crawl_of_a_host_at_a_time(
    pg_url, app, hosts, load, db, cli, tmp_path
):
    slugs = publish(load, hosts, per_host=6)
    batches = due_batches()
    first, second = (f"127.0.0.1:{site.server.server_address[1]}" for site in hosts)
    assert sorted(batches) == sorted([first, second]) and all(len(ids) == 6 for ids in batches.values())
    assert queue.enqueue_crawls(app, {second: batches[second]}) == 1
    assert queue.enqueue_crawls(app, {second: batches[second]}) == 0  # not queued twice while it waits
    for half, ids in enumerate((batches[first][:3], batches[first][3:])):  # two jobs of one host
        queue.defer(
            app, "crawl_batch", lock=f"host:{first}", key=f"half {half}", document_ids=ids, host=first
        )
    workers = [worker(pg_url, tmp_path, "one"), worker(pg_url, tmp_path, "two")]
    try:
        assert wait_for(lambda: crawls_done(pg_url)), job_states(pg_url)
    finally:
        stop(*workers)

    for site in hosts:
        paths = [path for _, path, _ in site.requests if path != "/robots.txt"]
        assert sorted(paths) == sorted(f"/{slug}" for slug in slugs[site.url])  # each page once
        assert max(site.arrivals) == 1  # never two requests at once: one crawl of a host at a time
    for slug in [slug for group in slugs.values() for slug in group]:
        assert db.versions(slug) == [db.versions(slug)[0]] and slug in db.versions(slug)[0]
    assert "every chain intact" in cli("verify").output


def test_a_worker_killed_mid_crawl_has_its_job_finished_by_another_and_no_version_twice(
    pg_url, app, hosts, load, db, cli, tmp_path
):
    site = hosts[0]
    site.delay = 1.0  # six pages, one at a time: the crawl surely runs when the worker is killed
    slugs = publish(load, [site], per_host=6)[site.url]
    assert queue.enqueue_crawls(app, due_batches()) == 1
    doomed = worker(pg_url, tmp_path, "doomed")
    try:
        assert wait_for(lambda: len(site.requests) >= 2)
        doomed.kill()  # SIGKILL: no heartbeat any more, its crawl dies with it
        doomed.wait()
        served = len(site.requests)
        rescuer = worker(pg_url, tmp_path, "rescuer")
        assert wait_for(lambda: crawls_done(pg_url)), job_states(pg_url)
    finally:
        stop(*(process for process in (doomed, locals().get("rescuer")) if process))

    crawl_jobs = [state for state in job_states(pg_url) if state[0].endswith("crawl_batch")]
    assert [(status, attempts >= 1) for _, status, attempts in crawl_jobs] == [("succeeded", True)]
    assert len(site.requests) > served  # the other worker crawled what was left
    for slug in slugs:
        versions = db.versions(slug)
        assert len(versions) == 1 and slug in versions[0], slug  # every page recorded, none twice
    assert "every chain intact" in cli("verify").output


def test_a_crawl_job_that_keeps_failing_is_left_failed_and_status_says_why(
    pg_url, app, hosts, load, cli, tmp_path
):
    site = hosts[0]
    site.delay = 30.0  # longer than a crawl may take
    publish(load, [site], per_host=1)
    assert queue.enqueue_crawls(app, due_batches()) == 1
    settings = {
        "crawl_run_timeout": 3,
        "shutdown_grace_seconds": 0,
        "job_attempts": 2,
        "job_retry_seconds": 0.1,
    }
    process = worker(pg_url, tmp_path, "failing", **settings)
    try:
        assert wait_for(lambda: [state[1] for state in job_states(pg_url)] == ["failed"]), job_states(pg_url)
    finally:
        stop(process)

    output = cli("status").output
    assert "1 failed, 0 stalled" in output
    [line] = [line for line in output.splitlines() if line.startswith("failed: job")]
    host = site.url.removeprefix("http://")
    assert f"crawl_batch after 2 attempts: CrawlFailed: crawl of {host} timed out" in line


def test_the_worker_refuses_sqlite_in_one_line(migrated_url, cli):
    if not migrated_url.startswith("sqlite"):
        pytest.skip("the refusal is SQLite's")
    result = cli("worker", ok=False)
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and "needs PostgreSQL" in result.output


def test_a_worker_that_loses_the_database_stops_taking_jobs_and_resumes(
    pg_url, app, hosts, load, db, tmp_path
):
    site = hosts[0]
    slugs = publish(load, [site], per_host=2)[site.url]
    log = tmp_path / "cut-off.log"
    port = free_port()
    process = worker(pg_url, tmp_path, "cut-off", "--health-port", str(port))
    admin = create_engine(make_url(pg_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    database = make_url(pg_url).database
    try:
        assert wait_for(lambda: "worker " in log.read_text())  # it takes jobs
        assert wait_for(lambda: health(port)[0] == 200) and health(port)[1]["taking_jobs"]
        with admin.connect() as connection:  # the database goes away: no connection, none allowed
            connection.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false'))
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                {"name": database},
            )
        assert wait_for(lambda: "worker lost the database" in log.read_text(), 90), log.read_text()
        assert process.poll() is None  # it waits, it does not die
        status, state = health(port)
        assert status == 503 and state["reason"].startswith("lost the database")  # a container sees it
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true'))
        app.close()
        app.open()
        assert queue.enqueue_crawls(app, due_batches()) == 1
        assert wait_for(lambda: crawls_done(pg_url)), log.read_text()  # and takes jobs again
        assert health(port)[0] == 200
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true'))
        admin.dispose()
        stop(process)
    assert all(len(db.versions(slug)) == 1 for slug in slugs)


def test_a_host_with_only_a_newsroom_listing_due_gets_a_crawl_job_that_reads_it(
    pg_url, app, hosts, load, cli, tmp_path
):
    site = hosts[0]
    site.html("/news", "<h1>News</h1><ul>" + '<li><a href="/news/launch">Acme launches a model</a></li>' * 3)
    site.html("/news/launch", "<article><h1>Acme launches a model</h1><p>It is out today.</p></article>")
    load(
        "platforms:\n  - slug: acme\n    name: Acme\n    documents: []\n    announcements:\n"
        f"      - slug: acme-news\n        listing: {site.url}/news\n"
    )
    runtime = Runtime.from_settings(get_settings())
    with transaction(runtime.engine) as session:
        assert jobs.due_batches(session, utcnow()) == {}  # no document at all
        listings = jobs.due_listings(session, utcnow())
    runtime.close()
    assert list(listings) == [f"127.0.0.1:{site.server.server_address[1]}"]
    assert queue.enqueue_crawls(app, {}, listings) == 1
    one = worker(pg_url, tmp_path, "one")
    try:
        assert wait_for(lambda: crawls_done(pg_url)), job_states(pg_url)
    finally:
        stop(one)

    posts = json.loads(cli("announcements", "list", "--json").output)
    assert [p["title"] for p in posts] == ["Acme launches a model"]
