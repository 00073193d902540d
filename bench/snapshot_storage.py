"""Compact history: store every snapshot of a replay corpus through ``store.snapshots.put_snapshot``
in a fresh SQLite file, in crawl order per source, then report the file size, the compression
ratio and the read times of the oldest snapshot and of the longest chain of deltas (after a
sample has warmed the statements), and check a sample reads back byte-exact.

    python bench/snapshot_storage.py ../shared/corpus/genai-dev [--db /tmp/snapshots.db]
    python bench/snapshot_storage.py --db DIR/policywatch.db      (reads only, e.g. after a full replay)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import tarfile
import tempfile
import time

import zstandard
from sqlalchemy import func, select

from store.db import make_engine, transaction
from store.models import Base, Snapshot
from store.snapshots import Fetched, put_snapshot, read_snapshot
from tests.factories import make_document


def blobs(corpus: str) -> dict[str, bytes]:
    """sha256 -> bytes for every blob of the corpus."""
    out: dict[str, bytes] = {}
    with open(os.path.join(corpus, "blobs.tar.zst"), "rb") as raw:
        reader = zstandard.ZstdDecompressor(max_window_size=2**31).stream_reader(raw)
        with tarfile.open(fileobj=reader, mode="r|") as tar:
            for member in tar:
                if member.isfile():
                    out[os.path.basename(member.name)] = tar.extractfile(member).read()
    return out


def deltas_walked(links: dict[int, int | None], snapshot_id: int) -> int:
    """How many deltas reading the snapshot ``snapshot_id`` decodes (``links``: id -> base id)."""
    walked = 0
    while links[snapshot_id] is not None:
        walked, snapshot_id = walked + 1, links[snapshot_id]
    return walked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "corpus", nargs="?", help="store this corpus's snapshots in a fresh database, then read"
    )
    parser.add_argument(
        "--db",
        default=os.path.join(tempfile.mkdtemp(), "snapshots.db"),
        help="the SQLite file; without a corpus, an existing database to read only",
    )
    args = parser.parse_args()
    engine = make_engine(f"sqlite:///{args.db}")
    if args.corpus:
        store_corpus(engine, args.corpus, args.db)
    measure_reads(engine)


def store_corpus(engine, corpus: str, path: str) -> None:
    """Store every snapshot of ``corpus`` in crawl order per source, and print what it took."""
    manifest = json.load(open(os.path.join(corpus, "manifest.json")))
    data = blobs(corpus)
    Base.metadata.create_all(engine)
    raw_bytes = stored = 0
    started = time.perf_counter()
    for n, doc in enumerate(manifest["documents"]):
        with transaction(engine) as session:
            source = make_document(session, slug=f"doc-{n}", urls=(doc["url"],)).sources[0]
            for snap in doc["snapshots"]:
                body = data[snap["blob"]]
                _, new = put_snapshot(session, source.id, Fetched(doc["url"], body, "text/html"))
                raw_bytes += len(body) if new else 0
                stored += new
    elapsed = time.perf_counter() - started
    engine.dispose()  # checkpoints the WAL into the file
    size = os.path.getsize(path)
    print(
        f"{stored} distinct snapshots, {raw_bytes / 1e6:.1f} MB raw -> {size / 1e6:.2f} MB SQLite file "
        f"(ratio {raw_bytes / size:.0f}:1), stored in {elapsed:.1f} s ({elapsed / stored * 1000:.1f} ms each)"
    )


def measure_reads(engine) -> None:
    """Check a sample reads back byte-exact, then time reading the oldest snapshot and the largest
    one with the longest chain of deltas (first read, and best of five)."""
    with transaction(engine) as session:
        rows = session.execute(select(Snapshot.id, Snapshot.base_id, Snapshot.size)).all()
        links, sizes = {row.id: row.base_id for row in rows}, {row.id: row.size for row in rows}
        stored = session.scalar(select(func.sum(func.length(Snapshot.data))))
        print(f"{len(rows)} snapshots, {stored / 1e6:.2f} MB of data")
        sample = random.Random(0).sample(sorted(links), min(200, len(links)))
        t0 = time.perf_counter()
        for snapshot_id in sample:
            snapshot = session.get(Snapshot, snapshot_id)
            assert hashlib.sha256(read_snapshot(session, snapshot)).hexdigest() == snapshot.sha256
        per_read = (time.perf_counter() - t0) / len(sample) * 1000
        print(f"{len(sample)} random snapshots read back byte-exact, {per_read:.2f} ms each")
        longest = max(links, key=lambda snapshot_id: (deltas_walked(links, snapshot_id), sizes[snapshot_id]))
        for name, snapshot_id in [("oldest snapshot", min(links)), ("longest chain (largest page)", longest)]:
            snapshot, times = session.get(Snapshot, snapshot_id), []
            for _ in range(5):
                t0 = time.perf_counter()
                read_snapshot(session, snapshot)
                times.append((time.perf_counter() - t0) * 1000)
            print(
                f"{name} ({snapshot.size / 1e3:.0f} KB) over {deltas_walked(links, snapshot_id)} deltas: "
                f"first read {times[0]:.2f} ms, best {min(times):.2f} ms"
            )


if __name__ == "__main__":
    main()
