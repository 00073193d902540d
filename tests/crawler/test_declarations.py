"""Sources files: validated with errors a person can act on, loaded all-or-nothing and
idempotently, deactivating what was left out, exported back to the same declarations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crawler.sources.declarations import DeclarationError, read_declarations
from store.db import make_engine, transaction
from store.models import Document, Source, Version
from store.versions import record_version
from tests.crawler.conftest import ROOT, document, sources_yaml

COMBINED = """
- slug: acme-privacy
  title: Privacy Policy
  type: Privacy Policy
  schedule: 6h
  ignore: ['^Last updated']
  sources:
    - url: https://acme.test/privacy
      select: [main, {startAfter: '#intro', endBefore: footer}]
      remove: [.cookie-banner]
    - url: https://acme.test/cookies
      fetcher: browser
      robots: false
"""


def _error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(DeclarationError) as caught:
        read_declarations(path)
    return str(caught.value)


@pytest.mark.parametrize(
    "entry, where, what",
    [
        (
            document("acme-aup", "https://acme.test/aup", "schedule: soon"),
            "document acme-aup, schedule",
            "30m, 6h or 1d",
        ),
        (document("acme-aup", "ftp://acme.test/aup"), "document acme-aup, url", "pattern"),
        (
            document("acme-aup", "https://acme.test/aup", "fetcher: curl"),
            "document acme-aup, fetcher",
            "'http' or 'browser'",
        ),
        (
            document("acme-aup", "https://acme.test/aup", "ignore: ['(unclosed']"),
            "document acme-aup, ignore",
            "not a valid regular expression",
        ),
        (
            document("acme-aup", "https://acme.test/aup", "select: [{startAfter: h1}]"),
            "document acme-aup, select",
            "endBefore/endAfter",
        ),
        (
            document("acme-aup", "https://acme.test/aup", "select: ['main >']"),
            "document acme-aup, select",
            "selector 'main >' is not valid CSS",
        ),
        (
            document("acme-aup", "https://acme.test/aup", "remove: [{startAfter: h1, endBefore: 'p:bogus'}]"),
            "document acme-aup, remove",
            "selector 'p:bogus' is not valid CSS",
        ),
        (
            document("acme-aup", "https://acme.test/aup", "colour: red"),
            "document acme-aup, colour",
            "Extra inputs",
        ),
        (
            "- slug: acme-aup\n  title: AUP\n  type: Acceptable Use Policy",
            "document acme-aup",
            "a url or a list of sources",
        ),
        (
            '- slug: acme-aup\n  title: "AUP\\r\\nBcc: all@example.com"\n  type: AUP\n  url: https://acme.test/aup',
            "document acme-aup, title",
            "must be one line",
        ),
        (
            "- slug: Acme AUP\n  title: AUP\n  type: Acceptable Use Policy\n  url: https://acme.test/aup",
            "document Acme AUP, slug",
            "pattern",
        ),
    ],
)
def test_an_invalid_sources_file_names_file_document_and_field(tmp_path, entry, where, what):
    message = _error(tmp_path, sources_yaml(entry))

    assert message.startswith(f"{tmp_path / 'bad.yaml'}: platform acme, {where}: ")
    assert what in message


def test_duplicate_slugs_and_broken_yaml_are_refused(tmp_path):
    twice = sources_yaml(
        document("acme-aup", "https://acme.test/a"), document("acme-aup", "https://acme.test/b")
    )
    assert "document slug 'acme-aup' is declared twice" in _error(tmp_path, twice)
    assert "not valid YAML" in _error(tmp_path, "platforms: [")


def test_loading_is_idempotent_and_deactivates_what_was_left_out(load, migrated_url):
    both = sources_yaml(document("acme-aup", "https://acme.test/aup", "select: [main]"), COMBINED)
    assert "2 created, 0 updated, 0 deactivated" in load(both).output
    assert "0 created, 0 updated, 0 deactivated" in load(both).output
    engine = make_engine(migrated_url)
    with transaction(engine) as session:
        privacy = session.scalars(select(Document).where(Document.slug == "acme-privacy")).one()
        record_version(session, privacy, "Privacy text", [])
        assert [(s.url, s.fetcher, s.robots) for s in privacy.sources] == [
            ("https://acme.test/privacy", "http", True),
            ("https://acme.test/cookies", "browser", False),
        ]
        assert privacy.schedule_seconds == 6 * 3600 and privacy.ignore == ["^Last updated"]

    assert (
        "0 created, 0 updated, 1 deactivated"
        in load(sources_yaml(document("acme-aup", "https://acme.test/aup", "select: [main]"))).output
    )

    with transaction(engine) as session:
        privacy = session.scalars(select(Document).where(Document.slug == "acme-privacy")).one()
        assert not privacy.active
        assert (
            session.scalar(select(func.count()).select_from(Version).where(Version.document_id == privacy.id))
            == 1
        )
    assert "0 created, 1 updated, 0 deactivated" in load(both).output
    with transaction(engine) as session:
        assert session.scalars(select(Document.active).where(Document.slug == "acme-privacy")).one()
    engine.dispose()


def test_a_file_that_fails_validation_changes_nothing(load, cli, tmp_path, migrated_url):
    load(sources_yaml(document("acme-aup", "https://acme.test/aup")))
    bad = tmp_path / "bad.yaml"
    bad.write_text(sources_yaml(document("acme-tos", "https://acme.test/tos", "schedule: never")))

    result = cli("sources", "load", str(bad), ok=False)

    assert result.exit_code != 0 and "document acme-tos, schedule" in result.output
    engine = make_engine(migrated_url)
    with transaction(engine) as session:
        assert [(d.slug, d.active) for d in session.scalars(select(Document))] == [("acme-aup", True)]
    engine.dispose()


def test_export_round_trips_through_load(load, cli, tmp_path, migrated_url):
    declared = sources_yaml(
        document("acme-aup", "https://acme.test/aup", "select: [main]", "remove: ['.ad']"), COMBINED
    )
    load(declared)
    exported = tmp_path / "exported.yaml"
    cli("sources", "export", "--output", str(exported))

    original = read_declarations(tmp_path / "sources.yaml")
    assert read_declarations(exported) == original
    assert "0 created, 0 updated, 0 deactivated" in cli("sources", "load", str(exported)).output


def test_a_json_sources_file_loads(cli, tmp_path, migrated_url):
    path = tmp_path / "sources.json"
    path.write_text(
        json.dumps(
            {
                "platforms": [
                    {
                        "slug": "acme",
                        "name": "Acme",
                        "documents": [
                            {
                                "slug": "acme-aup",
                                "title": "AUP",
                                "type": "Acceptable Use Policy",
                                "url": "https://acme.test/aup",
                                "select": ["main", {"startBefore": "h1", "endAfter": "#last"}],
                            }
                        ],
                    }
                ]
            }
        )
    )

    assert "1 created" in cli("sources", "load", str(path)).output
    engine = make_engine(migrated_url)
    with transaction(engine) as session:
        assert session.scalars(select(Source.select)).one() == [
            "main",
            {"startBefore": "h1", "endAfter": "#last"},
        ]
    engine.dispose()


def test_the_shipped_sources_file_is_valid_and_covers_the_main_vendors():
    declared = read_declarations(ROOT / "sources.yaml")

    slugs = {p.slug for p in declared.platforms}
    assert len(slugs) >= 10
    assert {
        "anthropic",
        "openai",
        "google",
        "meta",
        "xai",
        "mistral",
        "microsoft",
        "amazon",
        "perplexity",
        "deepseek",
        "cohere",
    } <= slugs
    anthropic = {d.title for p in declared.platforms if p.slug == "anthropic" for d in p.documents}
    assert any("government" in title.lower() for title in anthropic)
    newsrooms = {p.slug for p in declared.platforms if p.announcements}
    assert {"anthropic", "openai", "google", "meta", "xai", "mistral", "microsoft", "amazon"} <= newsrooms


def test_sources_list_shows_each_source_before_any_crawl(load, cli):
    load(sources_yaml(COMBINED))

    rows = [line.split("\t") for line in cli("sources", "list").output.splitlines()]

    assert rows[0][:4] == ["document", "url", "last fetch", "status"]
    assert [(r[0], r[1], r[2], r[3], r[5]) for r in rows[1:]] == [
        ("acme-privacy", "https://acme.test/privacy", "never", "new", "0"),
        ("acme-privacy", "https://acme.test/cookies", "never", "new", "0"),
    ]


NEWSROOM = """platforms:
  - slug: acme
    name: Acme
    documents: []
    announcements:
      - slug: acme-news
        listing: https://acme.test/news
        follow: '/news/[a-z0-9-]+$'
        schedule: 2h
        select: [article]
      - slug: acme-feed
        listing: https://acme.test/blog/feed.xml
"""


@pytest.mark.parametrize(
    "change, where, what",
    [
        ("follow: '/news/[a-z0-9-]+$'", "announcement acme-news, follow", "not a valid regular expression"),
        ("listing: https://acme.test/news", "announcement acme-news, listing", "pattern"),
        ("select: [article]", "announcement acme-news, select", "must not be empty"),
        ("schedule: 2h", "announcement acme-news, schedule", "not a positive duration"),
        ("        select: [article]", "announcement acme-news, colour", "Extra inputs"),
    ],
)
def test_an_invalid_announcement_source_names_platform_source_and_field(tmp_path, change, where, what):
    wrong = {
        "follow: '/news/[a-z0-9-]+$'": "follow: '(unclosed'",
        "listing: https://acme.test/news": "listing: acme.test/news",
        "select: [article]": "select: ['  ']",
        "schedule: 2h": "schedule: often",
        "        select: [article]": "        select: [article]\n        colour: red",
    }[change]
    message = _error(tmp_path, NEWSROOM.replace(change, wrong, 1))

    assert message.startswith(f"{tmp_path / 'bad.yaml'}: platform acme, {where}: ")
    assert what in message


def test_announcement_sources_load_export_and_deactivate(load, cli, tmp_path, migrated_url):
    assert "2 created, 0 updated, 0 deactivated" in load(NEWSROOM).output
    assert "0 created, 0 updated, 0 deactivated" in load(NEWSROOM).output
    exported = tmp_path / "exported.yaml"
    cli("sources", "export", "--output", str(exported))
    (back,) = read_declarations(exported).platforms
    (declared,) = read_declarations(tmp_path / "sources.yaml").platforms
    assert sorted(back.announcements, key=str) == sorted(declared.announcements, key=str)
    assert [a.schedule for a in back.announcements if a.slug == "acme-news"] == ["2h"]

    only_feed = NEWSROOM.split("      - slug: acme-news")[0] + NEWSROOM.split("[article]\n")[1]
    assert "0 created, 0 updated, 1 deactivated" in load(only_feed).output
    twice = NEWSROOM + "      - slug: acme-news\n        listing: https://acme.test/other\n"
    assert "announcement source slug 'acme-news' is declared twice" in _error(tmp_path, twice)
