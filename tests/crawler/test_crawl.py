"""Crawling declared sources: versions only on real text changes, every attempt recorded,
failures never turned into versions. Pages come from a local server; crawls run in a subprocess."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from store.db import transaction
from tests.crawler.conftest import document, sources_yaml
from tests.pdf import tiny_pdf

pytestmark = pytest.mark.slow  # crawls run in a child process

POLICY = (
    "<h1>Usage Policy</h1><p>You may not use our services to develop weapons or to deceive people. "
    "We review accounts that break these rules and may suspend them without notice.</p>"
    "<ul><li>No spam</li><li>No fraud</li><li>No surveillance of individuals</li></ul>"
)
LONG_POLICY = POLICY + "".join(
    f"<h2>Section {i}</h2><p>Rule {i}: customers must follow rule number {i} "
    f"in every region where the service is offered to them.</p>"
    for i in range(20)
)


def test_conditional_get_answers_not_modified_without_a_new_version(site, load, crawl, db):
    site.html("/aup", POLICY, etag='"v1"')
    load(sources_yaml(document("acme-aup", f"{site.url}/aup", "select: [main]")))

    first = crawl()
    second = crawl()

    assert "acme-aup" in first.stdout and "1 new versions" in first.stdout
    assert site.hits("/aup")[-1][1].get("If-None-Match") == '"v1"'
    assert [e.outcome for e in db.events("acme-aup")] == ["changed", "not_modified"]
    assert "0 new versions" in second.stdout
    assert len(db.versions("acme-aup")) == 1
    assert "weapons" in db.versions("acme-aup")[0]


def test_only_a_change_inside_the_selected_region_makes_a_version(site, load, crawl, db):
    site.html("/aup", POLICY, nav="build 1")
    load(sources_yaml(document("acme-aup", f"{site.url}/aup", "select: [main]")))
    crawl()
    site.html("/aup", POLICY, nav="build 2")  # new bytes outside the region
    crawl()
    crawl()  # same bytes again
    site.html("/aup", POLICY.replace("No fraud", "No fraud or phishing"), nav="build 3")
    crawl()

    assert [e.outcome for e in db.events("acme-aup")] == ["changed", "unchanged", "unchanged", "changed"]
    versions = db.versions("acme-aup")
    assert len(versions) == 2 and "phishing" in versions[1] and "phishing" not in versions[0]


def test_a_page_changed_in_volatile_markup_alone_is_not_stored_again(site, load, crawl, db):
    volatile = (
        '<meta name="build-id" content="b{n}"><link rel="preload" href="/_next/b{n}/app.js">'
        '<script nonce="n{n}">self.__state = {{"build": {n}}}</script><!-- rendered in {n} ms -->'
    )
    site.html("/aup", POLICY, head=volatile.format(n=1))
    load(sources_yaml(document("acme-aup", f"{site.url}/aup", "select: [main]")))
    crawl()
    site.html("/aup", POLICY, head=volatile.format(n=2))  # volatile markup alone
    crawl()
    site.html("/aup", POLICY, head=volatile.format(n=3), nav="Home | Blog")  # visible, but outside the region
    crawl()
    site.html(
        "/aup", POLICY.replace("No spam", "No spam or scams"), head=volatile.format(n=4), nav="Home | Blog"
    )
    crawl()

    events = db.events("acme-aup")
    assert [e.outcome for e in events] == ["changed", "unchanged", "unchanged", "changed"]
    assert len({e.sha256 for e in events}) == 4  # every body received is accounted for...
    assert events[1].snapshot_id == events[0].snapshot_id  # ...but volatile markup alone is not stored again
    assert len({e.snapshot_id for e in events}) == 3
    assert len(db.versions("acme-aup")) == 2 and "scams" in db.versions("acme-aup")[1]


def test_a_changed_selector_reads_an_unchanged_page_again(site, load, crawl, db):
    site.html("/aup", POLICY)
    load(sources_yaml(document("acme-aup", f"{site.url}/aup", "select: [main]")))
    crawl()
    load(sources_yaml(document("acme-aup", f"{site.url}/aup", "select: [main]", "remove: [ul]")))
    crawl()

    versions = db.versions("acme-aup")
    assert len(versions) == 2 and "No fraud" in versions[0] and "No fraud" not in versions[1]


def test_retries_wait_as_retry_after_says_then_succeed(site, load, crawl, db):
    from tests.crawler.conftest import Page

    busy = Page(b"busy", 503, headers={"Retry-After": "1"})
    site.pages["/aup"] = [busy, Page(f"<html><body><main>{POLICY}</main></body></html>".encode())]
    site.pages["/always-busy"] = [Page(b"slow down", 429)]
    load(
        sources_yaml(
            document("acme-aup", f"{site.url}/aup", "select: [main]"),
            document("acme-busy", f"{site.url}/always-busy"),
        )
    )

    crawl(env={"POLICYWATCH_CRAWL_RETRIES": "2"})

    (first, _), (second, _) = site.hits("/aup")
    assert second - first >= 0.9  # the server asked for one second
    assert len(db.versions("acme-aup")) == 1
    assert len(site.hits("/always-busy")) == 3  # one attempt and two retries
    assert [(e.outcome, e.reason) for e in db.events("acme-busy")] == [("error", "HTTP 429")]


def test_failures_are_recorded_with_their_reason_and_never_make_versions(site, load, crawl, db, cli):
    site.html("/challenge", "", title="Just a moment...")
    site.html("/aup", POLICY)
    site.pages["/moved"] = _redirect(f"{site.url}/login?next=/terms")
    site.html("/login", "<form>Sign in to continue</form>")
    site.html("/huge", POLICY + "<p>" + "x" * 20_000 + "</p>")
    site.html("/private/aup", POLICY)
    site.html("/private/open", POLICY)
    from tests.crawler.conftest import Page

    site.pages["/robots.txt"] = Page(b"User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    load(
        sources_yaml(
            document("acme-missing", f"{site.url}/gone"),
            document("acme-challenge", f"{site.url}/challenge"),
            document("acme-empty", f"{site.url}/aup", "select: ['#no-such-part']"),
            document("acme-login", f"{site.url}/moved"),
            document("acme-huge", f"{site.url}/huge"),
            document("acme-robots", f"{site.url}/private/aup"),
            document("acme-opted-out", f"{site.url}/private/open", "robots: false"),
        )
    )

    result = crawl(env={"POLICYWATCH_CRAWL_MAX_BYTES": "10000"})

    reasons = {
        slug: db.events(slug)[-1].reason
        for slug in ("acme-missing", "acme-challenge", "acme-empty", "acme-login", "acme-huge", "acme-robots")
    }
    assert reasons["acme-missing"] == "HTTP 404"
    assert "challenge" in reasons["acme-challenge"].lower()
    assert "matched nothing" in reasons["acme-empty"] or "selector" in reasons["acme-empty"]
    assert reasons["acme-login"].startswith("redirected to a login page")
    assert "size cap" in reasons["acme-huge"]
    assert reasons["acme-robots"] == "forbidden by robots.txt"
    for slug in reasons:
        assert db.versions(slug) == [], slug
        assert db.source(slug).consecutive_failures == 1
        assert db.events(slug)[-1].outcome == "error"
    assert db.events("acme-login")[-1].redirects == [f"{site.url}/moved"]
    assert len(db.versions("acme-opted-out")) == 1
    assert "6 error" in result.stdout

    crawl(env={"POLICYWATCH_CRAWL_MAX_BYTES": "10000", "POLICYWATCH_BROKEN_AFTER": "2"})
    listing = cli("sources", "list").output
    rows = {line.split("\t")[0]: line.split("\t") for line in listing.splitlines()}
    assert rows["acme-missing"][3] == "broken" and rows["acme-missing"][6] == "HTTP 404"
    assert rows["acme-opted-out"][3] == "ok" and rows["acme-opted-out"][5] == "1"


def test_a_page_that_lost_most_of_its_text_is_a_failure_not_a_version(site, load, crawl, db):
    site.html("/aup", LONG_POLICY)
    load(sources_yaml(document("acme-aup", f"{site.url}/aup", "select: [main]")))
    crawl()
    site.html("/aup", POLICY)
    crawl(env={"POLICYWATCH_BROKEN_AFTER": "1"})
    crawl(env={"POLICYWATCH_BROKEN_AFTER": "1"})  # a shortening that persists is accepted once broken

    events = db.events("acme-aup")
    assert events[1].outcome == "error" and events[1].failure_kind == "shrank"
    assert events[1].reason.startswith("text shrank")
    assert events[2].outcome == "changed"
    assert len(db.versions("acme-aup")) == 2


def test_a_combined_document_gets_a_version_only_when_all_its_sources_succeed(site, load, crawl, db):
    site.html("/privacy", POLICY.replace("Usage Policy", "Privacy Policy"))
    site.html(
        "/cookies", "<h1>Cookies</h1><p>We use cookies to keep you signed in and to measure traffic.</p>"
    )
    load(
        sources_yaml(f"""
- slug: acme-privacy
  title: Privacy
  type: Privacy Policy
  sources:
    - url: {site.url}/privacy
      select: [main]
    - url: {site.url}/cookies
      select: [main]
""")
    )
    crawl()
    site.html("/privacy", POLICY.replace("Usage Policy", "Privacy Policy").replace("No spam", "No data sale"))
    site.html("/cookies", "", status=500)
    crawl(env={"POLICYWATCH_CRAWL_RETRIES": "0"})
    assert len(db.versions("acme-privacy")) == 1
    site.html(
        "/cookies", "<h1>Cookies</h1><p>We use cookies to keep you signed in and to measure traffic.</p>"
    )
    crawl()

    first, second = db.versions("acme-privacy")
    assert first.index("Privacy Policy") < first.index("Cookies")
    assert "No data sale" in second and "Cookies" in second
    assert [e.outcome for e in db.events("acme-privacy", 1)] == ["changed", "error", "unchanged"]


def test_pdf_sources_become_text(site, load, crawl, db):
    from tests.crawler.conftest import Page

    site.pages["/terms.pdf"] = Page(
        tiny_pdf("Customers must not resell the service."), content_type="application/pdf"
    )
    load(sources_yaml(document("acme-pdf", f"{site.url}/terms.pdf")))
    crawl()

    assert "must not resell the service" in db.versions("acme-pdf")[0]


def test_tracking_parameters_and_ignored_lines_do_not_make_versions(site, load, crawl, db):
    page = (
        POLICY + '<p>Updated: {date}. Read the <a href="https://acme.test/faq?utm_source={tag}">FAQ</a>.</p>'
    )
    site.html("/aup", page.format(date="May 1", tag="a"))
    load(sources_yaml(document("acme-aup", f"{site.url}/aup", "select: [main]", "ignore: ['^Updated: ']")))
    crawl()
    site.html("/aup", page.format(date="May 2", tag="b"))
    crawl()

    assert [e.outcome for e in db.events("acme-aup")] == ["changed", "changed"]
    versions = db.versions("acme-aup")
    assert len(versions) == 1 and "utm_source" not in versions[0] and "Updated:" not in versions[0]


def test_pages_serving_the_same_bytes_are_each_read_by_their_own_rules(site, load, crawl, db):
    site.html("/aup", POLICY)
    site.html("/mirror/aup", POLICY)  # the same bytes under another URL
    load(
        sources_yaml(
            document("acme-aup", f"{site.url}/aup", "select: [main]"),
            document("acme-mirror", f"{site.url}/mirror/aup", "select: [main]"),
            document("acme-short", f"{site.url}/aup", "select: [main]", "remove: [ul]"),
        )
    )
    crawl()
    site.html("/mirror/aup", POLICY.replace("No spam", "No spam or scams"))
    crawl()

    assert [len(db.versions(slug)) for slug in ("acme-aup", "acme-mirror", "acme-short")] == [1, 2, 1]
    assert "No fraud" in db.versions("acme-aup")[0] and "No fraud" not in db.versions("acme-short")[0]
    assert "scams" in db.versions("acme-mirror")[1]


def test_two_crawls_at_once_record_each_version_once(site, load, crawl, db, cli):
    site.html("/aup", POLICY)
    site.html("/tos", POLICY.replace("Usage Policy", "Terms"))
    load(sources_yaml(document("acme-aup", f"{site.url}/aup"), document("acme-tos", f"{site.url}/tos")))
    for text in ("No spam", "No spam or scams"):
        site.html("/aup", POLICY.replace("No spam", text))
        runs = [crawl(background=True) for _ in range(2)]
        assert [run.wait(timeout=120) for run in runs] == [0, 0], [run.stderr.read() for run in runs]

    assert len(db.versions("acme-aup")) == 2 and len(db.versions("acme-tos")) == 1
    assert "ok: 3 versions, every chain intact" in cli("verify").output


def test_a_second_crawl_at_once_leaves_out_the_documents_the_first_is_fetching(site, load, crawl, db):
    slugs = [f"acme-{n}" for n in range(6)]
    for slug in slugs:
        site.html(f"/{slug}", POLICY.replace("Usage Policy", slug))
    load(sources_yaml(*(document(slug, f"{site.url}/{slug}") for slug in slugs)))
    site.delay = 3.0  # the first crawl is still fetching when the second starts
    first = crawl(background=True)
    deadline = time.monotonic() + 60
    while not site.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    second = crawl()
    assert first.wait(timeout=120) == 0, first.stderr.read()

    assert "6 documents left out: another crawl is fetching them" in second.stdout
    assert all(len(site.hits(f"/{slug}")) == 1 for slug in slugs)  # each page fetched once in all
    assert all(len(db.versions(slug)) == 1 for slug in slugs)
    site.delay = 0
    crawl()  # the leases went with the first crawl
    assert all(len(site.hits(f"/{slug}")) == 2 for slug in slugs)


def test_crawl_selects_documents_by_slug_or_schedule(site, load, crawl, db, cli):
    site.html("/aup", POLICY)
    site.html("/tos", POLICY)
    load(
        sources_yaml(
            document("acme-aup", f"{site.url}/aup", "schedule: 1h"), document("acme-tos", f"{site.url}/tos")
        )
    )
    assert "sources crawled: 1/1" in crawl("--source", "acme-aup").stdout  # progress, in plain lines
    assert len(db.events("acme-aup")) == 1 and db.events("acme-tos") == []
    crawl("--due")
    assert len(db.events("acme-aup")) == 1 and len(db.events("acme-tos")) == 1
    assert "nothing to crawl" in crawl("--due", "--source", "acme-aup").stdout  # named, but not due
    assert len(db.events("acme-aup")) == 1

    result = cli("crawl", "--source", "acme-nothing", ok=False)
    assert result.exit_code != 0 and "acme-nothing" in result.output


def test_browser_sources_fail_clearly_without_the_browser_extra(site, load, crawl, db, tmp_path):
    missing = tmp_path / "no-browser-extra" / "scrapy_playwright"
    missing.mkdir(parents=True)
    (missing / "__init__.py").write_text("raise ImportError('scrapy-playwright is not installed')\n")
    site.html("/app", POLICY)
    load(sources_yaml(document("acme-app", f"{site.url}/app", "fetcher: browser")))
    crawl(env={"PYTHONPATH": str(missing.parent)})

    assert "[browser]" in db.events("acme-app")[0].reason
    assert site.hits("/app") == []


def test_a_crawl_asks_for_notes_on_the_provisions_it_found_when_notes_are_on(site, load, crawl, db):
    from store.models import ProvisionNote
    from tests.changes import fake_llm

    server = fake_llm.start()
    site.html("/aup", POLICY)
    load(sources_yaml(document("acme-aup", f"{site.url}/aup", "select: [main]")))
    try:
        crawl(env={"POLICYWATCH_NOTE_URL": server.url, "POLICYWATCH_NOTE_MODEL": "test-model"})
    finally:
        server.shutdown()
        server.server_close()

    questions = [body["messages"][-1]["content"] for _, body in server.state.received]
    assert any("You may not use our services to develop weapons" in q for q in questions)
    with transaction(db.engine) as session:
        kept = session.scalars(select(ProvisionNote.provision)).all()
    assert len(kept) == len(questions) and "military_weapons" in kept


def test_crawl_refuses_a_schema_that_is_behind(database_url, monkeypatch):
    from click.testing import CliRunner

    from policywatch.cli import cli

    monkeypatch.setenv("POLICYWATCH_DATABASE_URL", database_url)
    result = CliRunner().invoke(cli, ["crawl", "--all"])
    assert result.exit_code != 0 and "db upgrade" in result.output


def _redirect(location: str):
    from tests.crawler.conftest import Page

    return Page(b"", 302, headers={"Location": location})


def test_a_host_never_gets_more_requests_at_once_than_allowed_and_the_first_come_gently(site, load, crawl):
    site.delay = 0.2
    pages = [f"/terms-{n}" for n in range(12)]
    for path in pages:
        site.html(path, POLICY)
    load(
        sources_yaml(
            *(document(f"acme-{n}", site.url + path, "select: [main]") for n, path in enumerate(pages))
        )
    )

    crawl(env={"POLICYWATCH_CRAWL_CONCURRENCY_PER_HOST": "4"})

    assert len(site.arrivals) == len(pages) + 1  # robots.txt first
    assert max(site.arrivals) == 4  # the limit is used, and it holds for the burst released by robots.txt
    first_answer = min(moment for moment, path in site.answered if path in pages)
    started_before = [path for moment, path, _ in site.requests if path in pages and moment < first_answer]
    # slow start: two requests at first, one more per answer (robots.txt's came first), not all four at once
    assert len(started_before) == 3


def test_the_crawl_delay_spaces_requests_to_a_host(site, load, crawl, db):
    pages = [f"/terms-{n}" for n in range(4)]
    for path in pages:
        site.html(path, POLICY)
    load(
        sources_yaml(
            *(document(f"acme-{n}", site.url + path, "select: [main]") for n, path in enumerate(pages))
        )
    )

    crawl(env={"POLICYWATCH_CRAWL_DELAY": "0.4"})

    moments = sorted(moment for moment, path, _ in site.requests if path in pages)
    assert len(moments) == len(pages)
    # Scrapy waits 0.5 to 1.5 times the delay between two requests to one host
    assert min(later - earlier for earlier, later in zip(moments, moments[1:])) >= 0.4 * 0.5 - 0.02
    assert all(len(db.versions(f"acme-{n}")) == 1 for n in range(len(pages)))


@pytest.mark.browser
@pytest.mark.skipif(
    __import__("importlib").util.find_spec("scrapy_playwright") is None, reason="needs the browser extra"
)
def test_the_browser_fetcher_reads_an_unchanged_page_on_every_crawl(site, load, crawl, db):
    site.html("/app", POLICY, etag='"v1"')
    load(sources_yaml(document("acme-app", f"{site.url}/app", "fetcher: browser", "select: [main]")))
    for _ in range(3):
        crawl()
    site.html("/app", POLICY.replace("No spam", "No spam or scams"), etag='"v2"')
    crawl()

    assert [e.outcome for e in db.events("acme-app")] == ["changed", "unchanged", "unchanged", "changed"]
    assert len(db.versions("acme-app")) == 2 and "scams" in db.versions("acme-app")[1]


def test_an_empty_catalog_or_nothing_due_is_nothing_to_crawl(site, load, crawl, db):
    assert "nothing to crawl: no active document" in crawl("--all").stdout
    assert "nothing to crawl" in crawl("--due").stdout

    site.html("/aup", POLICY)
    load(sources_yaml(document("acme-aup", f"{site.url}/aup", "schedule: 1h")))
    crawl("--due")
    result = crawl("--due")

    assert "nothing to crawl: no document or newsroom listing is due" in result.stdout
    assert result.stderr == ""
    assert len(db.events("acme-aup")) == 1


def test_an_ignore_pattern_that_backtracks_catastrophically_fails_its_source_alone(site, load, crawl, db):
    site.html("/aup", POLICY + "<p>" + "a" * 40 + "!</p>")
    site.html("/tos", POLICY + "<p>" + "a" * 40 + "!</p>")
    load(
        sources_yaml(
            document("acme-aup", f"{site.url}/aup", "select: [main]", "ignore: ['^(a|a)*$']"),
            document("acme-tos", f"{site.url}/tos", "select: [main]", "ignore: ['^(a+)+$', '^- No spam']"),
        )
    )

    result = crawl()

    (event,) = db.events("acme-aup")
    assert event.outcome == "error" and event.failure_kind == "slow_pattern"
    assert event.reason.startswith("ignore pattern '^(a|a)*$' took over 1 s")
    assert db.versions("acme-aup") == []
    (version,) = db.versions("acme-tos")  # the other document is crawled, its patterns applied
    assert "No fraud" in version and "No spam" not in version
    assert "Traceback" not in result.stderr


def test_the_same_text_served_without_a_charset_in_windows_1252_is_the_same_version(site, load, crawl, db):
    from tests.crawler.conftest import Page

    accents = "people \u2014 we\u2019re \u201cstrict\u201d, caf\u00e9s too"
    text = POLICY.replace("people", accents, 1)
    page = f"<html><head><title>Policy</title></head><body><main>{text}</main></body></html>"
    site.pages["/aup"] = Page(page.encode("utf-8"), content_type="text/html; charset=utf-8")
    load(sources_yaml(document("acme-aup", f"{site.url}/aup", "select: [main]")))
    crawl()
    site.pages["/aup"] = Page(page.encode("cp1252"), content_type="text/html")  # no header, no meta
    crawl()
    site.pages["/aup"] = Page(page.encode("utf-8"), content_type="text/html")  # undeclared UTF-8
    crawl()

    assert [e.outcome for e in db.events("acme-aup")] == ["changed", "unchanged", "unchanged"]
    (version,) = db.versions("acme-aup")
    assert 'people \u2014 we\'re "strict", caf\u00e9s too' in version  # quotes normalised


def test_two_crawls_at_once_on_postgresql_neither_deadlock_nor_fail_healthy_sources(
    site, load, crawl, db, cli, migrated_url
):
    if not migrated_url.startswith("postgresql"):
        pytest.skip("SQLite writers queue on BEGIN IMMEDIATE; row locks and deadlocks are PostgreSQL's")
    slugs = [f"acme-{n}" for n in range(40)]
    load(sources_yaml(*(document(slug, f"{site.url}/{slug}", "select: [main]") for slug in slugs)))
    for text in ("No spam", "No spam or scams"):
        for slug in slugs:
            site.html(f"/{slug}", POLICY.replace("No spam", text).replace("Usage Policy", slug))
        runs = [crawl(background=True) for _ in range(2)]
        assert [run.wait(timeout=120) for run in runs] == [0, 0]
        errors = [run.stderr.read() for run in runs]
        assert not any("Traceback" in error or "DETAIL" in error for error in errors), errors

    assert all(len(db.versions(slug)) == 2 for slug in slugs)
    assert all(db.source(slug).consecutive_failures == 0 for slug in slugs)
    assert "ok: 80 versions, every chain intact" in cli("verify").output


def test_a_disk_that_fills_up_stops_the_crawl_with_its_reason_in_one_line(
    site, load, crawl, db, migrated_url
):
    import random

    from store.models import CrawlRun

    if not migrated_url.startswith("sqlite"):
        pytest.skip("the disk is filled by capping the size of the files a crawl writes: SQLite's")
    words = random.Random(7).choices(["policy", "data", "user", "may", "not", "shall", "terms", "use"], k=99)
    slugs = [f"acme-{n}" for n in range(30)]
    for n, slug in enumerate(slugs):
        rules = "".join(
            f"<p>Rule {n}.{i}: {' '.join(random.Random(i * n).sample(words, 60))}</p>" for i in range(300)
        )
        site.html(f"/{slug}", POLICY + rules)
    load(sources_yaml(*(document(slug, f"{site.url}/{slug}", "select: [main]") for slug in slugs)))
    database = Path(migrated_url.removeprefix("sqlite:///"))
    written = max(path.stat().st_size for path in database.parent.glob(database.name + "*"))

    result = crawl(ok=False, max_file_bytes=written + 200_000)

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()], result.stderr  # one line
    assert "crawl run 1 stopped: the database cannot record: OperationalError: disk" in result.stderr
    with transaction(db.engine) as session:
        run = session.scalars(select(CrawlRun)).one()
        assert run.status == "failed" and run.stats["error"].startswith("the database cannot record: ")
