"""Atom feeds of changes: all, per platform, per document and per topic, with ``?min_significance=``;
and of a platform's announcements (the posts found on its newsrooms)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy.orm import Session

from policywatch.verdicts import Significance
from store.queries import changes as change_queries
from store.queries import documents as document_queries
from store.queries.announcements import list_posts
from web.deps import get_session, topic_index

router = APIRouter(prefix="/feeds", include_in_schema=False)
ENTRIES = 50
MinSignificance = Query(
    "minor",
    pattern=Significance.pattern(),
    description="Leave out changes below this significance (default: minor).",
)


def atom(request: Request, session: Session, title: str, where: change_queries.ChangeFilter):
    """The feed of the newest changes matching ``where``."""
    rows, _ = change_queries.list_changes(session, where, ENTRIES, 0)
    return request.app.state.templates.TemplateResponse(
        request,
        "feed.xml",
        {
            "title": title,
            "changes": rows,
            "base": request.app.state.settings.base_url,
            "self_url": str(request.url),
            "topics": topic_index(request),
        },
        media_type="application/atom+xml; charset=utf-8",
    )


@router.get("/changes.atom")
def all_changes(
    request: Request, min_significance: str = MinSignificance, session: Session = Depends(get_session)
):
    return atom(
        request,
        session,
        "policywatch: all changes",
        change_queries.ChangeFilter(min_significance=min_significance),
    )


@router.get("/platforms/{slug}.atom")
def platform_changes(
    request: Request,
    slug: str,
    min_significance: str = MinSignificance,
    session: Session = Depends(get_session),
):
    platform = document_queries.get_platform(session, slug)
    if platform is None:
        raise HTTPException(404, f"no platform {slug!r}")
    return atom(
        request,
        session,
        f"policywatch: {platform.name}",
        change_queries.ChangeFilter(platform=slug, min_significance=min_significance),
    )


@router.get("/platforms/{slug}/announcements.atom")
def platform_announcements(request: Request, slug: str, session: Session = Depends(get_session)):
    platform = document_queries.get_platform(session, slug)
    if platform is None:
        raise HTTPException(404, f"no platform {slug!r}")
    return request.app.state.templates.TemplateResponse(
        request,
        "announcements.xml",
        {
            "title": f"policywatch: {platform.name} announcements",
            "posts": list_posts(session, slug)[:ENTRIES],
            "self_url": str(request.url),
            "topics": topic_index(request),
        },
        media_type="application/atom+xml; charset=utf-8",
    )


@router.get("/documents/{slug}.atom")
def document_changes(
    request: Request,
    slug: str,
    min_significance: str = MinSignificance,
    session: Session = Depends(get_session),
):
    document = document_queries.get_document(session, slug)
    if document is None:
        raise HTTPException(404, f"no document {slug!r}")
    return atom(
        request,
        session,
        f"policywatch: {document.platform.name} {document.title}",
        change_queries.ChangeFilter(document=slug, min_significance=min_significance),
    )


@router.get("/topics/{topic}.atom")
def topic_changes(
    request: Request,
    topic: str,
    min_significance: str = MinSignificance,
    session: Session = Depends(get_session),
):
    found = topic_index(request).get(topic)
    if found is None:
        raise HTTPException(404, f"no topic {topic!r}")
    return atom(
        request,
        session,
        f"policywatch: {found.label}",
        change_queries.ChangeFilter(topic=topic, min_significance=min_significance),
    )
