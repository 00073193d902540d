"""Content-addressed snapshots: raw bytes stored once per SHA-256, zstd-compressed.

Snapshots of one source are near-identical from crawl to crawl, so they are stored as *reverse
deltas*: the newest snapshot of a source is stored whole; when a newer one arrives, the previous
one is re-encoded as a zstd frame that uses the newer one's bytes as a raw-content dictionary
(``codec = "zstd-dict"``, ``base_id`` = the newer snapshot). Every ``GROUP``-th snapshot of a source
stays whole (a keyframe), so reading any snapshot walks at most ``GROUP - 1`` deltas. ``depth`` is
a snapshot's position in its group. A new snapshot is compressed fast (``FRESH``), since the next one
will re-encode it as a delta anyway; a keyframe is compressed hard (``WHOLE``) once it is settled.
Storing costs one decompression and two compressions.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import zstandard
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.models import Snapshot, utcnow

GROUP = 32
WHOLE = zstandard.ZstdCompressionParameters.from_level(6, window_log=24)
# Five times faster than WHOLE on real pages (2.7 ms against 13 ms for 680 KB), 15 % larger.
FRESH = zstandard.ZstdCompressionParameters.from_level(1, window_log=24)
# A large hash table finds the long matches against a whole-page dictionary (measured on real pages:
# ~3 KB a delta against ~11 KB with level defaults).
DELTA = zstandard.ZstdCompressionParameters.from_level(3, window_log=24, hash_log=19)


@dataclass(frozen=True)
class Fetched:
    """What a fetch returned, as the store needs it."""

    url: str
    body: bytes
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: datetime | None = None
    #: the body's content address when the caller has computed it already
    sha256: str | None = None


def sha256_hex(body: bytes) -> str:
    """The content address of ``body``."""
    return hashlib.sha256(body).hexdigest()


def put_snapshot(session: Session, source_id: int | None, fetched: Fetched) -> tuple[Snapshot, bool]:
    """The snapshot holding ``fetched.body``, and whether it was new; stores it once per content hash."""
    digest = fetched.sha256 or sha256_hex(fetched.body)
    existing = session.scalar(select(Snapshot).where(Snapshot.sha256 == digest))
    if existing is not None:
        return existing, False
    previous = _latest_of_source(session, source_id)
    snapshot = Snapshot(
        sha256=digest, source_id=source_id, url=fetched.url, content_type=fetched.content_type,
        etag=fetched.etag, last_modified=fetched.last_modified, size=len(fetched.body),
        fetched_at=fetched.fetched_at or utcnow(), codec="zstd", base_id=None,
        depth=(previous.depth + 1) % GROUP if previous is not None else 0,
        data=_compress(fetched.body, FRESH if source_id is not None else WHOLE),
    )
    try:
        with session.begin_nested():
            session.add(snapshot)
            session.flush()
            if previous is not None and previous.codec == "zstd":
                if previous.depth == GROUP - 1:
                    previous.data = _compress(read_snapshot(session, previous), WHOLE)
                else:
                    _encode_against(session, previous, snapshot, fetched.body)
    except IntegrityError:  # another crawler stored the same bytes first
        return session.scalars(select(Snapshot).where(Snapshot.sha256 == digest)).one(), False
    return snapshot, True


def _compress(body: bytes, parameters: zstandard.ZstdCompressionParameters) -> bytes:
    return zstandard.ZstdCompressor(compression_params=parameters).compress(body)


def _latest_of_source(session: Session, source_id: int | None) -> Snapshot | None:
    if source_id is None:
        return None
    return session.scalar(
        select(Snapshot).where(Snapshot.source_id == source_id).order_by(Snapshot.id.desc()).limit(1)
    )


def _encode_against(session: Session, older: Snapshot, newer: Snapshot, newer_body: bytes) -> None:
    """Re-encode ``older`` as a delta against ``newer``, whose bytes are ``newer_body``."""
    body = read_snapshot(session, older)
    older.data = zstandard.ZstdCompressor(compression_params=DELTA, dict_data=_dictionary(newer_body)).compress(body)
    older.codec, older.base_id = "zstd-dict", newer.id


def read_snapshot(session: Session, snapshot: Snapshot) -> bytes:
    """The exact bytes of ``snapshot``."""
    chain = [snapshot]
    while chain[-1].codec == "zstd-dict":
        chain.append(session.get(Snapshot, chain[-1].base_id))
    body = zstandard.ZstdDecompressor().decompress(chain.pop().data)
    for delta in reversed(chain):
        body = zstandard.ZstdDecompressor(dict_data=_dictionary(body)).decompress(delta.data)
    return body


def _dictionary(content: bytes) -> zstandard.ZstdCompressionDict:
    return zstandard.ZstdCompressionDict(content, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
