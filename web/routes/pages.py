"""Analyst pages: platforms, documents and their versions, diffs, changes, search and compare."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy.orm import Session

from changes.cards import card
from changes.notes import digest
from changes.provisions import Instance, catalog_for
from changes.redline import compare_texts
from policywatch.verdicts import Significance
from store.announcements import ANNOUNCEMENT
from store.models import Document, Platform, Version
from store.queries import changes as change_queries
from store.queries import documents as document_queries
from store.queries import provisions as provision_queries
from store.queries.announcements import list_posts
from store.queries.provisions import provision_events
from store.queries.search import COUNT_CAP, SearchQuery, search_versions
from store.queries.source_health import document_source_health
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
from web.middleware.cache import remembered
from web.middleware.security import CSP
from web.rendering.provision_history import provision_timelines
from web.rendering.snippets import grouped_hits, highlighted
from web.rendering.templating import page
from web.rendering.timeline import provision_event_labels, timeline_chart
from web.rendering.topic_comparison import compare_topic

router = APIRouter(include_in_schema=False)


def document_or_404(
    session: Session,
    slug: str,
    sources: bool = False,
    remember: change_queries.Remember = change_queries.count_now,
) -> Document:
    """The document ``slug`` with its platform (and its sources if asked), or a 404 naming it;
    through ``remember``, the one an earlier page loaded while the history is unchanged."""
    document = remember(
        ("document", slug, sources), lambda: document_queries.get_document(session, slug, sources)
    )
    if document is None:
        raise HTTPException(404, f"no document {slug!r}")
    return document


@router.get("/")
def home(request: Request, session: Session = Depends(get_session)):
    """Every platform with its counts and timeline, and the latest changes."""
    platforms, _ = document_queries.list_platforms(session, 500, 0)
    counts = change_queries.change_counts(session, Platform.slug)
    recent, _ = change_queries.list_changes(
        session, change_queries.ChangeFilter(min_significance="minor"), 15, 0
    )
    return page(
        request,
        "home.html",
        platforms=platforms,
        counts=counts,
        recent=recent,
        topics=topic_index(request),
        chart=timeline_chart(change_queries.significance_by_month(session, change_queries.ChangeFilter())),
    )


@router.get("/platforms/{slug}")
def platform_page(request: Request, slug: str, session: Session = Depends(get_session)):
    """One platform: its documents with last change and counts, and its governance timeline (changes
    per month with its announcements marked, and the list of provision changes and announcements)."""
    platform = document_queries.get_platform(session, slug)
    if platform is None:
        raise HTTPException(404, f"no platform {slug!r}")
    documents, _ = document_queries.list_documents(session, 1000, 0, platform=slug)
    policies = [d for d in documents if d.terms_type != ANNOUNCEMENT]
    where = change_queries.ChangeFilter(platform=slug)
    events = governance_events(
        provision_event_labels(request, provision_events(session, slug)), list_posts(session, platform=slug)
    )
    posts = [event for event in events if event["kind"] == "announcement"]
    return page(
        request,
        "platform.html",
        platform=platform,
        documents=policies,
        counts=change_queries.change_counts(session, Document.slug, where),
        latest=change_queries.latest_changes(session, [d.id for d in policies]),
        chart=timeline_chart(change_queries.significance_by_month(session, where), posts),
        events=events,
        topics=topic_index(request),
    )


def governance_events(changes: list[dict], posts: list[dict]) -> list[dict]:
    """Provision changes and newsroom posts in one list, newest first, each with its ``day`` and
    ``kind`` (``provision`` or ``announcement``), so a post sits beside the policy change it explains."""
    events = [{**e, "kind": "provision", "day": e["detected_at"].date().isoformat()} for e in changes]
    events += [
        {**post, "kind": "announcement", "day": (post["published"] or post["first_seen"])[:10]}
        for post in posts
        if not post["removed"]
    ]
    return sorted(events, key=lambda event: event["day"], reverse=True)


@router.get("/documents/{slug}")
def document_page(
    request: Request,
    slug: str,
    cosmetic: bool = False,
    session: Session = Depends(get_session),
    paged: Paging = Depends(paging),
):
    """One document: sources and their health, version timeline, current text, links to any diff."""
    remember = remembered(request)
    document = document_or_404(session, slug, True, remember)
    versions, total, hidden = change_queries.document_versions(
        session, document.id, cosmetic, paged.limit, paged.offset, remember
    )
    return page(
        request,
        "document.html",
        document=document,
        versions=versions,
        total=total,
        paged=paged,
        cosmetic=cosmetic,
        hidden=hidden,
        sources=document_source_health(session, document),
        current=change_queries.version_at(session, document.id, None),
        topics=topic_index(request),
        export_key=request.app.state.export_public_key,
    )


@router.get("/documents/{slug}/versions/{seq}")
def version_page(request: Request, slug: str, seq: Seq, session: Session = Depends(get_session)):
    """One version's text, with its chain hash, snapshots and the change that introduced it."""
    document = document_or_404(session, slug, True, remembered(request))
    version = change_queries.version_at(session, document.id, seq)
    if version is None:
        raise HTTPException(404, f"{slug} has no version {seq}")
    return page(
        request,
        "version.html",
        document=document,
        version=version,
        change=change_queries.change_of_version(session, version.id),
        snapshots=change_queries.version_snapshots(session, version.id),
        latest=change_queries.version_at(session, document.id, None),
    )


@router.get("/documents/{slug}/diff")
def diff_page(
    request: Request,
    slug: str,
    from_seq: int = Query(..., alias="from", ge=1, le=MAX_ID),
    to_seq: int = Query(..., alias="to", ge=1, le=MAX_ID),
    view: str = Query("inline", pattern="^(inline|side)$"),
    session: Session = Depends(get_session),
):
    """The word-level diff between any two versions, with the recorded change beside it when adjacent."""
    document = document_or_404(session, slug, True, remembered(request))
    found = change_queries.versions_at(session, document.id, [from_seq, to_seq])
    old, new = found.get(from_seq), found.get(to_seq)
    if old is None or new is None:
        raise HTTPException(404, f"{slug} has no version {from_seq if old is None else to_seq}")
    change = change_queries.change_of_version(session, new.id) if new.seq == old.seq + 1 else None
    return page(
        request,
        "diff.html",
        document=document,
        old=old,
        new=new,
        view=view,
        change=change,
        comparison=compare_texts(old.text, new.text),
        topics=topic_index(request),
    )


@router.get("/changes")
def changes_page(
    request: Request,
    platform: str | None = None,
    document: str | None = None,
    topic: str | None = None,
    min_significance: str | None = Query(None, pattern=Significance.pattern()),
    since: date | None = None,
    until: date | None = None,
    session: Session = Depends(get_session),
    paged: Paging = Depends(paging),
):
    """Every change, newest first, filtered like ``policywatch changes list``."""
    where = change_queries.ChangeFilter(
        platform=platform,
        document=document,
        topic=topic,
        since=day_start(since),
        until=day_end(until),
        min_significance=min_significance,
    )
    rows, total = change_queries.list_changes(session, where, paged.limit, paged.offset, remembered(request))
    return page(
        request,
        "changes.html",
        changes=rows,
        total=total,
        paged=paged,
        where=where,
        significances=Significance.values(),
        topics=topic_index(request),
    )


@router.get("/changes/{change_id}")
def change_page(request: Request, change_id: RowId, session: Session = Depends(get_session)):
    """One change, as alerts link to it: summary, topics, regulations, sections and the redline."""
    change = change_queries.get_change(session, change_id)
    if change is None:
        raise HTTPException(404, f"no change {change_id}")
    old, new = (session.get_one(Version, id) for id in (change.from_version_id, change.to_version_id))
    return page(
        request,
        "change.html",
        change=change,
        details=change.details or {},
        topics=topic_index(request),
        comparison=compare_texts(old.text, new.text),
    )


@router.get("/search")
def search_page(
    request: Request,
    q: str = "",
    platform: str | None = None,
    terms_type: str | None = None,
    topic: str | None = None,
    since: date | None = None,
    until: date | None = None,
    session: Session = Depends(get_session),
    paged: Paging = Depends(search_paging),
):
    """Full-text search over every version, with highlighted matches and filters."""
    query = SearchQuery(
        q=q,
        platform=platform or None,
        terms_type=terms_type or None,
        topic=topic or None,
        since=day_start(since),
        until=day_end(until),
    )
    remember = remembered(request)
    rows, total, marked = search_versions(session, query, paged.limit, paged.offset, remember)
    platforms, _ = remember(("platforms",), lambda: document_queries.list_platforms(session, 500, 0))
    return page(
        request,
        "search.html",
        search=query,
        hits=grouped_hits(rows, highlighted(marked)),
        total=total,
        paged=paged,
        cap=COUNT_CAP,
        platforms=platforms,
        terms_types=remember(("terms types",), lambda: document_queries.terms_types(session)),
        topics=topic_index(request),
    )


@router.get("/provisions/{provision}")
def provision_page(
    request: Request, provision: str, platform: str | None = None, session: Session = Depends(get_session)
):
    """One provision across platforms: each document's clauses as they stand with their card (and the
    machine-written note kept on them, if any) and last change, the platforms that do not state it,
    its regulations, and its full history in each document (every version where its clauses changed,
    with the redline)."""
    catalog = catalog_for(request.app.state.settings)
    kind = catalog.get(provision)
    if kind is None:
        raise HTTPException(404, f"no provision {provision!r}")
    changed = provision_queries.last_changes(session, provision)
    stated = [
        r
        for r in provision_queries.latest_instances(session, platform=platform)
        if r.provision == provision and r.present
    ]
    names = provision_queries.platform_names(session)
    instances = {r.document: Instance(provision, r.heading, (), tuple(r.clauses)) for r in stated}
    notes = provision_queries.notes_for(session, provision, {digest(i.text) for i in instances.values()})
    platforms = [
        {
            "slug": slug,
            "name": name,
            "documents": [
                {
                    "slug": r.document,
                    "title": r.document_title,
                    "heading": r.heading,
                    "clauses": r.clauses,
                    "card": card(kind, instances[r.document]),
                    "note": notes.get(digest(instances[r.document].text)),
                    "quoted": instances[r.document].text,
                    "last_changed": changed.get(r.document),
                }
                for r in stated
                if r.platform == slug
            ],
        }
        for slug, name in sorted(names.items())
        if platform in (None, slug)
    ]
    timelines = provision_timelines(provision_queries.provision_versions(session, provision, platform))
    return page(request, "provision.html", kind=kind, platforms=platforms, timelines=timelines)


@router.get("/compare")
def compare_page(request: Request, topic: str | None = None, session: Session = Depends(get_session)):
    """Pick a topic; see per platform the current clauses that match it and when each last changed."""
    topics = topic_index(request)
    if topic and topic not in topics:
        raise HTTPException(404, f"no topic {topic!r}")
    return page(
        request,
        "compare.html",
        topic=topics.get(topic) if topic is not None else None,
        topics=topics,
        platforms=compare_topic(session, topics[topic]) if topic else [],
    )


@router.get("/docs")
def api_docs(request: Request):
    """The JSON API's interactive documentation (Swagger UI, served from this server)."""
    response = page(request, "api_docs.html")
    swagger = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'") + "; connect-src 'self'"
    response.headers["Content-Security-Policy"] = swagger  # it fetches /openapi.json and styles inline
    return response
