"""Read side of provisions: the instances in each document's latest version, and one provision's changes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Row, Text, cast, func, select
from sqlalchemy.orm import Session, aliased

from store.models import Change, Document, Platform, ProvisionInstance, ProvisionNote, Version
from store.queries.changes import has_topic

FROM, TO = aliased(Version), aliased(Version)
BEFORE, AFTER = aliased(ProvisionInstance), aliased(ProvisionInstance)


def latest_instances(
    session: Session, document: str | None = None, platform: str | None = None
) -> Sequence[Row]:
    """The provision instances recorded for the latest version of each document (``document`` and
    ``platform`` slugs narrow them) with the document's title, by platform, document and catalog order
    of recording."""
    latest = select(Version.document_id, func.max(Version.seq).label("seq")).group_by(Version.document_id)
    latest_sq = latest.subquery()
    query = (
        select(
            Platform.slug.label("platform"),
            Document.slug.label("document"),
            Document.title.label("document_title"),
            Version.seq,
            Version.created_at,
            ProvisionInstance.provision,
            ProvisionInstance.present,
            ProvisionInstance.heading,
            ProvisionInstance.clauses,
        )
        .select_from(Version)
        .join(latest_sq, (latest_sq.c.document_id == Version.document_id) & (latest_sq.c.seq == Version.seq))
        .join(Document, Document.id == Version.document_id)
        .join(Platform, Platform.id == Document.platform_id)
        .join(ProvisionInstance, ProvisionInstance.version_id == Version.id)
        .order_by(Platform.slug, Document.slug)
    )
    if document:
        query = query.where(Document.slug == document)
    if platform:
        query = query.where(Platform.slug == platform)
    return session.execute(query).all()


def provision_changes(session: Session, provision: str, platform: str | None = None) -> Sequence[Row]:
    """Every change that touches ``provision`` (oldest first), with its clauses before and after."""
    query = (
        select(
            Change.id,
            Change.detected_at,
            Change.significance,
            Platform.slug.label("platform"),
            Document.slug.label("document"),
            FROM.seq.label("from_seq"),
            TO.seq.label("to_seq"),
            BEFORE.clauses.label("before"),
            AFTER.clauses.label("after"),
        )
        .select_from(Change)
        .join(Document, Document.id == Change.document_id)
        .join(Platform, Platform.id == Document.platform_id)
        .join(FROM, FROM.id == Change.from_version_id)
        .join(TO, TO.id == Change.to_version_id)
        .outerjoin(BEFORE, (BEFORE.version_id == FROM.id) & (BEFORE.provision == provision))
        .outerjoin(AFTER, (AFTER.version_id == TO.id) & (AFTER.provision == provision))
        .where(has_topic(Change.provisions, provision))
        .order_by(Change.detected_at, Change.id)
    )
    if platform:
        query = query.where(Platform.slug == platform)
    return session.execute(query).all()


def provision_versions(session: Session, provision: str, platform: str | None = None) -> Sequence[Row]:
    """The versions at which ``provision``'s clauses changed in each document (by platform, document and
    version): the first recorded version that states it, then every version whose recorded clauses
    differ from the previous version's (it appeared, was reworded, or disappeared), each with the
    clauses and heading before it, and the change that recorded it (if any)."""
    text = cast(ProvisionInstance.clauses, Text)
    clauses, heading = ProvisionInstance.clauses, ProvisionInstance.heading

    timeline = (
        select(
            Platform.slug.label("platform"),
            Platform.name.label("platform_name"),
            Document.slug.label("document"),
            Document.title.label("document_title"),
            Version.id.label("version_id"),
            Version.seq,
            Version.created_at,
            ProvisionInstance.present,
            heading,
            clauses,
            text.label("text"),
            _previous(text).label("before_text"),
            _previous(clauses).label("before"),
            _previous(heading).label("before_heading"),
        )
        .join(ProvisionInstance, ProvisionInstance.version_id == Version.id)
        .join(Document, Document.id == Version.document_id)
        .join(Platform, Platform.id == Document.platform_id)
        .where(ProvisionInstance.provision == provision)
    )
    if platform:
        timeline = timeline.where(Platform.slug == platform)
    versions = timeline.subquery()
    query = (
        select(versions, Change.id.label("change"), Change.significance)
        .outerjoin(Change, Change.to_version_id == versions.c.version_id)
        .where(
            (versions.c.before_text.is_(None) & versions.c.present)
            | (versions.c.before_text != versions.c.text)
        )
        .order_by(versions.c.platform, versions.c.document, versions.c.seq)
    )
    return session.execute(query).all()


def _previous(column):
    """``column`` of the document's version before (by ``seq``)."""
    return func.lag(column, type_=column.type).over(partition_by=Version.document_id, order_by=Version.seq)


def last_changes(session: Session, provision: str) -> dict[str, datetime]:
    """document slug -> when a change last touched ``provision`` there."""
    rows = session.execute(
        select(Document.slug, func.max(Change.detected_at))
        .join(Document, Document.id == Change.document_id)
        .where(has_topic(Change.provisions, provision))
        .group_by(Document.slug)
    )
    return {slug: moment for slug, moment in rows}


def platform_names(session: Session) -> dict[str, str]:
    """platform slug -> name, for every platform."""
    return {slug: name for slug, name in session.execute(select(Platform.slug, Platform.name))}


def provision_events(session: Session, platform: str, limit: int = 50) -> list[dict]:
    """The latest changes on ``platform`` that touch provisions (newest first), each with its document
    and, per provision, whether the versions before and after state it."""
    rows = session.execute(
        select(
            Change.id,
            Change.detected_at,
            Change.provisions,
            Change.from_version_id,
            Change.to_version_id,
            Document.slug.label("document"),
            Document.title.label("document_title"),
        )
        .join(Document, Document.id == Change.document_id)
        .join(Platform, Platform.id == Document.platform_id)
        .where(Platform.slug == platform, cast(Change.provisions, Text) != "[]")
        .order_by(Change.detected_at.desc(), Change.id.desc())
        .limit(limit)
    ).all()
    versions = {v for r in rows for v in (r.from_version_id, r.to_version_id)}
    present = select(ProvisionInstance.version_id, ProvisionInstance.provision).where(
        ProvisionInstance.version_id.in_(versions), ProvisionInstance.present.is_(True)
    )
    stated = {(version, provision) for version, provision in session.execute(present)}
    return [
        {
            "change": r.id,
            "detected_at": r.detected_at,
            "document": r.document,
            "document_title": r.document_title,
            "provisions": [
                (p, (r.from_version_id, p) in stated, (r.to_version_id, p) in stated)
                for p in r.provisions or []
            ],
        }
        for r in rows
    ]


def note_keys(session: Session) -> set[tuple[str, str]]:
    """(provision, text SHA-256) of every machine-written note kept."""
    return {(p, d) for p, d in session.execute(select(ProvisionNote.provision, ProvisionNote.text_sha256))}


def notes_for(session: Session, provision: str, digests: Iterable[str]) -> dict[str, ProvisionNote]:
    """text SHA-256 -> the machine-written note kept on that text of ``provision``."""
    rows = session.scalars(
        select(ProvisionNote).where(
            ProvisionNote.provision == provision, ProvisionNote.text_sha256.in_(set(digests))
        )
    )
    return {row.text_sha256: row for row in rows}


def notes_on(session: Session, keys: set[tuple[str, str]]) -> dict[tuple[str, str], ProvisionNote]:
    """(provision, text SHA-256) -> the machine-written note kept on it, for those of ``keys`` noted."""
    rows = session.scalars(
        select(ProvisionNote).where(ProvisionNote.text_sha256.in_({digest for _, digest in keys}))
    )
    return {key: row for row in rows if (key := (row.provision, row.text_sha256)) in keys}
