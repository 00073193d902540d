"""Recording changes: one Change row for every version that has a parent and no change yet, and the
provision instances of every version that has none yet."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from changes.analysis import analyse
from changes.provisions import Catalog, Instance, catalog_for, touched
from changes.rules.whole import baseline, compared_with
from changes.taxonomy import taxonomy_for
from policywatch.settings import Settings
from policywatch.verdicts import Significance
from store.models import Change, CrawlRun, Document, ProvisionInstance, Version


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
    catalog = catalog_for(settings)
    provisions = touched(
        instances_of(session, base, catalog),
        instances_of(session, version, catalog),
        document.title,
        (base.text, version.text),
    )
    analysis = analyse(
        base.text,
        version.text,
        recent,
        title=document.title,
        taxonomy=taxonomy_for(settings),
        catalog=catalog,
        touched=provisions,
    )
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
        provisions=analysis.provisions,
    )


def instance_rows(version: Version, catalog: Catalog, found: dict[str, Instance]) -> list[ProvisionInstance]:
    """One row per catalog provision type for ``version``: present with its clauses, or absent."""
    rows = []
    for kind in catalog.types:
        instance = found.get(kind.id)
        rows.append(
            ProvisionInstance(
                version_id=version.id,
                provision=kind.id,
                present=instance is not None,
                heading=instance.heading if instance else None,
                path=list(instance.path) if instance else [],
                clauses=list(instance.clauses) if instance else [],
            )
        )
    return rows


def stored_instances(session: Session, version_id: int) -> dict[str, Instance] | None:
    """The provision instances recorded for a version (present ones, by id); None if none are."""
    rows = session.scalars(select(ProvisionInstance).where(ProvisionInstance.version_id == version_id)).all()
    if not rows:
        return None
    return {r.provision: _instance(r) for r in rows if r.present}


def _instance(row: ProvisionInstance) -> Instance:
    return Instance(row.provision, row.heading, tuple(row.path), tuple(row.clauses))


def instances_of(session: Session, version: Version, catalog: Catalog) -> dict[str, Instance]:
    """The provision instances of ``version``: those recorded, or found in its text and recorded now."""
    stored = stored_instances(session, version.id)
    if stored is not None:
        return stored
    found = catalog.find(version.text)
    try:
        with session.begin_nested():
            session.add_all(instance_rows(version, catalog, found))
    except IntegrityError:
        pass  # another writer recorded them first: they are the same derived rows
    return found


def record_provisions(session: Session, catalog: Catalog) -> int:
    """Record the provision instances of every version that has none yet; how many versions."""
    missing = ~exists().where(ProvisionInstance.version_id == Version.id)
    versions = list(session.scalars(select(Version).where(missing).order_by(Version.id)))
    for version in versions:
        instances_of(session, version, catalog)
    return len(versions)


def rebuild_provisions(session: Session, settings: Settings) -> tuple[int, int]:
    """Recompute every version's provision instances, and every change's provisions with the topics and
    regulations that follow from them, from the versions' texts (after the catalog changed); how many
    versions and changes were rebuilt. Summaries keep the topics they were written with."""
    catalog, taxonomy = catalog_for(settings), taxonomy_for(settings)
    session.execute(delete(ProvisionInstance))
    versions = record_provisions(session, catalog)
    changes = list(session.scalars(select(Change)))
    for change in changes:
        if not Significance(change.significance).at_least(Significance.MINOR):
            change.provisions = []
            continue
        change.provisions = touched(
            instances_of(session, change.from_version, catalog),
            instances_of(session, change.to_version, catalog),
            session.get_one(Document, change.document_id).title,
            (change.from_version.text, change.to_version.text),
        )
        topics = catalog.topics_of_change(taxonomy, change.provisions, list(change.topics or []))
        change.topics = [t.id for t in topics]
        regulations = {r for t in topics for r in t.regulations} | catalog.regulations_of(change.provisions)
        change.details = {
            **(change.details or {}),
            "topics": [t.as_dict() for t in topics],
            "regulations": sorted(regulations),
        }
    return versions, len(changes)


def record_changes(session: Session, settings: Settings) -> list[Change]:
    """Record the provision instances of new versions, then create the Change of every version that has
    a parent and none yet; the new changes.

    Idempotent, and safe when two processes run it: a change another writer recorded first (the
    unique ``to_version_id`` decides) is skipped.
    """
    record_provisions(session, catalog_for(settings))
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
