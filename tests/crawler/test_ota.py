"""Open Terms Archive declarations become platforms, documents and sources; what cannot carry
over (JavaScript filters) is reported per document; the result exports as a sources file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.sources.declarations import read_declarations
from store.db import make_engine, transaction
from store.models import Document

OTA = Path(__file__).parent / "fixtures" / "ota"


def test_import_ota_folder_keeps_combine_ranges_and_scripts_and_warns_on_filters(cli, migrated_url, tmp_path):
    result = cli("sources", "import-ota", str(OTA))

    assert "3 created" in result.output
    assert "warning: llama-api-privacy-policy: OTA filters removeTrackingIDs cannot run here" in result.output
    engine = make_engine(migrated_url)
    with transaction(engine) as session:
        documents = {d.slug: d for d in session.scalars(select(Document))}
        privacy = documents["llama-api-privacy-policy"]
        assert privacy.terms_type == "Privacy Policy" and privacy.platform.name == "Llama API"
        assert [(s.url, s.select, s.remove, s.fetcher) for s in privacy.sources] == [
            (
                "https://llama.developer.meta.com/docs/trust/data-commitments",
                [{"startBefore": "h1", "endAfter": "#end-of-content"}],
                ['[data-pagelet="LLMDCSideRail"]'],
                "browser",
            ),
            (
                "https://mbasic.facebook.com/privacy/policy/printable/",
                ["#root"],
                [".k", ".l", "img"],
                "browser",
            ),
        ]
        usage = documents["le-chat-acceptable-use-policy"]
        assert [(s.select, s.fetcher) for s in usage.sources] == [(["div"], "http")]
    engine.dispose()

    exported = tmp_path / "exported.yaml"
    cli("sources", "export", "-o", str(exported))
    declared = read_declarations(exported)
    aup = next(
        d for p in declared.platforms for d in p.documents if d.slug == "llama-api-acceptable-use-policy"
    )
    assert aup.sources[0].select == [{"startAfter": "h1", "endAfter": "#end-of-content"}]


def test_a_folder_with_a_malformed_declaration_imports_the_rest_and_reports_it(cli, tmp_path):
    folder = tmp_path / "declarations"
    folder.mkdir()
    (folder / "Le Chat.json").write_bytes((OTA / "Le Chat.json").read_bytes())
    (folder / "Empty.json").write_text(json.dumps({"name": "Empty", "terms": {}}))
    page = {"fetch": "https://acme.test/terms", "select": "main", "filter": ["removeSessionIds"]}
    (folder / "Acme.json").write_text(json.dumps({"name": "Acme", "terms": {"Terms of Service": page}}))

    result = cli("sources", "import-ota", str(folder))

    assert "2 created" in result.output and "1 declaration(s) skipped" in result.output
    lines = result.stdout.splitlines()
    assert lines[:5] == [  # progress in plain lines (no terminal), before the report
        "declarations read: 1/3",
        "declarations read: 2/3",
        "declarations read: 3/3",
        "hosts checked: 1/2",
        "hosts checked: 2/2",
    ]
    assert lines[-1].startswith(f"{folder}: 2 created")
    assert f"skipped: {folder / 'Empty.json'}: an OTA declaration needs a name and terms" in result.output
    assert "warning: acme-terms-of-service: OTA filters removeSessionIds cannot run here" in result.output


def test_importing_one_service_leaves_other_documents_active(cli, load, migrated_url):
    load(
        "platforms:\n  - slug: acme\n    name: Acme\n    documents:\n"
        "      - slug: acme-aup\n        title: AUP\n"
        "        type: Acceptable Use Policy\n        url: https://acme.test/aup\n"
    )

    assert (
        "1 created, 0 updated, 0 deactivated"
        in cli("sources", "import-ota", str(OTA / "Le Chat.json")).output
    )
    engine = make_engine(migrated_url)
    with transaction(engine) as session:
        assert session.scalars(select(Document.active).where(Document.slug == "acme-aup")).one()
    engine.dispose()


def test_a_declaration_without_terms_is_refused_naming_the_file(cli, tmp_path):
    bad = tmp_path / "Broken.json"
    bad.write_text('{"name": "Broken"}')

    result = cli("sources", "import-ota", str(bad), ok=False)

    assert result.exit_code != 0 and f"{bad}: an OTA declaration needs a name and terms" in result.output


@pytest.mark.parametrize(
    "terms, reason",
    [
        ({"Terms of Service": 5}, "Terms of Service: a terms declaration is an object, got a number"),
        ({"Terms of Service": "https://acme.test/fetch"}, "a terms declaration is an object, got a string"),
        (
            {"Terms of Service": {"combine": "https://acme.test/a"}},
            "combine is a list of pages, got a string",
        ),
        (
            {"Terms of Service": {"combine": [{"fetch": "https://acme.test/a"}, 7]}},
            "combine[1] is a page object",
        ),
        ({"Terms of Service": {"combine": [{"select": "main"}]}}, "combine[0] has no fetch URL"),
        ({"Terms of Service": {"fetch": 5}}, "sources[0].url: Input should be a valid string"),
        (7, "an OTA declaration needs a name and terms"),
    ],
)
def test_a_malformed_ota_declaration_is_refused_in_one_line(cli, tmp_path, terms, reason):
    path = tmp_path / "Acme.json"
    path.write_text(json.dumps({"name": "Acme", "terms": terms}))

    result = cli("sources", "import-ota", str(path), ok=False)

    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]  # one line, no traceback
    assert str(path) in result.stderr and reason in result.stderr
