"""Cross-platform comparison: per platform, the current clauses that touch a topic and when each last changed.

A clause is a sentence of a document's latest version that matches one of the topic's patterns. It
last changed with the newest change tagged with the topic whose added or reworded sentences contain
it; a clause no change introduced has stood since the document's first version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from changes.outline import split_sentences
from changes.taxonomy import Topic
from store.models import Change, Document, Platform, Version
from store.queries.changes import has_topic

MARKUP = re.compile(r"^\s*(?:[-*+]\s+|\d+[.)]\s+|>\s*)")


@dataclass(frozen=True)
class Clause:
    """A matching sentence, the heading above it and when it last changed (with the change, if known)."""

    text: str
    heading: str
    since: datetime
    change_id: int | None


@dataclass
class DocumentClauses:
    """One document's matching clauses."""

    slug: str
    title: str
    terms_type: str
    seq: int
    clauses: list[Clause] = field(default_factory=list)


@dataclass
class PlatformClauses:
    """One platform's documents with matching clauses (documents without any are left out)."""

    slug: str
    name: str
    documents: list[DocumentClauses] = field(default_factory=list)


def compare_topic(session: Session, topic: Topic) -> list[PlatformClauses]:
    """Every platform, with the current clauses of its active documents that touch ``topic``."""
    latest = (
        select(Version.document_id, func.max(Version.seq).label("seq"))
        .group_by(Version.document_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Document.id,
            Document.slug,
            Document.title,
            Document.terms_type,
            Platform.slug.label("platform"),
            Platform.name.label("platform_name"),
            Version.seq,
            Version.text,
        )
        .join(Platform, Platform.id == Document.platform_id)
        .join(latest, latest.c.document_id == Document.id)
        .join(Version, and_(Version.document_id == Document.id, Version.seq == latest.c.seq))
        .where(Document.active.is_(True))
        .order_by(Platform.slug, Document.slug)
    ).all()
    ids = [row.id for row in rows]
    introduced = _topic_changes(session, topic, ids)
    first_seen = {
        document_id: at
        for document_id, at in session.execute(
            select(Version.document_id, Version.created_at).where(
                Version.document_id.in_(ids), Version.seq == 1
            )
        )
    }
    platforms: dict[str, PlatformClauses] = {}
    for row in rows:
        entry = platforms.setdefault(row.platform, PlatformClauses(row.platform, row.platform_name))
        document = DocumentClauses(row.slug, row.title, row.terms_type, row.seq)
        for heading, sentence in matching_sentences(row.text, topic):
            change_id, at = _last_change(sentence, introduced.get(row.id, []))
            document.clauses.append(Clause(sentence, heading, at or first_seen[row.id], change_id))
        if document.clauses:
            entry.documents.append(document)
    return list(platforms.values())


def matching_sentences(text: str, topic: Topic) -> list[tuple[str, str]]:
    """(heading, sentence) for each sentence of ``text`` that touches ``topic``."""
    found, heading = [], ""
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            heading = line.strip().lstrip("#").strip()
            continue
        for sentence in split_sentences(MARKUP.sub("", line).strip()):
            if sentence and topic.found_in(sentence):
                found.append((heading, sentence))
    return found


def _topic_changes(
    session: Session, topic: Topic, ids: list[int]
) -> dict[int, list[tuple[int, datetime, list[str]]]]:
    rows = session.execute(
        select(Change.document_id, Change.id, Change.detected_at, Change.details)
        .where(Change.document_id.in_(ids), has_topic(Change.topics, topic.id))
        .order_by(Change.detected_at.desc(), Change.id.desc())
    ).all()
    found: dict[int, list] = {}
    for document_id, change_id, at, details in rows:
        found.setdefault(document_id, []).append((change_id, at, _new_wording(details or {})))
    return found


def _new_wording(details: dict) -> list[str]:
    sentences = []
    for section in details.get("sections", []):
        sentences.extend(section.get("added", []))
        sentences.extend(item.get("after", "") for item in section.get("changed", []))
    return [_squash(s) for s in sentences if s]


def _last_change(
    sentence: str, changes: list[tuple[int, datetime, list[str]]]
) -> tuple[int | None, datetime | None]:
    clause = _squash(MARKUP.sub("", sentence))
    for change_id, at, wording in changes:
        if any(clause in added or (len(added) > 20 and added in clause) for added in wording):
            return change_id, at
    return None, None


def _squash(text: str) -> str:
    return " ".join(text.split()).lower()
