"""Recording changes: one Change row for every version that has a parent and no change yet."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from changes.analysis import analyse
from changes.rules.whole import baseline, compared_with
from changes.taxonomy import taxonomy_for
from policywatch.settings import Settings
from store.models import Change, CrawlRun, Document, Version


def pending_versions(session: Session) -> list[Version]:
    """Versions with a parent and no Change yet, oldest first within each document."""
    done = select(Change.to_version_id)
    return list(
        session.scalars(
            select(Version)
            .where(Version.parent_id.is_not(None), Version.id.not_in(done))
            .order_by(Version.document_id, Version.seq)
        )
    )


def window_start(session: Session, moment: datetime, window: int) -> datetime | None:
    """Start of the oldest of the last ``window`` crawl runs up to ``moment`` (None: all are inside)."""
    return session.scalar(
        select(CrawlRun.started_at)
        .where(CrawlRun.started_at <= moment)
        .order_by(CrawlRun.started_at.desc())
        .offset(window)
        .limit(1)
    )


def earlier_versions(session: Session, version: Version, depth: int) -> list[Version]:
    """The (at most ``depth``) versions before ``version``'s parent that flapping looks at, oldest first."""
    return list(
        session.scalars(
            select(Version)
            .where(
                Version.document_id == version.document_id,
                Version.seq < version.seq - 1,
                Version.seq >= version.seq - 1 - depth,
            )
            .order_by(Version.seq)
        )
    )


def recent_texts(session: Session, version: Version, earlier: list[Version], window: int) -> list[str]:
    """Texts of ``earlier`` versions whose state ended inside the flapping window, oldest first."""
    start = window_start(session, version.created_at, window)
    parent = version.parent
    assert parent is not None, "a pending version has a parent"
    ends = [v.created_at for v in earlier[1:]] + [parent.created_at]
    return [v.text for v, ended in zip(earlier, ends) if start is None or ended >= start]


def change_for(session: Session, version: Version, settings: Settings) -> Change:
    """The Change of ``version`` against its parent (not yet added to the session); ``settings``
    bound the flapping look-back and name the taxonomy."""
    document = session.get_one(Document, version.document_id)
    earlier = earlier_versions(session, version, settings.flapping_versions)
    base = baseline(version.text, cast(Version, version.parent), earlier)  # pending versions have one
    recent = recent_texts(session, version, earlier, settings.flapping_window)
    analysis = analyse(base.text, version.text, recent, title=document.title, taxonomy=taxonomy_for(settings))
    if base is not version.parent:
        analysis.reasons.append(compared_with(base))
    return Change(
        document_id=version.document_id,
        from_version_id=version.parent_id,
        to_version_id=version.id,
        detected_at=version.created_at,
        significance=analysis.significance,
        reasons=analysis.reasons,
        topics=analysis.topics,
        summary=analysis.summary,
        details=analysis.details,
    )


def record_changes(session: Session, settings: Settings) -> list[Change]:
    """Create the Change of every version that has a parent and none yet; the new changes.

    Idempotent, and safe when two processes run it: a change another writer recorded first (the
    unique ``to_version_id`` decides) is skipped.
    """
    created = []
    for version in pending_versions(session):
        change = change_for(session, version, settings)
        try:
            with session.begin_nested():
                session.add(change)
        except IntegrityError:
            continue
        created.append(change)
    return created
