"""The store: content addressing, compression, the version chain and its constraints."""

from __future__ import annotations

import hashlib
import random
import threading
import time

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from store.db import Batch, make_engine, transaction
from store.models import Platform, Snapshot, Version
from store.snapshots import Fetched, put_snapshot, read_snapshot
from store.versions import VersionConflict, chain_records, record_version, verify_all
from tests.conftest import PG_URL, _fresh_pg_database
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
        keyframe, *deltas = [session.get(Snapshot, s.id) for s in stored]
        assert keyframe.codec == "zstd" and all(s.codec == "zstd-dict" for s in deltas)
        assert max(len(s.data) for s in deltas) * 20 < len(keyframe.data)


def test_a_snapshot_is_a_delta_against_its_skip_base_and_nothing_stored_is_rewritten(engine, monkeypatch):
    import store.snapshots as snapshots

    monkeypatch.setattr(snapshots, "GROUP", 16)
    bodies = [page(2, noise=str(i)) for i in range(40)]
    with transaction(engine) as session:
        source = make_document(session).sources[0]
        stored, data = [], {}
        for body in bodies:
            stored.append(put_snapshot(session, source.id, Fetched(source.url, body))[0])
            assert all(s.data == data[s.id] for s in stored[:-1])  # earlier rows untouched
            data[stored[-1].id] = stored[-1].data
    with transaction(engine) as session:
        rows = [session.get(Snapshot, s.id) for s in stored]
        by_id = {row.id: row for row in rows}
        assert [row.depth for row in rows] == [i % 16 for i in range(40)]
        assert [row.codec for row in rows] == ["zstd" if i % 16 == 0 else "zstd-dict" for i in range(40)]
        for row in rows[1:16]:
            assert by_id[row.base_id].depth == snapshots.skip_base(row.depth)
        assert [snapshots.skip_base(p) for p in (1, 3, 4, 5, 8, 12, 13, 15)] == [0, 0, 0, 4, 0, 0, 12, 12]
        for row in rows:
            walked, link = 0, row
            while link.codec == "zstd-dict":
                walked, link = walked + 1, by_id[link.base_id]
            assert walked <= 2  # 16 positions: two base-4 digits
        # byte-exact across the keyframes at positions 16 and 32
        assert [read_snapshot(session, row) for row in rows] == bodies


def test_a_page_unlike_its_keyframe_starts_a_new_group(engine):
    bodies = [page(3), page(3, noise="x"), page(4), page(4, noise="y")]
    with transaction(engine) as session:
        source = make_document(session).sources[0]
        stored = [put_snapshot(session, source.id, Fetched(source.url, body))[0] for body in bodies]
    with transaction(engine) as session:
        rows = [session.get(Snapshot, s.id) for s in stored]
        assert [(row.codec, row.depth) for row in rows] == [
            ("zstd", 0),
            ("zstd-dict", 1),
            ("zstd", 0),
            ("zstd-dict", 1),
        ]
        assert rows[3].base_id == rows[2].id
        assert [read_snapshot(session, row) for row in rows] == bodies


def reverse_delta_rows(session, source_id: int, bodies: list[bytes], group: int) -> list[Snapshot]:
    """Snapshots as the earlier scheme stored them: each one a delta against the next newer
    (``base_id``), the newest and every ``group``-th one whole."""
    import zstandard

    rows = [
        Snapshot(
            sha256=hashlib.sha256(body).hexdigest(),
            source_id=source_id,
            url="https://acme.test/terms",
            size=len(body),
            codec="zstd",
            depth=i % group,
            data=zstandard.ZstdCompressor(level=1).compress(body),
        )
        for i, body in enumerate(bodies)
    ]
    session.add_all(rows)
    session.flush()
    for i, row in enumerate(rows[:-1]):
        if row.depth != group - 1:
            newer = zstandard.ZstdCompressionDict(bodies[i + 1], dict_type=zstandard.DICT_TYPE_RAWCONTENT)
            row.data = zstandard.ZstdCompressor(dict_data=newer).compress(bodies[i])
            row.codec, row.base_id = "zstd-dict", rows[i + 1].id
    session.flush()
    return rows


@pytest.mark.parametrize(("old_count", "first_new"), [(5, ("zstd-dict", 1)), (7, ("zstd", 0))])
def test_reverse_delta_snapshots_of_earlier_databases_read_back_and_take_new_ones(
    engine, old_count, first_new
):
    old_bodies = [page(5, noise=str(i)) for i in range(old_count)]
    new_bodies = [page(5, noise=f"new {i}") for i in range(6)]
    with transaction(engine) as session:
        source = make_document(session).sources[0]
        old = reverse_delta_rows(session, source.id, old_bodies, group=4)
        new = [put_snapshot(session, source.id, Fetched(source.url, body))[0] for body in new_bodies]
    with transaction(engine) as session:
        old = [session.get(Snapshot, s.id) for s in old]
        assert [s.codec for s in old] == (["zstd-dict"] * 3 + ["zstd"] + ["zstd-dict"] * 3)[
            : old_count - 1
        ] + ["zstd"]
        assert all(s.base_id == s.id + 1 for s in old if s.codec == "zstd-dict")
        # the newest old snapshot (depth 0) is a base as it stands; at depth 2 a new group starts
        first = session.get(Snapshot, new[0].id)
        assert (first.codec, first.depth) == first_new
        assert [
            read_snapshot(session, session.get(Snapshot, s.id)) for s in old + new
        ] == old_bodies + new_bodies


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
        session.add(
            Version(
                document_id=doc.id,
                seq=2,
                parent_id=v1.id,
                text="two",
                text_sha256="b" * 64,
                chain_hash="c" * 64,
            )
        )
        session.flush()
        with pytest.raises(IntegrityError), session.begin_nested():
            session.add(
                Version(
                    document_id=doc.id,
                    seq=3,
                    parent_id=v1.id,
                    text="three",
                    text_sha256="d" * 64,
                    chain_hash="e" * 64,
                )
            )


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


def _batch_renaming_acme(engine):
    """Platform "acme" stored, and a batch with a later unit inserting "globex" and renaming acme."""
    with transaction(engine) as session:
        acme = Platform(slug="acme", name="Acme")
        session.add(acme)
        session.flush()
    batch = Batch(engine, size=10, seconds=60)
    batch.later(Platform(slug="globex", name="Globex"), Platform, {"id": acme.id, "name": "Acme Inc."})
    return batch, acme.id


def test_a_later_unit_is_written_with_the_batch_even_when_another_unit_fails(engine):
    batch, _ = _batch_renaming_acme(engine)
    try:
        with batch.unit():
            batch.insert_at_commit(Platform(slug="broken", name="Broken"))
            raise ValueError("this page cannot be recorded")
    except ValueError:
        pass
    batch.close()

    with transaction(engine) as session:
        assert session.execute(select(Platform.slug, Platform.name).order_by(Platform.slug)).all() == [
            ("acme", "Acme Inc."),
            ("globex", "Globex"),
        ]


def test_a_later_update_waits_for_a_lock_and_then_lands(engine):
    batch, acme = _batch_renaming_acme(engine)
    with transaction(engine) as other:  # another writer holds the row while the batch commits
        other.execute(update(Platform).where(Platform.id == acme).values(name="Acme Corp"))
        done = threading.Thread(target=batch.close)
        done.start()
        time.sleep(0.3)
        assert done.is_alive()  # waiting for the row, not failing nor skipping it
    done.join(timeout=30)

    with transaction(engine) as session:
        assert session.scalars(select(Platform.name).where(Platform.id == acme)).one() == "Acme Inc."
        assert session.scalars(select(func.count()).select_from(Platform)).one() == 2


@pytest.mark.slow
@pytest.mark.skipif(
    not PG_URL,
    reason="server-side prepared statements are PostgreSQL's (POLICYWATCH_TEST_DATABASE_URL unset)",
)
def test_queries_run_the_same_plan_each_time_without_statements_prepared_on_the_server():
    """A statement run again and again is planned for its own parameters every time: psycopg would
    prepare it (a generic plan, ten times slower for a search) and drop it at every ROLLBACK."""
    engine = make_engine(_fresh_pg_database())
    try:
        with engine.connect() as connection:
            for n in range(12):
                connection.execute(
                    text("SELECT count(*) FROM pg_class WHERE relpages > :n"), {"n": n}
                ).scalar()
            assert connection.exec_driver_sql("SELECT count(*) FROM pg_prepared_statements").scalar() == 0
    finally:
        engine.dispose()
