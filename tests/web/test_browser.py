"""A real browser (Debian's chromium through Playwright) against ``policywatch web`` on loopback:
stored scripts and event handlers never run, the double opt-in works by clicking, pages render."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from store.db import make_engine, transaction
from store.migrate import upgrade
from tests.web.serving import free_port, start_web, wait_until_healthy
from tests.web.site import build_site
from tests.web.test_subscribe import emailed_links

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed at /usr/bin/chromium "
        "(apt-get install chromium); no browser is downloaded",
    ),
]


@pytest.fixture
def server(tmp_path, monkeypatch):
    """``policywatch web`` serving the test history on a free loopback port."""
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    upgrade(url)
    engine = make_engine(url)
    with transaction(engine) as session:
        build_site(session)
    engine.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("POLICYWATCH_DATABASE_URL", url)
    monkeypatch.setenv("POLICYWATCH_BASE_URL", base)
    process = start_web(port, output=subprocess.DEVNULL)
    try:
        wait_until_healthy(base)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.events = []
        page.on("dialog", lambda dialog: (page.events.append(f"dialog: {dialog.message}"), dialog.dismiss()))
        page.on("console", lambda message: page.events.append(f"console: {message.text}"))
        page.on("pageerror", lambda error: page.events.append(f"error: {error}"))
        yield page
        browser.close()


def test_stored_scripts_and_event_handlers_never_run(server, browser_page):
    page = browser_page
    for path in (
        "/documents/acme-terms/diff?from=1&to=2",
        "/documents/acme-terms/diff?from=1&to=2&view=side",
        "/documents/acme-terms/versions/2",
        "/search?q=fragment",
    ):
        page.goto(server + path)
        page.mouse.move(400, 400)
        for element in page.get_by_text("bold", exact=False).all()[:3]:
            element.hover()
        assert page.evaluate("typeof window.pwned") == "undefined", path
        assert page.locator("script").count() == 0 and page.locator("img").count() == 0, path
        assert "<script>window.pwned" in page.inner_text("main"), path  # shown as text
    assert not [e for e in page.events if e.startswith("dialog")], page.events


def test_subscribe_confirm_unsubscribe_by_clicking(server, browser_page):
    page = browser_page
    page.goto(f"{server}/subscribe")
    page.fill("input[name=email]", "browser@example.com")
    page.check("input[name=platform][value=globex]")
    page.click("button[type=submit] >> text=Subscribe")
    page.wait_for_selector("text=Check your inbox")
    for _ in range(100):  # the confirmation is sent just after the answer
        try:
            links = emailed_links("browser@example.com")
            break
        except (IndexError, FileNotFoundError):
            time.sleep(0.1)
    else:
        raise AssertionError("no confirmation email in the outbox")
    page.goto(server + links["confirm"])
    page.click("button:has-text('Confirm')")
    page.wait_for_selector("text=Subscription confirmed")
    page.goto(server + links["unsubscribe"])
    page.click("button:has-text('Unsubscribe')")
    page.wait_for_selector("h1:has-text('Unsubscribed')")


def test_document_page_screenshot(server, browser_page, tmp_path):
    page = browser_page
    page.goto(f"{server}/documents/acme-terms")
    assert page.locator("table.versions tbody tr").count() == 3
    page.click("text=Show them")
    assert page.locator("table.versions tbody tr").count() == 4
    shot = tmp_path / "document.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_the_api_docs_are_interactive_and_served_from_here(server, browser_page):
    page = browser_page
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{server}/docs")
    page.wait_for_selector("[data-path='/api/platforms']", timeout=20_000)
    assert all(url.startswith(server) for url in requested), requested  # no CDN
    assert not [e for e in page.events if e.startswith("error")], page.events


def test_provision_comparison_page_sets_platforms_side_by_side(server, browser_page):
    from changes.record import rebuild_provisions
    from policywatch.settings import get_settings

    engine = make_engine(get_settings().database)
    with transaction(engine) as session:
        rebuild_provisions(session, get_settings())
    engine.dispose()
    page = browser_page
    page.goto(f"{server}/provisions/government_carve_out")
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
    page.goto(f"{server}/provisions/military_weapons?platform=acme")
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


def test_pages_are_usable_on_a_phone_without_sideways_scrolling(server, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    wide = {}
    for path in (
        "/",
        "/platforms/acme",
        "/documents/acme-terms",
        "/documents/acme-terms/versions/2",
        "/documents/acme-terms/diff?from=1&to=4",
        "/documents/acme-terms/diff?from=1&to=4&view=side",
        "/changes",
        "/search?q=data",
        "/subscribe",
    ):
        page.goto(server + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            wide[path] = overflow
    assert wide == {}, f"pages wider than a 390 px phone (px too wide): {wide}"


def test_the_governance_chart_draws_each_announcement_on_its_months_bar_with_its_title_in_view(
    server, browser_page, tmp_path
):
    import os

    from tests.web.site import add_announcement

    engine = make_engine(os.environ["POLICYWATCH_DATABASE_URL"])
    long_title = "Acme expands government access to its models, with exceptions to the usage policy it set"
    with transaction(engine) as session:
        add_announcement(session, "gov-access", long_title, "2026-05-20")
    engine.dispose()
    page = browser_page
    page.goto(f"{server}/platforms/acme")
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
    page.screenshot(path=str(tmp_path / "chart.png"))
    mark.locator("a").click()
    page.wait_for_url(f"{server}/documents/acme-gov-access")
    assert not [e for e in page.events if e.startswith(("dialog", "error"))], page.events


def test_a_changed_table_reads_as_a_table_on_a_phone_and_scrolls_in_its_own_box(
    server, browser_page, tmp_path
):
    from policywatch.settings import get_settings
    from tests.web.tables import record_table_change

    engine = make_engine(get_settings().database)
    with transaction(engine) as session:
        change_id = record_table_change(session).id
    engine.dispose()
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    for path in (
        f"/changes/{change_id}",
        "/documents/acme-subprocessors/diff?from=1&to=2",
        "/documents/acme-subprocessors/diff?from=1&to=2&view=side",
    ):
        page.goto(server + path)
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, path
        box = page.locator(".table-scroll").first
        assert box.evaluate("e => e.scrollWidth > e.clientWidth"), path  # the wide table scrolls within
        changed = page.locator("table.table-diff td.cell-changed").first
        assert changed.inner_text() == "United StatesIreland", path
        assert page.locator("table.table-diff tr.row-added").first.is_visible(), path
        page.screenshot(path=str(tmp_path / f"table-{len(path)}.png"), full_page=True)
    assert not [e for e in page.events if e.startswith(("dialog", "error"))], page.events
