"""record_changes: one change per new version with a parent, idempotent, flapping by crawl runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from policywatch.settings import load_settings
from store.db import transaction
from store.models import Change, CrawlRun
from store.versions import record_version
from tests.factories import make_document

POLICY = """# Usage Policy

## Exceptions for government customers
We may allow government agencies to use the service under a separate agreement.

## Fees
You pay monthly.
"""
START = datetime(2026, 5, 1, tzinfo=UTC)


def _versions(session, texts, runs: bool = True):
    document = make_document(session)
    for i, text in enumerate(texts):
        moment = START + timedelta(hours=12 * i)
        run = None
        if runs:
            run = CrawlRun(started_at=moment - timedelta(minutes=1))
            session.add(run)
            session.flush()
        record_version(session, document, text, [], crawl_run_id=run.id if run else None, created_at=moment)
    return document


def test_records_one_change_per_new_version_and_is_idempotent(engine):
    from changes.record import record_changes

    new = POLICY.replace(
        "separate agreement.", "separate agreement. Military agencies may use it for defence."
    )
    with transaction(engine) as session:
        _versions(session, [POLICY, new])
    with transaction(engine) as session:
        first = record_changes(session, load_settings())
    with transaction(engine) as session:
        again = record_changes(session, load_settings())
        stored = session.query(Change).all()
    assert len(first) == 1 and again == [] and len(stored) == 1
    change = stored[0]
    assert change.significance == "substantive"
    assert "military" in change.topics and "government" in change.topics
    assert change.details["sections"][0]["added"] == ["Military agencies may use it for defence."]


def test_first_version_is_not_a_change(engine):
    from changes.record import record_changes

    with transaction(engine) as session:
        _versions(session, [POLICY])
        assert record_changes(session, load_settings()) == []


def test_a_change_recorded_by_another_writer_is_skipped(engine, monkeypatch):
    from changes import record
    from store.models import Version

    with transaction(engine) as session:
        _versions(session, [POLICY, POLICY + "\nNew clause on refunds applies to all plans.\n"])
        pending_ids = [v.id for v in record.pending_versions(session)]
    with transaction(engine) as other:  # the other writer commits first
        assert len(record.record_changes(other, load_settings())) == 1
    with transaction(engine) as session:  # this one still works from its earlier list
        monkeypatch.setattr(record, "pending_versions", lambda s: [s.get(Version, i) for i in pending_ids])
        assert record.record_changes(session, load_settings()) == []
    with transaction(engine) as session:
        assert session.query(Change).count() == 1


def test_banner_that_comes_back_is_flapping_but_a_revert_after_a_stable_period_is_real(engine):
    from changes.record import record_changes

    banner = "We use cookies to improve your experience. Accept all cookies or manage your preferences.\n\n"
    edited = POLICY.replace("monthly.", "monthly, in advance.")
    # the banner comes and goes; the edit is reverted two runs later (flapping) ...
    texts = [POLICY, banner + POLICY, POLICY, banner + POLICY, edited, POLICY]
    with transaction(engine) as session:
        document = _versions(session, texts)
        # ... then the text stays 20 crawl runs and the edit comes back: a real change
        later = START + timedelta(hours=12 * len(texts))
        session.add_all(CrawlRun(started_at=later + timedelta(hours=12 * i)) for i in range(20))
        record_version(session, document, edited, [], created_at=later + timedelta(hours=12 * 20))
        changes = record_changes(session, load_settings())
    significances = [c.significance for c in changes]
    assert significances[:2] == ["substantive", "cosmetic"]  # a banner's first appearance looks like a clause
    assert significances[2] == "cosmetic" and changes[2].details["flapping"]
    assert any("flapping" in r for r in changes[2].reasons)
    assert significances[3] == "substantive"  # the edit itself
    assert significances[4] == "cosmetic"  # reverted within the window: flapping
    assert significances[5] == "substantive"  # back after a long stable period: real


def test_a_version_after_an_error_page_is_compared_with_the_version_before_it(engine):
    from changes.record import record_changes

    policy = POLICY + "".join(
        f"\n## Purpose {i}\nWe process account data for purpose {i} only.\n" for i in range(6)
    )
    with transaction(engine) as session:
        _versions(session, [policy, "# Page not found\nSorry, this page isn't available.\n", policy])
        changes = record_changes(session, load_settings())
    assert [c.significance for c in changes] == ["cosmetic", "cosmetic"]
    assert "error page" in changes[0].reasons[0]
    assert changes[1].reasons[-1] == "compared with version 1, before an error page or failed extraction"
    assert "compared with" not in changes[1].summary  # the summary says what changed, not against what
