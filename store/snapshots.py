"""Content-addressed snapshots: raw bytes stored once per SHA-256, zstd-compressed.

Snapshots of one source are near-identical from crawl to crawl, so most are stored as *forward
skip deltas*, and nothing stored is ever rewritten. A source's snapshots form groups of ``GROUP``;
``depth`` is a snapshot's position in its group. Position 0, the keyframe, is stored whole
(``codec = "zstd"``). Position ``p`` is a zstd frame whose dictionary is the decoded bytes of the
group's snapshot at ``skip_base(p)``: ``p`` with its lowest non-zero base-``FANOUT`` digit cleared
(``codec = "zstd-dict"``, ``base_id``). Three deltas in four are against a snapshot at most three
crawls older, so deltas stay small, and reading any snapshot decodes at most one delta per digit
(4). Storing one reads the newest snapshot's chain in one statement, decodes at most four frames
and compresses once; a delta larger than ``MAX_DELTA_SHARE`` of the keyframe (a redesigned page)
starts a new group instead. Deltas all against the keyframe would grow: pages drift away from
their keyframe.

Older databases hold *reverse* deltas (each snapshot encoded against the next newer one, the newest
whole). Reads follow ``base_id`` whatever its direction; a source's newest snapshot of that kind is
the base of the next one when its depth fits the pattern, else the next one starts a new group.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import zstandard
from sqlalchemy import Row, bindparam, func, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.models import Snapshot, utcnow

GROUP = 256
FANOUT = 4
#: A delta larger than this share of its group's keyframe starts a new group.
MAX_DELTA_SHARE = 0.25
WHOLE = zstandard.ZstdCompressionParameters.from_level(6, window_log=24)
# A large hash table finds the long matches against a whole-page dictionary, so the fastest level
# makes deltas as small as slower ones.
DELTA = zstandard.ZstdCompressionParameters.from_level(1, window_log=24, hash_log=19)


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
    snapshot = Snapshot(
        sha256=digest,
        source_id=source_id,
        url=fetched.url,
        content_type=fetched.content_type,
        etag=fetched.etag,
        last_modified=fetched.last_modified,
        size=len(fetched.body),
        fetched_at=fetched.fetched_at or utcnow(),
    )
    _encode(snapshot, fetched.body, _latest_chain(session, source_id) if source_id is not None else [])
    try:
        with session.begin_nested():
            session.add(snapshot)
    except IntegrityError:  # another crawler stored the same bytes first
        return session.scalars(select(Snapshot).where(Snapshot.sha256 == digest)).one(), False
    return snapshot, True


def skip_base(position: int) -> int:
    """The group position whose snapshot the one at ``position`` is a delta against."""
    digit = 1
    while position % (digit * FANOUT) == 0:
        digit *= FANOUT
    return position - position % (digit * FANOUT)


def _encode(snapshot: Snapshot, body: bytes, chain: list[Row]) -> None:
    """Set ``snapshot``'s data, codec, base and depth: a delta when its source's ``chain`` (the
    newest snapshot and those it decodes from, newest first) holds its base, else a keyframe."""
    position = chain[0].depth + 1 if chain else GROUP
    wanted = skip_base(position) if position < GROUP else None
    for index, row in enumerate(chain):
        if row.depth == wanted:
            delta = _compress(body, DELTA, _dictionary(_decode(chain[index:])))
            if len(delta) <= MAX_DELTA_SHARE * len(chain[-1].data):
                snapshot.data, snapshot.codec, snapshot.base_id, snapshot.depth = (
                    delta,
                    "zstd-dict",
                    row.id,
                    position,
                )
                return
            break
    snapshot.data, snapshot.codec, snapshot.base_id, snapshot.depth = _compress(body, WHOLE), "zstd", None, 0


def _compress(
    body: bytes,
    parameters: zstandard.ZstdCompressionParameters,
    dictionary: zstandard.ZstdCompressionDict | None = None,
) -> bytes:
    return zstandard.ZstdCompressor(compression_params=parameters, dict_data=dictionary).compress(body)


def _latest_chain(session: Session, source_id: int) -> list[Row]:
    """The source's newest snapshot and every snapshot its bytes decode from, in decoding order."""
    return list(session.execute(_LATEST_CHAIN, {"source_id": source_id}))


def _chain_statement(start):
    """The snapshot matching ``start`` and those it decodes from, in decoding order, in one statement."""
    columns = (Snapshot.id, Snapshot.depth, Snapshot.codec, Snapshot.base_id, Snapshot.data)
    links = select(*columns, literal(0).label("step")).where(start).cte("links", recursive=True)
    links = links.union_all(
        select(*columns, links.c.step + 1).join(
            links, (Snapshot.id == links.c.base_id) & (links.c.codec == "zstd-dict")
        )
    )
    return select(links).order_by(links.c.step)


# Built once: making these constructs costs more than running them.
_LATEST_CHAIN = _chain_statement(
    Snapshot.id
    == select(func.max(Snapshot.id)).where(Snapshot.source_id == bindparam("source_id")).scalar_subquery()
)
_CHAIN = _chain_statement(Snapshot.id == bindparam("snapshot_id"))


def _decode(chain: Sequence[Row | Snapshot]) -> bytes:
    """The bytes of ``chain[0]``, given the snapshots it decodes from in order: each frame's bytes are
    the next one's dictionary, a chain zstandard decodes in C."""
    return zstandard.ZstdDecompressor().decompress_content_dict_chain([link.data for link in reversed(chain)])


def read_snapshot(session: Session, snapshot: Snapshot) -> bytes:
    """The exact bytes of ``snapshot``."""
    if snapshot.codec != "zstd-dict":
        return _decode([snapshot])
    return _decode([snapshot, *session.execute(_CHAIN, {"snapshot_id": snapshot.base_id})])


def _dictionary(content: bytes) -> zstandard.ZstdCompressionDict:
    return zstandard.ZstdCompressionDict(content, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
