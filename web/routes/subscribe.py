"""Subscription pages: thin wrappers over ``alerts.audience.subscribers`` (double opt-in, signed links).

The subscribe form is rate-limited per client address and CSRF-protected; its answer never says
whether an address was already known. Confirmation and preference forms carry CSRF tokens too. The
unsubscribe POST needs none: the signed token in its URL is the proof, and RFC 8058 one-click
unsubscribes come from mail providers without cookies.
"""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from alerts.audience import subscribers
from alerts.audience.tiers import TIERS
from alerts.audience.tokens import TokenError
from alerts.delivery.sender import Sender
from policywatch.verdicts import Significance
from store.db import transaction
from store.models import Document, Platform
from store.queries import documents as document_queries
from web.deps import get_session, topic_index
from web.middleware.security import CSRF_FIELD
from web.rendering.templating import page

router = APIRouter(include_in_schema=False)


def check_csrf(request: Request, token: str | None) -> None:
    """Refuse a form without a valid CSRF token for this browser."""
    request.app.state.csrf.check(request, token)


def send_due(engine, settings) -> None:
    """Send whatever the outbox holds that is due (the confirmation just queued among it)."""
    Sender(engine, settings).run()


def link_error(request: Request, exc: Exception):
    """The page shown for a forged, expired or stale link."""
    return page(request, "message.html", status_code=400, title="This link does not work", message=str(exc))


def subscribe_page(request: Request, session: Session, status_code: int = 200, **chosen):
    """The subscribe form with what was chosen (platforms, documents, tier, topics, provisions)."""
    platforms, _ = document_queries.list_platforms(session, 500, 0)
    context: dict[str, object] = {
        "platforms": [],
        "documents": [],
        "tier": "free",
        "topics": [],
        "provisions": [],
        "error": None,
    }
    return page(
        request,
        "subscribe.html",
        status_code=status_code,
        all_platforms=platforms,
        all_documents=document_queries.followable_documents(session),
        tiers=TIERS,
        all_topics=topic_index(request),
        all_provisions=request.app.state.catalog.types,
        significances=Significance.values(),
        **(context | chosen),
    )


@router.get("/subscribe")
def subscribe_form(
    request: Request,
    platform: str | None = None,
    document: str | None = None,
    session: Session = Depends(get_session),
):
    """The subscribe form (double opt-in): tier, platforms or some of their documents (the one asked
    for ticked), topics, provisions."""
    if document:
        return subscribe_page(request, session, documents=[document])
    return subscribe_page(request, session, platforms=[platform] if platform else [])


@router.post("/subscribe")
def subscribe(
    request: Request,
    background: BackgroundTasks,
    email: str = Form(..., max_length=320),
    platform: list[str] = Form([], max_length=80),
    document: list[str] = Form([], max_length=500),
    tier: str = Form("free", pattern="^(free|watcher|professional)$"),
    topics: list[str] = Form([]),
    provisions: list[str] = Form([]),
    min_significance: str = Form("substantive", pattern=Significance.pattern()),
    csrf_token: str = Form("", alias=CSRF_FIELD),
):
    """Record a pending subscriber with one subscription per platform chosen and per document chosen
    of a platform not followed whole, queue its confirmation email and send it after answering."""
    check_csrf(request, csrf_token)
    request.app.state.subscribe_limit.hit(request.client.host if request.client else "unknown")
    try:
        with transaction(request.app.state.engine) as session:
            targets = subscribers.targets(session, platform, document)
            if not targets:
                raise subscribers.SubscriberError("choose at least one platform or document")
            for target_platform, target_document in targets:
                subscribers.subscribe(
                    session,
                    email,
                    tier,
                    platform=target_platform,
                    document=target_document,
                    topics=topics,
                    min_significance=min_significance,
                    taxonomy=request.app.state.taxonomy,
                    provisions=provisions,
                    catalog=request.app.state.catalog,
                )
    except subscribers.SubscriberError as exc:
        with Session(request.app.state.engine) as session:
            return subscribe_page(
                request,
                session,
                400,
                platforms=platform,
                documents=document,
                tier=tier,
                topics=topics,
                provisions=provisions,
                error=str(exc),
            )
    background.add_task(send_due, request.app.state.engine, request.app.state.settings)
    return page(
        request,
        "message.html",
        title="Check your inbox",
        message="If the address can receive mail, a confirmation link is on its way. "
        "Nothing else is sent until you confirm.",
    )


@router.get("/confirm/{token}")
def confirm_form(request: Request, token: str, session: Session = Depends(get_session)):
    """A button that confirms (a GET never changes anything, so link scanners cannot confirm)."""
    try:
        subscriber = subscribers.subscriber_for(session, "confirm", token, tokens=request.app.state.tokens)
    except TokenError as exc:
        return link_error(request, exc)
    return page(request, "confirm.html", token=token, email=subscribers.mask_email(subscriber.email))


@router.post("/confirm/{token}")
def confirm(request: Request, token: str, csrf_token: str = Form("", alias=CSRF_FIELD)):
    """Confirm the subscription the link was sent for."""
    check_csrf(request, csrf_token)
    try:
        with transaction(request.app.state.engine) as session:
            subscriber = subscribers.confirm(session, token, tokens=request.app.state.tokens)
            masked = subscribers.mask_email(subscriber.email)
    except TokenError as exc:
        return link_error(request, exc)
    return page(
        request,
        "message.html",
        title="Subscription confirmed",
        message=f"{masked} will now get policy changes by email. Every email has a link to stop them.",
    )


@router.get("/unsubscribe/{token}")
def unsubscribe_form(request: Request, token: str, session: Session = Depends(get_session)):
    """A button that unsubscribes (one click)."""
    try:
        subscriber = subscribers.subscriber_for(
            session, "unsubscribe", token, tokens=request.app.state.tokens
        )
    except TokenError as exc:
        return link_error(request, exc)
    return page(
        request,
        "unsubscribe.html",
        token=token,
        email=subscribers.mask_email(subscriber.email),
        already=subscriber.status == "unsubscribed",
    )


@router.post("/unsubscribe/{token}")
def unsubscribe(request: Request, token: str, one_click: str = Form("", alias="List-Unsubscribe")):
    """Unsubscribe: the page's button and RFC 8058 one-click POSTs (``List-Unsubscribe=One-Click``)."""
    if one_click != "One-Click":
        raise HTTPException(400, "expected the form field List-Unsubscribe=One-Click")
    try:
        with transaction(request.app.state.engine) as session:
            subscriber = subscribers.unsubscribe(session, token, tokens=request.app.state.tokens)
            masked = subscribers.mask_email(subscriber.email)
    except TokenError as exc:
        return link_error(request, exc)
    return page(request, "message.html", title="Unsubscribed", message=f"{masked} will get no more emails.")


@router.get("/preferences/{token}")
def preferences(request: Request, token: str, session: Session = Depends(get_session)):
    """The subscriber's subscriptions with their filters, each editable or removable."""
    try:
        subscriber = subscribers.subscriber_for(
            session, "preferences", token, tokens=request.app.state.tokens
        )
    except TokenError as exc:
        return link_error(request, exc)
    return page(
        request,
        "preferences.html",
        token=token,
        subscriber=subscriber,
        email=subscribers.mask_email(subscriber.email),
        tier=TIERS[subscriber.tier],
        significances=Significance.values(),
        topics=topic_index(request),
        provisions=request.app.state.catalog.types,
        names=_target_names(session, subscriber),
        saved=request.query_params.get("saved"),
    )


@router.post("/preferences/{token}")
async def update_preferences(request: Request, token: str):
    """Save one subscription's filters, or remove it."""
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    try:
        subscription_id = int(str(form.get("subscription_id", "")))
    except ValueError:
        raise HTTPException(400, "subscription_id must be a number") from None
    try:
        with transaction(request.app.state.engine) as session:
            if form.get("action") == "remove":
                subscribers.remove_subscription(
                    session, token, subscription_id, tokens=request.app.state.tokens
                )
            else:
                subscribers.update_subscription(
                    session,
                    token,
                    subscription_id,
                    topics=[str(t) for t in form.getlist("topics")],
                    provisions=[str(p) for p in form.getlist("provisions")],
                    min_significance_alert=_given(form, "min_significance_alert"),  # not for free
                    min_significance_digest=_given(form, "min_significance_digest"),
                    tokens=request.app.state.tokens,
                    taxonomy=request.app.state.taxonomy,
                    catalog=request.app.state.catalog,
                )
    except TokenError as exc:
        return link_error(request, exc)
    except subscribers.SubscriberError as exc:
        return page(request, "message.html", status_code=400, title="Not saved", message=str(exc))
    return RedirectResponse(f"/preferences/{token}?saved=1", status_code=303)


def _given(form, name: str) -> str | None:
    """The form's field ``name``, or None (left unchanged) when the page did not offer it."""
    value = form.get(name)
    return str(value) if value else None


def _target_names(session: Session, subscriber) -> dict[int, str]:
    """What each subscription follows, in words, by subscription id."""
    names = {}
    for subscription in subscriber.subscriptions:
        if subscription.document_id:
            document = session.get_one(Document, subscription.document_id)
            names[subscription.id] = f"{document.platform.name}: {document.title}"
        else:
            names[subscription.id] = session.get_one(Platform, subscription.platform_id).name
    return names
