"""Long commands show their progress: plain lines when no terminal is attached (as under CliRunner,
in a log or a pipe), before the command's report."""

from __future__ import annotations

from click.testing import CliRunner

from store.db import make_engine, transaction
from store.migrate import pending_revisions, upgrade
from store.versions import record_version
from tests.factories import make_document


def run(*args: str):
    from policywatch.cli import cli
    from policywatch.settings import get_settings

    get_settings.cache_clear()
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_db_upgrade_counts_the_revisions_it_applies_and_none_when_up_to_date(database_url, monkeypatch):
    monkeypatch.setenv("POLICYWATCH_DATABASE_URL", database_url)
    total = pending_revisions(database_url)
    lines = run("db", "upgrade")
    applied = [line for line in lines if line.startswith("revisions applied: ")]
    assert applied[-1] == f"revisions applied: {total}/{total}" and len(applied) >= 2  # about one per tenth
    assert lines[-1].startswith("database at ") and pending_revisions(database_url) == 0
    again = run("db", "upgrade")
    assert not [line for line in again if line.startswith("revisions applied")]


def test_db_upgrade_from_an_older_revision_counts_only_those_left(database_url, monkeypatch):
    upgrade(database_url, "0010")  # the chain runs 0011, 0009, 0008, 0010, then 0012 and later ones
    left = pending_revisions(database_url)
    monkeypatch.setenv("POLICYWATCH_DATABASE_URL", database_url)
    lines = run("db", "upgrade")
    assert 0 < left < 10 and f"revisions applied: {left}/{left}" in lines
    assert pending_revisions(database_url) == 0


def test_verify_counts_the_documents_it_checks(migrated_url):
    engine = make_engine(migrated_url)
    with transaction(engine) as session:
        for n in range(3):
            document = make_document(session, f"acme-doc-{n}", (f"https://acme.test/{n}",))
            record_version(session, document, f"# Terms {n}\n\nText.", [])
    engine.dispose()
    lines = run("verify")
    assert lines == [
        "documents checked: 1/3",
        "documents checked: 2/3",
        "documents checked: 3/3",
        "ok: 3 versions, every chain intact",
    ]
