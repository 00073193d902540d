"""Search finds every version's text, highlights matches safely and honours its filters."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from store.db import make_engine, transaction
from store.queries import documents as document_queries
from store.queries.search import PostgresIndex
from store.versions import record_version
from tests.conftest import PG_URL


def test_search_finds_versions_and_highlights_matches(client):
    page = client.get("/search?q=surveillance").text
    assert "1 version match." in page
    assert "<mark>surveillance</mark>" in page


def test_search_stems_and_filters(client):
    hits = client.get("/api/search?q=government").json()
    assert hits["total"] == 6  # four acme versions and two globex versions mention it
    only = client.get("/api/search?q=government&platform=globex").json()
    assert {hit["document"] for hit in only["items"]} == {"globex-privacy"} and only["total"] == 2
    typed = client.get("/api/search", params={"q": "government", "terms_type": "Privacy Policy"}).json()
    assert typed["total"] == 2
    dated = client.get("/api/search?q=government&since=2026-04-01&until=2026-04-30").json()
    assert [hit["seq"] for hit in dated["items"]] == [2]
    topical = client.get("/api/search?q=train&topic=training_data").json()
    assert [(hit["document"], hit["seq"]) for hit in topical["items"]] == [("acme-terms", 4)]


def test_phrases_and_paging(client):
    phrase = client.get("/api/search", params={"q": '"national security purposes"'}).json()
    assert [hit["seq"] for hit in phrase["items"]] == [4, 3, 2]
    first = client.get("/api/search?q=government&limit=4").json()
    second = client.get(f"/api/search?q=government&limit=4&offset={first['next_offset']}").json()
    assert len(first["items"]) == 4 and len(second["items"]) == 2 and second["next_offset"] is None


def test_snippets_escape_stored_markup(client):
    hit = client.get("/api/search?q=fragment").json()["items"][0]
    assert "<mark>fragment</mark>" in hit["snippet_html"]
    assert (
        "<script" not in hit["snippet_html"]
        and "<img" not in hit["snippet_html"]
        and "<b " not in hit["snippet_html"]
    )


def test_query_syntax_never_errors(client):
    for q in [
        '"unbalanced',
        "AND OR NOT",
        "*",
        "((",
        "government)",
        "-",
        "col:umn",
        "'; DROP TABLE version;--",
    ]:
        assert client.get("/api/search", params={"q": q}).status_code == 200
        assert client.get("/search", params={"q": q}).status_code == 200


def test_counting_stops_at_the_cap(client, monkeypatch):
    monkeypatch.setattr("store.queries.search.COUNT_CAP", 3)
    monkeypatch.setattr("web.routes.pages.COUNT_CAP", 3)
    assert client.get("/api/search?q=government").json()["total"] == 3
    assert "More than 3 versions match" in client.get("/search?q=government").text


def test_words_deep_in_a_long_text_are_highlighted_where_they_occur(fresh_client, fresh_engine):
    filler = "\n\n".join(
        f"Clause {i}: the provider may co-operate with e-mail partners at legal@acme.test."
        for i in range(300)
    )
    body = f"{filler}\n\nBiometric identifiers are deleted after ninety days.\n\n{filler}"
    with transaction(fresh_engine) as session:
        record_version(session, document_queries.get_document(session, "globex-privacy"), body, [])
    hit = fresh_client.get("/api/search?q=biometric").json()["items"][0]
    assert "<mark>Biometric</mark> identifiers" in hit["snippet_html"]
    both = fresh_client.get("/api/search", params={"q": "biometric ninety"}).json()["items"][0]
    assert "<mark>Biometric</mark>" in both["snippet_html"] and "<mark>ninety</mark>" in both["snippet_html"]


def test_filtered_search_pages_newest_first_across_documents(client):
    everywhere = [
        (hit["document"], hit["seq"]) for hit in client.get("/api/search?q=government").json()["items"]
    ]
    paged = [
        hit
        for offset in (0, 1, 2)
        for hit in client.get(f"/api/search?q=government&platform=acme&limit=2&offset={offset * 2}").json()[
            "items"
        ]
    ]
    assert [(hit["document"], hit["seq"]) for hit in paged] == [
        item for item in everywhere if item[0] == "acme-terms"
    ]


def test_narrowed_searches_find_what_the_whole_history_holds_for_them(client):
    for q in (
        "government",
        '"national security purposes"',
        "legal@acme.test",
        "opt out",
        "service -surveillance",
        "-surveillance",
    ):
        everywhere = [
            (hit["document"], hit["seq"])
            for hit in client.get("/api/search", params={"q": q}).json()["items"]
        ]
        narrowed = client.get("/api/search", params={"q": q, "platform": "acme"}).json()
        assert everywhere, q
        assert [(hit["document"], hit["seq"]) for hit in narrowed["items"]] == [
            item for item in everywhere if item[0] == "acme-terms"
        ], q
        assert narrowed["total"] == len(narrowed["items"]), q


@pytest.mark.slow
@pytest.mark.skipif(not PG_URL, reason="the document key is PostgreSQL's")
def test_only_queries_the_index_can_answer_alone_are_narrowed_through_its_document_key():
    engine = make_engine(PG_URL)
    with Session(engine) as session:

        def keyed(q: str) -> bool:
            return "CAST" in str(PostgresIndex.in_document(session, q).compile(engine))

        assert keyed("government") and keyed("government -surveillance") and keyed("government or security")
        # a phrase's candidates are read either way; negated words alone, through the key, would scan
        # every version per document
        assert not any(
            keyed(q) for q in ('"national security"', "opt-out", "-surveillance", "the -surveillance")
        )
    engine.dispose()


def test_consecutive_versions_showing_the_same_passage_are_one_hit(fresh_client, fresh_engine):
    from store.db import transaction
    from store.versions import record_version
    from tests.factories import make_document

    with transaction(fresh_engine) as session:
        policy = make_document(session, "acme-retention", ("https://acme.test/retention",))
        filler = " ".join(
            f"Clause {n} covers accounts, billing and support in every region." for n in range(40)
        )
        for n in range(4):  # the passage stays, a clause far from it changes
            record_version(
                session, policy, f"We keep backups for ninety days.\n\n{filler}\n\nContact office {n}.", []
            )
    page = fresh_client.get("/search?q=backups").text
    hits = page[page.index('<ol class="hits">') : page.index("</ol>")]
    assert hits.count("<li>") == 1
    assert "and 3 more versions with the same passage (v1–v4)" in hits
