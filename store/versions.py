"""Recording versions of a document: only when its text changes, chained to the parent."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.chain import ChainProblem, chain_hash, check_chain, text_hash
from store.models import Document, Snapshot, Version, VersionSnapshot, utcnow


class VersionConflict(Exception):
    """Another writer recorded a version of the same document at the same position first."""


class EarlierThanRecorded(Exception):
    """A version would be dated before its document's latest one: history never goes backwards
    (the chain hash covers each version's time, so a version is never re-dated either)."""

    def __init__(self, slug: str, moment: datetime, latest: datetime) -> None:
        super().__init__(
            f"{slug}: {_when(moment)} is earlier than its latest version ({_when(latest)}); "
            "history never goes backwards"
        )


def refuse_earlier(session: Session, document_ids: Iterable[int], moment: datetime) -> None:
    """EarlierThanRecorded for the first document of ``document_ids`` (by slug) whose latest version
    is later than ``moment``."""
    latest = func.max(Version.created_at)
    row = session.execute(
        select(Document.slug, latest)
        .join(Version, Version.document_id == Document.id)
        .where(Document.id.in_(list(document_ids)))
        .group_by(Document.slug)
        .having(latest > moment)
        .order_by(Document.slug)
        .limit(1)
    ).first()
    if row is not None:
        raise EarlierThanRecorded(row[0], moment, row[1])


def latest_version(session: Session, document_id: int) -> Version | None:
    """The newest version of a document, or None before its first."""
    return session.scalar(
        select(Version).where(Version.document_id == document_id).order_by(Version.seq.desc()).limit(1)
    )


def latest_texts(session: Session, document_ids: Iterable[int] | Select) -> dict[int, str]:
    """The newest version's text of each document of ``document_ids`` (ids, or a select of them)."""
    ids = document_ids if isinstance(document_ids, Select) else list(document_ids)
    latest = (
        select(Version.document_id, func.max(Version.seq).label("seq"))
        .where(Version.document_id.in_(ids))
        .group_by(Version.document_id)
        .subquery()
    )
    rows = session.execute(
        select(Version.document_id, Version.text).join(
            latest, (Version.document_id == latest.c.document_id) & (Version.seq == latest.c.seq)
        )
    )
    return dict(rows.tuples().all())


def timestamp(moment: datetime) -> str:
    """The canonical text of a version time inside the chain hash."""
    return moment.isoformat(timespec="microseconds")


def record_version(
    session: Session,
    document: Document,
    text: str,
    snapshots: Sequence[tuple[int | None, Snapshot]],
    crawl_run_id: int | None = None,
    created_at: datetime | None = None,
) -> Version | None:
    """A new version of ``document`` with ``text`` built from ``snapshots`` ((source id, snapshot) in
    order), dated ``created_at`` (default now), or None when the text equals the latest version's.
    Raises VersionConflict when another writer took the same chain position (the schema's unique
    keys decide), EarlierThanRecorded when ``created_at`` is before the latest version's."""
    parent = latest_version(session, document.id)
    digest = text_hash(text)
    if parent is not None and parent.text_sha256 == digest:
        return None
    moment = created_at or utcnow()
    if parent is not None and moment < parent.created_at:
        raise EarlierThanRecorded(document.slug, moment, parent.created_at)
    seq = parent.seq + 1 if parent else 1
    version = Version(
        document_id=document.id,
        seq=seq,
        parent_id=parent.id if parent else None,
        text=text,
        text_sha256=digest,
        created_at=moment,
        crawl_run_id=crawl_run_id,
        chain_hash=chain_hash(
            parent.chain_hash if parent else None,
            document.slug,
            seq,
            timestamp(moment),
            digest,
            [snap.sha256 for _, snap in snapshots],
        ),
    )
    version.snapshot_links = [
        VersionSnapshot(position=i, snapshot_id=snap.id, source_id=source_id)
        for i, (source_id, snap) in enumerate(snapshots)
    ]
    try:
        with session.begin_nested():
            session.add(version)
    except IntegrityError as exc:
        raise VersionConflict(f"{document.slug}: version {seq} was recorded by another writer") from exc
    return version


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def chain_records(session: Session, document_id: int, with_text: bool = True) -> list[dict]:
    """A document's versions as plain records for ``store.chain.check_chain`` and audit exports."""
    versions = session.scalars(
        select(Version).where(Version.document_id == document_id).order_by(Version.seq)
    ).all()
    links = session.execute(
        select(VersionSnapshot.version_id, Snapshot.sha256)
        .join(Snapshot, Snapshot.id == VersionSnapshot.snapshot_id)
        .join(Version, Version.id == VersionSnapshot.version_id)
        .where(Version.document_id == document_id)
        .order_by(VersionSnapshot.version_id, VersionSnapshot.position)
    ).all()
    by_version: dict[int, list[str]] = {}
    for version_id, sha in links:
        by_version.setdefault(version_id, []).append(sha)
    return [
        {
            "seq": v.seq,
            "created_at": timestamp(v.created_at),
            "text_sha256": v.text_sha256,
            "snapshots": by_version.get(v.id, []),
            "chain_hash": v.chain_hash,
            **({"text": v.text} if with_text else {}),
        }
        for v in versions
    ]


def verify_all(
    session: Session, progress: Callable[[int, int], None] | None = None
) -> tuple[int, list[ChainProblem]]:
    """Check every document's chain: (versions checked, problems found); ``progress`` is told
    (documents checked, documents) after each document."""
    checked, problems = 0, []
    documents = session.scalars(select(Document).order_by(Document.slug)).all()
    for done, document in enumerate(documents, start=1):
        records = chain_records(session, document.id)
        checked += len(records)
        problems.extend(check_chain(document.slug, records))
        if progress:
            progress(done, len(documents))
    return checked, problems
