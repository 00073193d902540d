"""The JSON API under /api: the pages' data, paged, described by the OpenAPI schema at /openapi.json."""

from __future__ import annotations

from datetime import date, datetime
from typing import Generic, Literal, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from changes.redline import compare_texts, inline_segments
from policywatch.verdicts import Significance
from store.queries import changes as change_queries
from store.queries import documents as document_queries
from store.queries.announcements import list_posts
from store.queries.provisions import latest_instances
from store.queries.search import SearchQuery, search_versions
from web.deps import (
    MAX_ID,
    Paging,
    RowId,
    Seq,
    day_end,
    day_start,
    get_session,
    paging,
    search_paging,
    topic_index,
)
from web.rendering.snippets import highlighted
from web.rendering.topic_comparison import compare_topic

router = APIRouter(prefix="/api", tags=["api"])
Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    """One page of a list: the items, how many match in all, and the offset of the next page (None at
    the end)."""

    items: list[Item]
    total: int
    limit: int
    offset: int
    next_offset: int | None


def paged(items: list, total: int, paging_: Paging) -> dict:
    return {
        "items": items,
        "total": total,
        "limit": paging_.limit,
        "offset": paging_.offset,
        "next_offset": paging_.next_offset(total),
    }


class PlatformOut(BaseModel):
    slug: str
    name: str
    documents: int


class DocumentOut(BaseModel):
    slug: str
    title: str
    terms_type: str
    active: bool
    platform: str
    versions: int
    last_version_at: datetime | None


class VersionOut(BaseModel):
    seq: int
    created_at: datetime
    text_sha256: str
    chain_hash: str
    change_id: int | None
    significance: Significance | None


class VersionText(VersionOut):
    document: str
    text: str


class ChangeOut(BaseModel):
    id: int
    detected_at: datetime
    significance: Significance
    summary: str
    topics: list[str]
    provisions: list[str]
    reasons: list[str]
    document: str
    platform: str
    from_seq: int
    to_seq: int
    chain_hash: str = Field(
        description="The document's chain head after this change: its new version's hash."
    )


class ChangeDetail(ChangeOut):
    details: dict


class SearchHit(BaseModel):
    document: str
    platform: str
    terms_type: str
    seq: int
    created_at: datetime
    change_id: int | None
    significance: Significance | None
    snippet_html: str


class Segment(BaseModel):
    op: Literal["equal", "insert", "delete"]
    text: str


class DiffOut(BaseModel):
    document: str
    from_seq: int
    to_seq: int
    added_words: int
    removed_words: int
    segments: list[Segment]


class ProvisionNoteOut(BaseModel):
    """A note written by a language model on the provision's clauses, not reviewed by a person."""

    text: str
    model: str
    written_at: datetime
    machine_written: Literal[True] = True


class ProvisionOut(BaseModel):
    document: str
    platform: str
    provision: str
    present: bool
    heading: str | None
    text: str
    version: int
    note: ProvisionNoteOut | None = Field(
        None, description="The machine-written note kept on these clauses; null when none is."
    )


class TopicOut(BaseModel):
    id: str
    label: str
    regulations: list[str]


class ClauseOut(BaseModel):
    document: str
    terms_type: str
    heading: str
    text: str
    since: datetime
    change_id: int | None


class CompareOut(BaseModel):
    platform: str
    name: str
    clauses: list[ClauseOut]


def _version(row) -> dict:
    return {
        "seq": row.seq,
        "created_at": row.created_at,
        "text_sha256": row.text_sha256,
        "chain_hash": row.chain_hash,
        "change_id": row.change_id,
        "significance": row.significance,
    }


def _change(row) -> dict:
    return {
        "id": row.id,
        "detected_at": row.detected_at,
        "significance": row.significance,
        "summary": row.summary,
        "topics": row.topics or [],
        "provisions": row.provisions or [],
        "reasons": row.reasons or [],
        "document": row.document,
        "platform": row.platform,
        "from_seq": row.from_seq,
        "to_seq": row.to_seq,
        "chain_hash": row.chain_hash,
    }


def _document(session: Session, slug: str):
    document = document_queries.get_document(session, slug)
    if document is None:
        raise HTTPException(404, f"no document {slug!r}")
    return document


@router.get("/platforms", response_model=Page[PlatformOut])
def platforms(session: Session = Depends(get_session), paging_: Paging = Depends(paging)):
    """Platforms by slug, with their document counts."""
    rows, total = document_queries.list_platforms(session, paging_.limit, paging_.offset)
    return paged([{"slug": r.slug, "name": r.name, "documents": r.documents} for r in rows], total, paging_)


@router.get("/documents", response_model=Page[DocumentOut])
def documents(
    platform: str | None = None,
    terms_type: str | None = None,
    session: Session = Depends(get_session),
    paging_: Paging = Depends(paging),
):
    """Documents by platform and slug, optionally of one platform or terms type."""
    rows, total = document_queries.list_documents(
        session, paging_.limit, paging_.offset, platform, terms_type
    )
    return paged(
        [
            {
                "slug": r.slug,
                "title": r.title,
                "terms_type": r.terms_type,
                "active": r.active,
                "platform": r.platform,
                "versions": r.versions,
                "last_version_at": r.last_version_at,
            }
            for r in rows
        ],
        total,
        paging_,
    )


@router.get("/documents/{slug}/versions", response_model=Page[VersionOut])
def versions(
    slug: str,
    cosmetic: bool = True,
    session: Session = Depends(get_session),
    paging_: Paging = Depends(paging),
):
    """A document's versions, newest first (``cosmetic=false`` leaves out those with a cosmetic change)."""
    rows, total, _ = change_queries.document_versions(
        session, _document(session, slug).id, cosmetic, paging_.limit, paging_.offset
    )
    return paged([_version(r) for r in rows], total, paging_)


@router.get("/documents/{slug}/versions/{seq}", response_model=VersionText)
def version(slug: str, seq: Seq, session: Session = Depends(get_session)):
    """One version with its text."""
    found = change_queries.version_at(session, _document(session, slug).id, seq)
    if found is None:
        raise HTTPException(404, f"{slug} has no version {seq}")
    change = change_queries.change_of_version(session, found.id)
    return {
        "document": slug,
        "seq": found.seq,
        "created_at": found.created_at,
        "text_sha256": found.text_sha256,
        "chain_hash": found.chain_hash,
        "change_id": change.id if change else None,
        "significance": change.significance if change else None,
        "text": found.text,
    }


@router.get("/documents/{slug}/diff", response_model=DiffOut)
def diff(
    slug: str,
    from_seq: int = Query(..., alias="from", ge=1, le=MAX_ID),
    to_seq: int = Query(..., alias="to", ge=1, le=MAX_ID),
    session: Session = Depends(get_session),
):
    """The word-level diff between any two versions, as equal/insert/delete segments."""
    document = _document(session, slug)
    old, new = (
        change_queries.version_at(session, document.id, from_seq),
        change_queries.version_at(session, document.id, to_seq),
    )
    if old is None or new is None:
        raise HTTPException(404, f"{slug} has no version {from_seq if old is None else to_seq}")
    comparison = compare_texts(old.text, new.text, context=10**9)
    segments = [{"op": s.op, "text": s.text} for s in inline_segments(comparison)]
    return {
        "document": slug,
        "from_seq": from_seq,
        "to_seq": to_seq,
        "added_words": comparison.added_words,
        "removed_words": comparison.removed_words,
        "segments": segments,
    }


class AnnouncementOut(BaseModel):
    platform: str
    source: str
    url: str
    title: str | None
    published: str | None
    first_seen: str
    removed: str | None
    topics: list[str]
    versions: int
    document: str


@router.get("/announcements", response_model=Page[AnnouncementOut])
def announcements(
    platform: str | None = None,
    since: date | None = None,
    session: Session = Depends(get_session),
    paging_: Paging = Depends(paging),
):
    """Posts found on newsrooms, newest first, as ``policywatch announcements list --json`` gives them."""
    posts = list_posts(session, platform, day_start(since))
    return paged(posts[paging_.offset : paging_.offset + paging_.limit], len(posts), paging_)


@router.get("/changes", response_model=Page[ChangeOut])
def changes(
    platform: str | None = None,
    document: str | None = None,
    topic: str | None = None,
    since: date | None = None,
    until: date | None = None,
    min_significance: Significance | None = None,
    session: Session = Depends(get_session),
    paging_: Paging = Depends(paging),
):
    """Changes, newest first, filtered like ``policywatch changes list``."""
    where = change_queries.ChangeFilter(
        platform=platform,
        document=document,
        topic=topic,
        since=day_start(since),
        until=day_end(until),
        min_significance=min_significance,
    )
    rows, total = change_queries.list_changes(
        session, where, paging_.limit, paging_.offset, columns=change_queries.CHANGE_COLUMNS_AND_REASONS
    )
    return paged([_change(r) for r in rows], total, paging_)


@router.get("/changes/{change_id}", response_model=ChangeDetail)
def change(change_id: RowId, session: Session = Depends(get_session)):
    """One change with its structured details (sections, counts, topics, regulations)."""
    row = change_queries.get_change(session, change_id)
    if row is None:
        raise HTTPException(404, f"no change {change_id}")
    return {**_change(row), "details": row.details or {}}


@router.get("/search", response_model=Page[SearchHit])
def search(
    q: str = Query(..., min_length=1, max_length=500),
    platform: str | None = None,
    terms_type: str | None = None,
    document: str | None = None,
    topic: str | None = None,
    since: date | None = None,
    until: date | None = None,
    session: Session = Depends(get_session),
    paging_: Paging = Depends(search_paging),
):
    """Versions whose text matches ``q`` (newest recorded first) with an escaped, highlighted snippet;
    ``total`` counts at most 1,000 matches."""
    query = SearchQuery(
        q=q,
        platform=platform,
        terms_type=terms_type,
        document=document,
        topic=topic,
        since=day_start(since),
        until=day_end(until),
    )
    rows, total, marked = search_versions(session, query, paging_.limit, paging_.offset)
    snippets = highlighted(marked)
    return paged(
        [
            {
                "document": r.document,
                "platform": r.platform,
                "terms_type": r.terms_type,
                "seq": r.seq,
                "created_at": r.created_at,
                "change_id": r.change_id,
                "significance": r.significance,
                "snippet_html": str(snippets.get(r.id, "")),
            }
            for r in rows
        ],
        total,
        paging_,
    )


@router.get("/provisions", response_model=list[ProvisionOut])
def provisions(
    platform: str | None = None, document: str | None = None, session: Session = Depends(get_session)
):
    """For the latest version of each document, every catalog provision: whether it is stated, under
    which heading, its clauses and the machine-written note kept on them, if any (as ``policywatch
    provisions list --json``)."""
    from changes.notes import kept_notes
    from changes.provisions import Instance

    rows = latest_instances(session, document=document, platform=platform)
    return [
        {
            "document": r.document,
            "platform": r.platform,
            "provision": r.provision,
            "present": r.present,
            "heading": r.heading,
            "text": Instance(r.provision, r.heading, (), tuple(r.clauses or ())).text,
            "version": r.seq,
            "note": note,
        }
        for r, note in zip(rows, kept_notes(session, rows), strict=True)
    ]


@router.get("/topics", response_model=list[TopicOut])
def topics(request: Request):
    """The topics changes are tagged with and the compare page offers."""
    return [
        {"id": t.id, "label": t.label, "regulations": list(t.regulations)}
        for t in topic_index(request).values()
    ]


@router.get("/compare", response_model=Page[CompareOut])
def compare(
    request: Request, topic: str, session: Session = Depends(get_session), paging_: Paging = Depends(paging)
):
    """Per platform, the current clauses that touch ``topic`` and when each last changed."""
    found = topic_index(request).get(topic)
    if found is None:
        raise HTTPException(404, f"no topic {topic!r}")
    platforms = compare_topic(session, found)
    items = [
        {
            "platform": p.slug,
            "name": p.name,
            "clauses": [
                {
                    "document": d.slug,
                    "terms_type": d.terms_type,
                    "heading": c.heading,
                    "text": c.text,
                    "since": c.since,
                    "change_id": c.change_id,
                }
                for d in p.documents
                for c in d.clauses
            ],
        }
        for p in platforms[paging_.offset : paging_.offset + paging_.limit]
    ]
    return paged(items, len(platforms), paging_)
