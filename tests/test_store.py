"""The store: content addressing, compression, the version chain and its constraints."""
from __future__ import annotations

import hashlib
import random

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from store.db import transaction
from store.models import Snapshot, Version
from store.snapshots import Fetched, put_snapshot, read_snapshot
from store.versions import VersionConflict, chain_records, record_version, verify_all
from tests.factories import make_document


def page(n: int, noise: str = "") -> bytes:
    rng = random.Random(n)
    words = " ".join(rng.choice(["policy", "data", "user", "government", "may", "not"]) for _ in range(20000))
    return f"<html><body><main>{words}</main><script>nonce={noise}</script></body></html>".encode()


def test_identical_bytes_are_stored_once(engine):
    with transaction(engine) as session:
        doc = make_document(session)
        source = doc.sources[0]
        first, new1 = put_snapshot(session, source.id, Fetched(source.url, page(1)))
        second, new2 = put_snapshot(session, source.id, Fetched(source.url, page(1)))
        assert (new1, new2) == (True, False)
        assert first.id == second.id
        assert session.scalar(select(func.count()).select_from(Snapshot)) == 1


def test_near_identical_snapshots_are_stored_as_small_deltas_and_read_back_exactly(engine):
    bodies = [page(1, noise=str(i)) for i in range(6)]
    with transaction(engine) as session:
        source = make_document(session).sources[0]
        stored = [put_snapshot(session, source.id, Fetched(source.url, body))[0] for body in bodies]
    with transaction(engine) as session:
        for snapshot, body in zip(stored, bodies):
            snapshot = session.get(Snapshot, snapshot.id)
            assert hashlib.sha256(read_snapshot(session, snapshot)).hexdigest() == snapshot.sha256
            assert read_snapshot(session, snapshot) == body
        older = [session.get(Snapshot, s.id) for s in stored[:-1]]
        newest = session.get(Snapshot, stored[-1].id)
        assert newest.codec == "zstd" and all(s.codec == "zstd-dict" for s in older)
        assert max(len(s.data) for s in older) * 20 < len(newest.data)


def test_reads_walk_a_bounded_number_of_deltas(engine, monkeypatch):
    import store.snapshots as snapshots

    monkeypatch.setattr(snapshots, "GROUP", 3)
    bodies = [page(2, noise=str(i)) for i in range(7)]
    with transaction(engine) as session:
        source = make_document(session).sources[0]
        stored = [put_snapshot(session, source.id, Fetched(source.url, body))[0] for body in bodies]
    with transaction(engine) as session:
        codecs = [session.get(Snapshot, s.id).codec for s in stored]
        # positions 2 and 5 close their group and stay whole, as does the newest
        assert codecs == ["zstd-dict", "zstd-dict", "zstd", "zstd-dict", "zstd-dict", "zstd", "zstd"]
        assert [read_snapshot(session, session.get(Snapshot, s.id)) for s in stored] == bodies


def test_a_version_is_recorded_only_when_the_text_changes(engine):
    with transaction(engine) as session:
        doc = make_document(session)
        snap, _ = put_snapshot(session, doc.sources[0].id, Fetched(doc.sources[0].url, b"<p>a</p>"))
        v1 = record_version(session, doc, "# Terms\n\nYou may not.", [(doc.sources[0].id, snap)])
        same = record_version(session, doc, "# Terms\n\nYou may not.", [(doc.sources[0].id, snap)])
        v2 = record_version(session, doc, "# Terms\n\nYou may.", [(doc.sources[0].id, snap)])
        assert same is None
        assert (v1.seq, v2.seq, v2.parent_id) == (1, 2, v1.id)
        assert [link.snapshot_id for link in v2.snapshot_links] == [snap.id]


def test_two_writers_cannot_fork_the_chain(engine):
    with transaction(engine) as session:
        doc = make_document(session)
        snap, _ = put_snapshot(session, doc.sources[0].id, Fetched(doc.sources[0].url, b"x"))
        v1 = record_version(session, doc, "one", [(None, snap)])
        # a second version claiming the same parent breaks the schema's unique keys
        session.add(Version(document_id=doc.id, seq=2, parent_id=v1.id, text="two", text_sha256="b" * 64,
                            chain_hash="c" * 64))
        session.flush()
        with pytest.raises(IntegrityError), session.begin_nested():
            session.add(Version(document_id=doc.id, seq=3, parent_id=v1.id, text="three", text_sha256="d" * 64,
                                chain_hash="e" * 64))


def test_record_version_reports_a_lost_race(engine, monkeypatch):
    import store.versions as versions

    with transaction(engine) as session:
        doc = make_document(session)
        snap, _ = put_snapshot(session, doc.sources[0].id, Fetched(doc.sources[0].url, b"x"))
        record_version(session, doc, "one", [(None, snap)])
        monkeypatch.setattr(versions, "latest_version", lambda s, d: None)  # a writer that read a stale head
        with pytest.raises(VersionConflict, match="acme-terms"):
            record_version(session, doc, "two", [(None, snap)])


def test_verify_detects_an_altered_version(engine):
    with transaction(engine) as session:
        doc = make_document(session)
        snap, _ = put_snapshot(session, doc.sources[0].id, Fetched(doc.sources[0].url, b"x"))
        for text in ["one", "two", "three"]:
            record_version(session, doc, text, [(None, snap)])
    with transaction(engine) as session:
        assert verify_all(session) == (3, [])
        session.execute(update(Version).where(Version.seq == 2).values(text="TWO, quietly rewritten"))
    with transaction(engine) as session:
        checked, problems = verify_all(session)
        assert checked == 3
        assert [(p.seq, "text" in p.reason) for p in problems] == [(2, True)]
        records = chain_records(session, doc.id)
        assert [r["seq"] for r in records] == [1, 2, 3]


def test_a_batch_inserts_the_rows_its_units_queued_when_it_commits_except_a_failed_units(engine):
    from store.db import Batch
    from store.models import Platform

    batch = Batch(engine, size=2, seconds=60)
    for slug in ["first", "failed", "second", "third"]:
        try:
            with batch.unit():
                batch.insert_at_commit(Platform(slug=slug, name=slug.title()))
                if slug == "failed":
                    raise ValueError("this page cannot be recorded")
        except ValueError:
            pass
    batch.close()

    with transaction(engine) as session:
        assert sorted(session.scalars(select(Platform.slug))) == ["first", "second", "third"]


def test_a_batch_keeps_every_unit_but_the_one_that_failed(engine):
    from store.db import Batch

    batch = Batch(engine, size=10, seconds=60)
    for number in range(3):
        try:
            with batch.unit() as session:
                put_snapshot(session, None, Fetched(f"https://acme.test/{number}", b"page %d" % number))
                if number == 1:
                    raise ValueError("this page cannot be recorded")
        except ValueError:
            pass
    batch.commit()

    with transaction(engine) as session:
        assert sorted(session.scalars(select(Snapshot.url))) == ["https://acme.test/0", "https://acme.test/2"]
