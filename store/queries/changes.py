"""Read side of versions and changes: filtered, paged queries that never load text they do not show."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, Text, and_, bindparam, cast, func, or_, select
from sqlalchemy.orm import Session, aliased

from policywatch.verdicts import Significance
from store.models import Change, Document, Platform, Snapshot, Version, VersionSnapshot

FROM, TO = aliased(Version), aliased(Version)
Remember = Callable[[tuple, Callable[[], Any]], Any]


def count_now(key: tuple, count: Callable[[], Any]) -> Any:
    """The ``Remember`` that remembers nothing: ``count()`` now."""
    return count()


def at_least(significance: str | None) -> list[str]:
    """The significances at or above ``significance`` (all of them for None)."""
    return list(Significance.at_or_above(significance or Significance.COSMETIC))


def has_topic(column, topic: str) -> ColumnElement[bool]:
    """Whether a JSON list column of topic ids holds ``topic`` (portable: matches its quoted JSON form)."""
    escaped = topic.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace('"', '\\"')
    return cast(column, Text).like(f'%"{escaped}"%', escape="\\")


@dataclass(frozen=True)
class ChangeFilter:
    """What ``changes list``, the change pages, the API and the feeds filter changes by."""

    platform: str | None = None
    document: str | None = None
    topic: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    min_significance: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The WHERE clauses of this filter over Change, Document and Platform."""
        found: list[ColumnElement[bool]] = []
        if self.platform:
            found.append(Platform.slug == self.platform)
        if self.document:
            found.append(Document.slug == self.document)
        if self.topic:
            found.append(has_topic(Change.topics, self.topic))
        if self.since:
            found.append(Change.detected_at >= self.since)
        if self.until:
            found.append(Change.detected_at < self.until)
        if self.min_significance:
            found.append(Change.significance.in_(at_least(self.min_significance)))
        return found


#: What a change list shows of each change (pages and feeds); the API adds its reasons.
CHANGE_COLUMNS = (
    Change.id,
    Change.detected_at,
    Change.significance,
    Change.summary,
    Change.topics,
    Change.provisions,
    Document.slug.label("document"),
    Document.title.label("document_title"),
    Document.terms_type,
    Platform.slug.label("platform"),
    Platform.name.label("platform_name"),
    FROM.seq.label("from_seq"),
    TO.seq.label("to_seq"),
    TO.created_at.label("version_created_at"),
    TO.chain_hash.label("chain_hash"),
)


#: A change list's columns with each change's reasons, as the API gives them.
CHANGE_COLUMNS_AND_REASONS = (*CHANGE_COLUMNS, Change.reasons)


def _changes_select(*columns) -> Select:
    return (
        select(*columns)
        .select_from(Change)
        .join(Document, Document.id == Change.document_id)
        .join(Platform, Platform.id == Document.platform_id)
        .join(FROM, FROM.id == Change.from_version_id)
        .join(TO, TO.id == Change.to_version_id)
    )


def list_changes(
    session: Session,
    where: ChangeFilter,
    limit: int,
    offset: int,
    remember: Remember = count_now,
    columns: tuple = CHANGE_COLUMNS,
) -> tuple[Sequence[Row], int]:
    """One page of changes, newest first (``columns`` of each), and how many match in all (through
    ``remember``, which may answer a count from an earlier request while the history is unchanged).
    The page's ids are picked first, so only its rows are joined to their versions (not every row an
    offset skips)."""
    conditions = where.conditions()
    matching = select(Change.id).where(*conditions)
    if where.platform or where.document:
        matching = matching.join(Document, Document.id == Change.document_id).join(
            Platform, Platform.id == Document.platform_id
        )
    newest = (Change.detected_at.desc(), Change.id.desc())
    page = matching.order_by(*newest).limit(limit).offset(offset).subquery()
    rows = session.execute(
        _changes_select(*columns).join(page, page.c.id == Change.id).order_by(*newest)
    ).all()
    total = remember(
        ("changes", where), lambda: session.scalar(select(func.count()).select_from(matching.subquery()))
    )
    return rows, total


def get_change(session: Session, change_id: int):
    """One change with its document, platform and version positions, and its details; None if absent."""
    return session.execute(
        _changes_select(
            *CHANGE_COLUMNS_AND_REASONS,
            Change.details,
            Change.document_id,
            Change.from_version_id,
            Change.to_version_id,
        ).where(Change.id == change_id)
    ).one_or_none()


# The statements of the document and diff pages, built once with bound parameters: building one
# per request and computing its cache key costs SQLAlchemy more than running it.
_TIMELINE = (
    select(
        Version.id,
        Version.seq,
        Version.created_at,
        Version.text_sha256,
        Version.chain_hash,
        Change.id.label("change_id"),
        Change.significance,
        Change.summary,
        Change.topics,
    )
    .outerjoin(Change, Change.to_version_id == Version.id)
    .where(Version.document_id == bindparam("document"))
    .order_by(Version.seq.desc())
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
_TIMELINE_WITHOUT_COSMETIC = _TIMELINE.where(or_(Change.id.is_(None), Change.significance != "cosmetic"))
_TIMELINE_COUNTS = (
    select(func.count(), func.count().filter(Change.significance == "cosmetic"))
    .select_from(Version)
    .outerjoin(Change, Change.to_version_id == Version.id)
    .where(Version.document_id == bindparam("document"))
)
_VERSIONS = select(Version).where(Version.document_id == bindparam("document"))
_LATEST_VERSION = _VERSIONS.order_by(Version.seq.desc()).limit(1)
_VERSION_AT = _VERSIONS.where(Version.seq == bindparam("seq"))
_VERSIONS_AT = _VERSIONS.where(Version.seq.in_(bindparam("seqs", expanding=True)))
_CHANGE_OF_VERSION = select(Change).where(Change.to_version_id == bindparam("version"))


def document_versions(
    session: Session,
    document_id: int,
    cosmetic: bool,
    limit: int,
    offset: int,
    remember: Remember = count_now,
) -> tuple[Sequence[Row], int, int]:
    """One page of a document's version timeline, newest first, without texts; cosmetic ones only if
    asked. Also how many versions that timeline holds, and how many cosmetic ones it hides (counted
    through ``remember``, as ``list_changes`` does)."""
    timeline = _TIMELINE if cosmetic else _TIMELINE_WITHOUT_COSMETIC
    rows = session.execute(timeline, {"document": document_id, "limit": limit, "offset": offset}).all()
    every, cosmetics = remember(
        ("versions", document_id),
        lambda: tuple(session.execute(_TIMELINE_COUNTS, {"document": document_id}).one()),
    )
    return rows, every if cosmetic else every - cosmetics, 0 if cosmetic else cosmetics


def version_at(session: Session, document_id: int, seq: int | None) -> Version | None:
    """A document's version at position ``seq``, or its latest for None."""
    if seq is None:
        return session.scalar(_LATEST_VERSION, {"document": document_id})
    return session.scalar(_VERSION_AT, {"document": document_id, "seq": seq})


def versions_at(session: Session, document_id: int, seqs: list[int]) -> dict[int, Version]:
    """A document's versions at positions ``seqs`` (one query), by position; absent ones left out."""
    return {v.seq: v for v in session.scalars(_VERSIONS_AT, {"document": document_id, "seqs": seqs})}


def change_of_version(session: Session, version_id: int) -> Change | None:
    """The change that introduced a version (None for a first version)."""
    return session.scalar(_CHANGE_OF_VERSION, {"version": version_id})


def significance_by_month(session: Session, where: ChangeFilter) -> dict[str, dict[str, int]]:
    """Change counts per month ("YYYY-MM") and significance, for the governance timeline."""
    month = _month(session, Change.detected_at)
    rows = session.execute(
        _changes_select(month.label("month"), Change.significance, func.count())
        .where(*where.conditions())
        .group_by(month, Change.significance)
    ).all()
    months: dict[str, dict[str, int]] = {}
    for label, significance, count in rows:
        months.setdefault(label, dict.fromkeys(Significance.values(), 0))[significance] = count
    return dict(sorted(months.items()))


def _month(session: Session, column):
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m", column)
    return func.to_char(func.timezone("UTC", column), "YYYY-MM")


def change_counts(session: Session, group, where: ChangeFilter = ChangeFilter()) -> dict:
    """Counts of changes per ``group`` column value and significance, plus the latest detection time."""
    rows = session.execute(
        _changes_select(group, Change.significance, func.count(), func.max(Change.detected_at))
        .where(*where.conditions())
        .group_by(group, Change.significance)
    ).all()
    counts: dict = {}
    for key, significance, count, latest in rows:
        entry = counts.setdefault(
            key, {"counts": dict.fromkeys(Significance.values(), 0), "last_change_at": None}
        )
        entry["counts"][significance] = count
        entry["last_change_at"] = max(filter(None, [entry["last_change_at"], latest]))
    return counts


def latest_changes(session: Session, document_ids: list[int]) -> dict[int, tuple]:
    """The newest change of each document in ``document_ids``: id, time, significance, summary."""
    newest = (
        select(Change.document_id, func.max(Change.detected_at).label("at"))
        .where(Change.document_id.in_(document_ids))
        .group_by(Change.document_id)
        .subquery()
    )
    rows = session.execute(
        select(Change.document_id, Change.id, Change.detected_at, Change.significance, Change.summary)
        .join(newest, and_(newest.c.document_id == Change.document_id, newest.c.at == Change.detected_at))
        .order_by(Change.id)
    ).all()
    return {row.document_id: row for row in rows}


def version_snapshots(session: Session, version_id: int) -> Sequence[Row]:
    """The snapshots a version was extracted from, in order: position, sha256, url."""
    return session.execute(
        select(VersionSnapshot.position, Snapshot.sha256, Snapshot.url)
        .join(Snapshot, Snapshot.id == VersionSnapshot.snapshot_id)
        .where(VersionSnapshot.version_id == version_id)
        .order_by(VersionSnapshot.position)
    ).all()
