"""A real browser (Debian's chromium through Playwright) against ``policywatch web`` on loopback:
stored scripts and event handlers never run, the double opt-in works by clicking, each page reads
cleanly on a desktop and a phone, its screenshots kept (tests/browser.py says where)."""

from __future__ import annotations

import subprocess
import time
from typing import NamedTuple

import pytest

from store.db import make_engine, transaction
from store.migrate import upgrade
from tests.browser import (
    ARGS,
    CHROMIUM,
    WIDTHS,
    broken_dates,
    broken_words,
    needs_chromium,
    overflow,
    screenshot,
    shown_slugs,
    unreadable,
)
from tests.web.serving import free_port, start_web, wait_until_healthy
from tests.web.site import REWORDED, Site, build_site
from tests.web.test_subscribe import emailed_links, emailed_text

pytestmark = needs_chromium
#: The pages a reader goes through, by the name of their screenshots ({change}: Acme's v1 → v2).
PAGES = {
    "home": "/",
    "platform": "/platforms/acme",
    "document": "/documents/acme-terms",
    "version": "/documents/acme-terms/versions/2",
    "change": "/changes/{change}",
    "changes": "/changes",
    "diff": "/documents/acme-terms/diff?from=1&to=4",
    "diff-side": "/documents/acme-terms/diff?from=1&to=4&view=side",
    "search": "/search?q=data",
    "compare": "/compare?topic=government",
    "subscribe": "/subscribe",
    "provision": "/provisions/government_carve_out",
    "provision-platform": "/provisions/government_carve_out?platform=acme",
}
#: The slugs of the test history's platforms and documents: in URLs only, never as words.
SLUGS = ("acme", "globex", "acme-terms", "globex-privacy")


class Served(NamedTuple):
    """Where ``policywatch web`` answers, and the ids of the history it serves."""

    url: str
    site: Site


@pytest.fixture
def server(tmp_path, monkeypatch):
    """``policywatch web`` serving the test history on a free loopback port."""
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    upgrade(url)
    engine = make_engine(url)
    with transaction(engine) as session:
        site = build_site(session)
    engine.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("POLICYWATCH_DATABASE_URL", url)
    monkeypatch.setenv("POLICYWATCH_BASE_URL", base)
    process = start_web(port, output=subprocess.DEVNULL)
    try:
        wait_until_healthy(base)
        yield Served(base, site)
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    """One chromium for the module's tests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(browser):
    """A fresh desktop-sized page of ``browser`` recording dialogs, console messages and errors."""
    page = browser.new_page(viewport={"width": WIDTHS["desktop"], "height": 900})
    page.events = []
    page.on("dialog", lambda dialog: (page.events.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.on("console", lambda message: page.events.append(f"console: {message.text}"))
    page.on("pageerror", lambda error: page.events.append(f"error: {error}"))
    yield page
    page.close()


def test_stored_scripts_and_event_handlers_never_run(server, browser_page):
    page = browser_page
    for path in (
        "/documents/acme-terms/diff?from=1&to=2",
        "/documents/acme-terms/diff?from=1&to=2&view=side",
        "/documents/acme-terms/versions/2",
        "/search?q=fragment",
    ):
        page.goto(server.url + path)
        page.mouse.move(400, 400)
        for element in page.get_by_text("bold", exact=False).all()[:3]:
            element.hover()
        assert page.evaluate("typeof window.pwned") == "undefined", path
        assert page.locator("script").count() == 0 and page.locator("img").count() == 0, path
        assert "<script>window.pwned" in page.inner_text("main"), path  # shown as text
    assert not [e for e in page.events if e.startswith("dialog")], page.events


def test_subscribe_confirm_unsubscribe_by_clicking(server, browser_page):
    page = browser_page
    page.goto(f"{server.url}/subscribe")
    page.fill("input[name=email]", "browser@example.com")
    assert not page.is_visible("text=only changes of these topics")  # the professional tier's
    page.check("input[name=tier][value=professional]")
    assert page.is_visible("text=only changes of these topics")
    page.check("input[name=tier][value=watcher]")
    page.check("input[name=platform][value=globex]")
    page.click(".choice:has(input[value=acme]) summary")  # only some of Acme's documents
    page.check("input[name=document][value=acme-terms]")
    page.click("button[type=submit] >> text=Subscribe")
    page.wait_for_selector("text=Check your inbox")
    for _ in range(100):  # the confirmation is sent just after the answer
        try:
            links, text = emailed_links("browser@example.com"), emailed_text("browser@example.com")
            break
        except (IndexError, FileNotFoundError):
            time.sleep(0.1)
    else:
        raise AssertionError("no confirmation email in the outbox")
    assert "Globex (every document)" in text and "Acme Terms" in text, text
    page.goto(server.url + links["confirm"])
    page.click("button:has-text('Confirm')")
    page.wait_for_selector("text=Subscription confirmed")
    page.goto(server.url + links["unsubscribe"])
    page.click("button:has-text('Unsubscribe')")
    page.wait_for_selector("h1:has-text('Unsubscribed')")


def test_document_page_unfolds_its_hidden_cosmetic_versions(server, browser_page):
    page = browser_page
    page.goto(f"{server.url}/documents/acme-terms")
    assert page.locator("table.versions tbody tr").count() == 3
    page.click("text=Show them")
    assert page.locator("table.versions tbody tr").count() == 4


def test_the_api_docs_are_interactive_and_served_from_here(server, browser_page):
    page = browser_page
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{server.url}/docs")
    page.wait_for_selector("[data-path='/api/platforms']", timeout=20_000)
    assert all(url.startswith(server.url) for url in requested), requested  # no CDN
    assert not [e for e in page.events if e.startswith("error")], page.events


def record_provisions() -> None:
    """Record the provisions the served history's versions state."""
    from changes.record import rebuild_provisions
    from policywatch.settings import get_settings

    engine = make_engine(get_settings().database)
    with transaction(engine) as session:
        rebuild_provisions(session, get_settings())
    engine.dispose()


def test_provision_comparison_page_sets_platforms_side_by_side(server, browser_page):
    record_provisions()
    page = browser_page
    page.goto(f"{server.url}/provisions/government_carve_out")
    columns = page.locator("section.platform-col")
    assert columns.count() == 2
    acme, globex = columns.nth(0), columns.nth(1)
    assert "lawful national security purposes" in acme.inner_text()
    assert "We do not sell data to any government." in globex.inner_text()
    first, second = acme.bounding_box(), globex.bounding_box()
    assert first and second and abs(first["y"] - second["y"]) < 1 and second["x"] > first["x"]  # side by side
    assert page.locator("main del").count() >= 1  # the history's removed clause
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert not [e for e in page.events if e.startswith(("dialog", "error"))], page.events


def test_provision_history_opens_the_newest_version_and_unfolds_older_ones(server, browser_page):
    from policywatch.settings import get_settings
    from tests.web.site import add_usage_history

    engine = make_engine(get_settings().database)
    with transaction(engine) as session:
        add_usage_history(session)
    engine.dispose()
    page = browser_page
    page.goto(f"{server.url}/provisions/military_weapons?platform=acme")
    usage = page.locator("section.provision-history", has_text="Usage Policy")
    entries = usage.locator("ol.provision-versions > li")
    assert entries.count() == 4
    assert "appeared in version 5" in entries.nth(0).locator("summary").inner_text().lower()
    assert entries.nth(0).locator("ins").is_visible()  # the newest version's redline is open
    reworded = entries.nth(2)
    added = reworded.locator("ins", has_text="or military and warfare purposes")
    assert not added.is_visible()  # older versions are folded
    reworded.locator("summary").click()
    assert added.is_visible()
    assert not [e for e in page.events if e.startswith(("dialog", "error"))], page.events


def test_each_page_reads_cleanly_on_a_desktop_and_a_phone(server, browser_page):
    """Each page at both widths, its screenshot kept: no Markdown markers, ids or slugs in its text, no
    word a table cell breaks, no date broken at a hyphen, and on the phone no sideways scrolling; on the
    change page a reworded clause is one entry."""
    record_provisions()
    page, found = browser_page, {}
    for width_name, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in PAGES.items():
            path = path.format(change=server.site.acme_changes[0])
            page.goto(server.url + path)
            screenshot(page, f"{name}-{width_name}")
            text = page.inner_text("main")
            problems = unreadable(text) + shown_slugs(text, SLUGS)
            problems += [f"'{word}' broken" for word in broken_words(page) + broken_dates(page)]
            if width_name == "phone" and (wide := overflow(page)) > 0:
                problems.append(f"{wide} px wider than the phone")
            if problems:
                found[f"{path} at {width} px"] = problems
            if name == "change":
                entries = page.locator("section.section li", has_text=REWORDED[0].split(" not ")[0])
                assert entries.count() == 1, entries.all_inner_texts()  # not also as added and removed
    assert found == {}, found


def test_the_redline_and_side_by_side_views_show_heading_lines_as_headings(server, browser_page):
    page = browser_page
    for view in ("inline", "side"):
        page.goto(f"{server.url}/documents/acme-terms/diff?from=1&to=4&view={view}")
        main = page.locator("main")
        for heading in ("Government customers", "Contact", "Training"):  # unchanged, and added (4)
            line = main.get_by_text(heading, exact=True).first
            assert line.evaluate("e => +getComputedStyle(e).fontWeight") >= 600, (view, heading)
        clause = main.get_by_text("We may train our models", exact=False).last
        assert clause.evaluate("e => +getComputedStyle(e).fontWeight") < 600, view  # not the clauses
        assert "#" not in main.inner_text(), view


def test_the_governance_chart_draws_each_announcement_on_its_months_bar_with_its_title_in_view(
    server, browser_page
):
    import os

    from tests.web.site import add_announcement

    engine = make_engine(os.environ["POLICYWATCH_DATABASE_URL"])
    long_title = "Acme expands government access to its models, with exceptions to the usage policy it set"
    with transaction(engine) as session:
        add_announcement(session, "gov-access", long_title, "2026-05-20")
    engine.dispose()
    page = browser_page
    page.goto(f"{server.url}/platforms/acme")
    chart = page.locator("figure.timeline svg")
    mark = chart.locator("g.announcement")
    label = mark.locator("text")
    bar = chart.locator("g:has(> title:text-matches('^2026-05')) rect.slot")

    assert mark.count() == 1 and label.is_visible()
    assert label.text_content().startswith("Acme expands government access")
    box, bar_box, chart_box = label.bounding_box(), bar.bounding_box(), chart.bounding_box()
    diamond = mark.locator("path").bounding_box()
    middle = diamond["x"] + diamond["width"] / 2
    assert bar_box["x"] < middle < bar_box["x"] + bar_box["width"]  # under its month's bar
    assert box["y"] > bar_box["y"] + bar_box["height"]  # below the bars, not over them
    assert box["x"] + box["width"] <= chart_box["x"] + chart_box["width"] + 1  # the label is not cut off
    screenshot(page, "platform-announcement-desktop")
    mark.locator("a").click()
    page.wait_for_url(f"{server.url}/documents/acme-gov-access")
    assert not [e for e in page.events if e.startswith(("dialog", "error"))], page.events


def test_a_changed_table_reads_as_a_table_on_a_phone_and_scrolls_in_its_own_box(server, browser_page):
    from policywatch.settings import get_settings
    from tests.web.tables import record_table_change

    engine = make_engine(get_settings().database)
    with transaction(engine) as session:
        change_id = record_table_change(session).id
    engine.dispose()
    page = browser_page
    page.set_viewport_size({"width": WIDTHS["phone"], "height": 844})
    for name, path in {
        "change": f"/changes/{change_id}",
        "diff": "/documents/acme-subprocessors/diff?from=1&to=2",
        "diff-side": "/documents/acme-subprocessors/diff?from=1&to=2&view=side",
    }.items():
        page.goto(server.url + path)
        assert overflow(page) <= 0, path
        box = page.locator(".table-scroll").first
        assert box.evaluate("e => e.scrollWidth > e.clientWidth"), path  # the wide table scrolls within
        changed = page.locator("table.table-diff td.cell-changed").first
        assert changed.inner_text() == "United StatesIreland", path
        assert page.locator("table.table-diff tr.row-added").first.is_visible(), path
        screenshot(page, f"table-{name}-phone")
    assert not [e for e in page.events if e.startswith(("dialog", "error"))], page.events
