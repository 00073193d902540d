"""Content-addressed snapshots: raw bytes stored once per SHA-256, zstd-compressed.

A new snapshot of a source is compressed with that source's latest *keyframe* (a snapshot stored
whole) as a raw-content dictionary, so near-identical pages cost only their differences. Every
delta points straight at a keyframe (depth 1 at most), so reading any snapshot takes at most two
decompressions. A delta that grows past ``KEYFRAME_RATIO`` of a whole compression starts a new keyframe.
"""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import datetime

import zstandard
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.models import Snapshot, utcnow

LEVEL = 6
KEYFRAME_RATIO = 0.25


@dataclass(frozen=True)
class Fetched:
    """What a fetch returned, as the store needs it."""

    url: str
    body: bytes
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: datetime | None = None


def sha256_hex(body: bytes) -> str:
    """The content address of ``body``."""
    return hashlib.sha256(body).hexdigest()


def put_snapshot(session: Session, source_id: int | None, fetched: Fetched) -> tuple[Snapshot, bool]:
    """The snapshot holding ``fetched.body``, and whether it was new; stores it once per content hash."""
    digest = sha256_hex(fetched.body)
    existing = session.scalar(select(Snapshot).where(Snapshot.sha256 == digest))
    if existing is not None:
        return existing, False
    snapshot = Snapshot(
        sha256=digest, source_id=source_id, url=fetched.url, content_type=fetched.content_type,
        etag=fetched.etag, last_modified=fetched.last_modified, size=len(fetched.body),
        fetched_at=fetched.fetched_at or utcnow(),
    )
    _encode(session, snapshot, fetched.body)
    try:
        with session.begin_nested():
            session.add(snapshot)
    except IntegrityError:  # another crawler stored the same bytes first
        return session.scalars(select(Snapshot).where(Snapshot.sha256 == digest)).one(), False
    return snapshot, True


def _encode(session: Session, snapshot: Snapshot, body: bytes) -> None:
    whole = _compressor(None).compress(body)
    keyframe = _latest_keyframe(session, snapshot.source_id)
    if keyframe is not None:
        delta = _compressor(_decoded(keyframe.id, keyframe.data)).compress(body)
        if len(delta) <= KEYFRAME_RATIO * len(whole):
            snapshot.codec, snapshot.base_id, snapshot.depth, snapshot.data = "zstd-dict", keyframe.id, 1, delta
            return
    snapshot.codec, snapshot.base_id, snapshot.depth, snapshot.data = "zstd", None, 0, whole


def _latest_keyframe(session: Session, source_id: int | None) -> Snapshot | None:
    if source_id is None:
        return None
    return session.scalar(
        select(Snapshot)
        .where(Snapshot.source_id == source_id, Snapshot.depth == 0)
        .order_by(Snapshot.id.desc())
        .limit(1)
    )


def read_snapshot(session: Session, snapshot: Snapshot) -> bytes:
    """The exact bytes of ``snapshot``."""
    if snapshot.codec == "zstd":
        return _decoded(snapshot.id, snapshot.data)
    base = session.get(Snapshot, snapshot.base_id)
    dictionary = _decoded(base.id, base.data)
    return zstandard.ZstdDecompressor(dict_data=_dictionary(dictionary)).decompress(snapshot.data)


@functools.lru_cache(maxsize=16)
def _decoded(snapshot_id: int, data: bytes) -> bytes:
    return zstandard.ZstdDecompressor().decompress(data)


def _dictionary(content: bytes) -> zstandard.ZstdCompressionDict:
    return zstandard.ZstdCompressionDict(content, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def _compressor(dictionary: bytes | None) -> zstandard.ZstdCompressor:
    if dictionary is None:
        return zstandard.ZstdCompressor(level=LEVEL, write_content_size=True)
    return zstandard.ZstdCompressor(level=LEVEL, dict_data=_dictionary(dictionary), write_content_size=True)
