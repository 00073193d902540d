"""The analyst pages show the history a user came for, and never render stored content as markup."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from changes.record import rebuild_provisions
from policywatch.settings import get_settings
from store.db import transaction
from store.models import FetchEvent, Snapshot
from store.queries import documents as document_queries
from tests.web.site import START
from tests.web.test_cache import page_cache
from web.app import create_app


def test_home_lists_platforms_with_counts_and_a_timeline(client):
    page = client.get("/").text
    assert 'href="/platforms/acme"' in page and 'href="/platforms/globex"' in page
    assert "<svg" in page and 'class="bar-substantive"' in page
    assert "Government agencies may now use the service" in page


def test_platform_page_shows_documents_last_change_and_counts(client, site):
    page = client.get("/platforms/acme").text
    assert 'href="/documents/acme-terms"' in page
    assert f'href="/changes/{site.acme_changes[2]}"' in page  # the latest change
    assert "1 / 1 / 1" in page  # substantive / minor / cosmetic
    assert "globex-privacy" not in page
    assert client.get("/platforms/nope").status_code == 404


def test_document_page_hides_cosmetic_versions_until_asked(client):
    page = client.get("/documents/acme-terms").text
    shown = set(re.findall(r'<tr id="v(\d+)"', page))
    assert shown == {"1", "2", "4"}
    assert "1 cosmetic version hidden" in page
    everything = client.get("/documents/acme-terms?cosmetic=true").text
    assert set(re.findall(r'<tr id="v(\d+)"', everything)) == {"1", "2", "3", "4"}


def test_document_page_shows_source_health_and_current_text(client):
    page = client.get("/documents/acme-terms").text
    assert "https://acme.test/terms" in page
    assert "broken" in page and "HTTP 503 from https://acme.test/terms" in page
    assert "We may train our models on content you submit" in page  # v4, the current text


def test_stored_markup_is_escaped_everywhere(client, site):
    pages = [
        client.get(path).text
        for path in (
            "/documents/acme-terms",
            "/documents/acme-terms/versions/2",
            "/documents/acme-terms/diff?from=1&to=2",
            "/documents/acme-terms/diff?from=1&to=2&view=side",
            f"/changes/{site.acme_changes[0]}",
            "/search?q=pwned",
        )
    ]
    for page in pages:
        assert "<script>window.pwned" not in page
        assert "<img src=x" not in page and "<b onmouseover" not in page  # text, never a tag
    assert "&lt;script&gt;window.pwned" in pages[1]


def test_version_text_is_rendered_not_shown_as_markdown(client, site):
    from web.rendering.markdown import render_markdown

    rendered = str(
        render_markdown(
            "## Data\n\n**Last updated:** c**ustomers** \\_puid\n\n| a | b |\n|---|---|\n| 1 | 2 |"
        )
    )
    assert "<h2>Data</h2>" in rendered and "<strong>Last updated:</strong>" in rendered
    assert "c<strong>ustomers</strong> _puid" in rendered and "<td>1</td>" in rendered
    assert "**" not in rendered and "\\_" not in rendered and "|" not in rendered
    page = client.get("/documents/acme-terms/versions/2").text
    assert '<div class="text rendered">' in page and '<pre class="text">' not in page


def test_diff_between_any_two_versions_marks_words(client):
    inline = client.get("/documents/acme-terms/diff?from=1&to=4").text
    assert "may<del> not</del> use" in inline
    assert "<ins>" in inline and "train our models" in inline
    side = client.get("/documents/acme-terms/diff?from=1&to=4&view=side").text
    assert '<table class="side">' in side and "<del>" in side and "<ins>" in side
    assert client.get("/documents/acme-terms/diff?from=1&to=9").status_code == 404


def test_adjacent_diff_shows_the_recorded_change_beside_it(client, site):
    page = client.get("/documents/acme-terms/diff?from=1&to=2").text
    assert "Government agencies may now use the service for national security." in page
    assert "FedRAMP" in page and f'href="/changes/{site.acme_changes[0]}"' in page


def test_change_page_shows_sections_topics_regulations_and_redline(client, site):
    page = client.get(f"/changes/{site.acme_changes[0]}").text
    assert "Government customers" in page and "FedRAMP" in page
    assert "<del>surveillance</del>" in page and "<ins>lawful national security purposes</ins>" in page
    assert "Government and national security" in page  # the topic's label from the taxonomy
    assert client.get("/changes/999999").status_code == 404


def test_changes_page_filters(client):
    page = client.get("/changes?min_significance=substantive").text
    assert "Government agencies may now use" in page and "Whitespace only" not in page
    assert "90 days instead of 30" in client.get("/changes?platform=globex").text
    assert "Government agencies" not in client.get("/changes?platform=globex").text
    assert "Adds a section on training" in client.get("/changes?topic=training_data").text


def test_compare_shows_each_platforms_current_clauses_and_when_they_changed(client, site):
    page = client.get("/compare?topic=government").text
    assert "lawful national security purposes" in page
    assert f'changed <a href="/changes/{site.acme_changes[0]}">2026-04-02</a>' in page
    assert "We do not sell data to any government." in page
    assert "unchanged since 2026-03-12" in page
    assert "may not use the service for surveillance" not in page  # no longer current
    assert client.get("/compare?topic=nope").status_code == 404


def test_document_page_links_the_raw_snapshot_of_the_latest_fetch(fresh_client, fresh_engine):
    page_cache(fresh_client).fresh_for = 0  # the history's generation read on every request
    assert "raw snapshot" not in fresh_client.get("/documents/acme-terms").text  # the latest fetch failed
    with transaction(fresh_engine) as session:
        source = document_queries.get_document(session, "acme-terms", sources=True).sources[0]
        snapshot = session.scalar(select(Snapshot).where(Snapshot.source_id == source.id))
        session.add(
            FetchEvent(
                source_id=source.id,
                fetched_at=START + timedelta(days=300),
                url=source.url,
                http_status=200,
                outcome="unchanged",
                snapshot_id=snapshot.id,
            )
        )
    page = fresh_client.get("/documents/acme-terms").text
    assert (
        f'<a href="/snapshots/{snapshot.sha256}" download>raw snapshot</a>' in page
        and "unchanged (HTTP 200)" in page
    )


def test_a_missing_page_is_an_html_page_for_a_browser_and_json_for_the_api(client):
    browser = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
    missing = client.get("/documents/no-such-policy", headers=browser)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "<h1>Not found</h1>" in missing.text and "no document &#39;no-such-policy&#39;" in missing.text
    assert client.get("/nowhere", headers=browser).headers["content-type"].startswith("text/html")
    api = client.get("/api/documents/no-such-policy/versions", headers=browser)
    assert api.status_code == 404 and api.json() == {"detail": "no document 'no-such-policy'"}


def test_platform_timeline_lists_provision_changes_as_labelled_events(fresh_engine):
    with transaction(fresh_engine) as session:
        rebuild_provisions(session, get_settings())
    with TestClient(create_app(get_settings(), fresh_engine)) as client:
        page = client.get("/platforms/acme").text
    assert "<h3>Provision changes and announcements</h3>" in page
    assert "Government carve-out reworded" in page and "Surveillance and biometrics removed" in page


def test_provision_page_compares_platforms_and_shows_history_and_card(fresh_engine):
    with transaction(fresh_engine) as session:
        rebuild_provisions(session, get_settings())
    with TestClient(create_app(get_settings(), fresh_engine)) as client:
        page = client.get("/provisions/government_carve_out").text
        missing = client.get("/provisions/nonsense")
    assert "<h1>Government carve-out</h1>" in page and "FAR/DFARS" in page
    acme, globex = page.index('href="/platforms/acme"'), page.index('href="/platforms/globex"')
    assert (
        "Government agencies may use the service for lawful national security purposes." in page[acme:globex]
    )
    assert "<strong>permits</strong>" in page[acme:globex]
    assert "We do not sell data to any government." in page[globex:]  # under its "Public sector" heading
    history = page[page.index("<h2>History</h2>") :]
    assert "Government agencies may<del> not</del> use the service for <del>surveillance</del>" in history
    assert "<script>" not in page  # stored clauses are escaped
    assert missing.status_code == 404


def test_provision_page_shows_each_version_of_the_clause_newest_first_with_its_redline(fresh_engine):
    from tests.web.site import add_usage_history

    with transaction(fresh_engine) as session:
        add_usage_history(session)
    with TestClient(create_app(get_settings(), fresh_engine)) as client:
        page = client.get("/provisions/military_weapons", params={"platform": "acme"}).text
    history = page[page.index("<h2>History</h2>") :]
    terms, usage = history.split('<a href="/documents/acme-usage">Usage Policy</a>')
    usage = usage[: usage.index("</section>")]
    entries = re.findall(r'pv-(\w+)">\w+</span> in <a href="/documents/acme-usage/versions/(\d+)"', usage)
    assert entries == [("appeared", "5"), ("removed", "4"), ("reworded", "3"), ("stated", "1")]  # not v2
    appeared, removed, reworded, stated = usage.split("<li>")[1:]
    assert "for weapons development<ins> or military and warfare purposes</ins>." in reworded
    assert "<time>2026-05-01</time>" in reworded and 'class="sig sig-substantive"' in reworded
    assert "<del>You may not use the service for weapons development or military and warfare" in removed
    assert "<ins>You may not use the service for weapons development or military" in appeared
    assert "<details open>" in appeared and "<details open>" not in removed + reworded + stated
    assert "stated</span> in" in terms and "reworded" not in terms  # the same clause in every version


def test_a_machine_written_note_is_marked_as_such_and_quotes_its_clauses(fresh_engine, monkeypatch):
    from policywatch.runtime import Runtime
    from policywatch.settings import load_settings
    from policywatch.usecases.notes import write_notes
    from tests.changes import fake_llm

    server = fake_llm.start()
    server.state.tell(
        body={"choices": [{"message": {"content": "<b>Agencies</b> may use it for security."}}]}
    )
    monkeypatch.setenv("POLICYWATCH_NOTE_URL", server.url)
    monkeypatch.setenv("POLICYWATCH_NOTE_MODEL", "test-model")
    with transaction(fresh_engine) as session:
        rebuild_provisions(session, get_settings())
    try:
        with Runtime.from_settings(load_settings()) as runtime:
            write_notes(runtime)
    finally:
        server.shutdown()
        server.server_close()
    with TestClient(create_app(load_settings(), fresh_engine)) as client:
        page = client.get("/provisions/government_carve_out").text
    acme = page[page.index('href="/platforms/acme"') : page.index('href="/platforms/globex"')]
    note = acme[acme.index('<aside class="machine-note">') :]
    assert (
        "<strong>Machine-written note</strong> by test-model" in note and "not reviewed by a person" in note
    )
    assert (
        "<blockquote>Government agencies may use the service for lawful national security purposes." in note
    )
    assert '<p class="note">&lt;b&gt;Agencies&lt;/b&gt; may use it for security.</p>' in note  # escaped
    assert "<script>" not in page


def test_a_platform_shows_its_announcements_as_events_beside_its_policy_changes(fresh_engine):
    from tests.web.site import add_announcement

    with transaction(fresh_engine) as session:
        rebuild_provisions(session, get_settings())
        add_announcement(session)
    with TestClient(create_app(get_settings(), fresh_engine)) as client:
        page = client.get("/platforms/acme").text
    events = page[
        page.index("<h3>Provision changes and announcements</h3>") : page.index("<h2>Policies</h2>")
    ]
    assert '2026-05-02 · Announced: <a href="/documents/acme-gov-deal">Gov deal</a>' in events
    assert "Government" in events and "Government carve-out reworded" in events
    policies = page[page.index("<h2>Policies</h2>") :]
    assert "acme-gov-deal" not in policies  # a post is an event, not one of the platform's policies


def test_the_governance_chart_marks_each_announcement_at_its_month_labelled_by_title(fresh_engine):
    from lxml import html

    from tests.web.site import add_announcement

    with transaction(fresh_engine) as session:
        add_announcement(session)  # 2026-05, a month with a change
        add_announcement(session, "price-cut", "<b>Prices</b> cut by half", "2026-08-10")  # no change then
    with TestClient(create_app(get_settings(), fresh_engine)) as client:
        page = client.get("/platforms/acme").text
    (svg,) = html.fromstring(page).xpath("//figure[@class='timeline']/svg")
    bars = {g.findtext("title")[:7]: g.find("rect") for g in svg.xpath("g[not(@class)]")}
    marks = {g.findtext(".//text"): g for g in svg.xpath("g[@class='announcement']")}

    assert sorted(bars) == ["2026-04", "2026-05", "2026-06", "2026-07", "2026-08"]  # spans the posts
    assert sorted(marks) == ["<b>Prices</b> cut by half", "Gov deal"]  # labelled by title, as text
    for title, month in (("Gov deal", "2026-05"), ("<b>Prices</b> cut by half", "2026-08")):
        bar, mark = bars[month], marks[title]
        middle = float(bar.get("x")) + float(bar.get("width")) / 2
        assert float(mark.find("line").get("x1")) == middle  # on its month's bar, beside its changes
        assert mark.findtext("title").startswith("Announced 20")
    assert marks["Gov deal"].find("a").get("href") == "/documents/acme-gov-deal"
    assert "<b>Prices</b>" not in page  # a post's title is text, never markup
    assert "announcement" in svg.getparent().find("figcaption").text_content()  # in the key


def test_unchanged_lines_folded_in_a_diff_open_on_request(fresh_engine):
    from store.versions import record_version
    from tests.factories import make_document

    lines = [f"Clause {n}: you may not misuse the service in way number {n}." for n in range(30)]
    with transaction(fresh_engine) as session:
        long = make_document(session, "acme-long", ("https://acme.test/long",))
        record_version(session, long, "\n\n".join(lines), [])
        record_version(session, long, "\n\n".join([*lines[:15], "Clause 15: a new rule.", *lines[16:]]), [])
    with TestClient(create_app(get_settings(), fresh_engine)) as client:
        for view in ("inline", "side"):
            page = client.get(f"/documents/acme-long/diff?from=1&to=2&view={view}").text
            folded = page[page.index("<details") : page.index("</details>")]
            assert "unchanged lines …</summary>" in folded and "Clause 3: you may not misuse" in folded
