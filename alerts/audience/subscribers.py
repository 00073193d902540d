"""Subscribers: validated addresses, tiers and their limits, subscriptions, double opt-in.

Every function takes a session and leaves committing to the caller (the CLI or a web endpoint), so
a confirmation email is queued in the same transaction that creates the subscriber.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from alerts.audience.tiers import TIERS, Tier
from alerts.audience.tokens import TokenError, Tokens
from changes.provisions import Catalog, load_catalog
from changes.taxonomy import Taxonomy, load_taxonomy
from policywatch.verdicts import Significance
from store.models import Delivery, Document, Platform, Subscriber, Subscription, utcnow
from store.queries.documents import document_title

log = logging.getLogger(__name__)


class SubscriberError(ValueError):
    """Input a subscriber or operator must correct: bad address, unknown platform, tier limit."""


def normalise_email(email: str) -> str:
    """The normalised address (Unicode-normalised, lower case); SubscriberError if invalid."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise SubscriberError(f"invalid email address {email.strip()!r}: {exc}") from None


def mask_email(email: str) -> str:
    """The address with its local part hidden, for logs and messages: ``a***@example.com``."""
    local, _, domain = email.strip().rpartition("@")
    if not local:
        return "***"
    return f"{local[0]}***@{domain}"


def find(session: Session, email: str) -> Subscriber | None:
    """The subscriber with this address, or None."""
    return session.scalar(select(Subscriber).where(Subscriber.email == normalise_email(email)))


def subscribe(
    session: Session,
    email: str,
    tier: str | None = None,
    platform: str | None = None,
    document: str | None = None,
    topics: Iterable[str] = (),
    min_significance: str | None = None,
    *,
    taxonomy: Taxonomy | None = None,
    provisions: Iterable[str] = (),
    catalog: Catalog | None = None,
) -> Subscriber:
    """Add a subscription for ``email`` (creating the subscriber, ``free`` unless ``tier`` says
    otherwise) to a platform slug or a document slug, with optional topic and provision filters
    (professional tier; topics of ``taxonomy`` and provisions of ``catalog``, the bundled ones unless
    given) and minimum significance (for both alerts and digest; defaults substantive / minor).

    A new or formerly unsubscribed address is pending and gets a confirmation email queued; an
    existing subscription to the same target has its filters replaced. Raises SubscriberError."""
    address = normalise_email(email)
    subscriber = session.scalar(
        select(Subscriber).where(Subscriber.email == address).options(selectinload(Subscriber.subscriptions))
    )
    rules = _tier(tier or (subscriber.tier if subscriber else "free"))
    target_platform, target_document = _target(session, platform, document)
    topics = _topics(rules, topics, taxonomy)
    chosen_provisions = _provisions(rules, provisions, catalog)
    minimum = _significance(min_significance) if min_significance is not None else None
    if subscriber is None:
        subscriber = Subscriber(email=address, status="pending", subscriptions=[])
        session.add(subscriber)
    _check_platform_limit(subscriber, rules, target_platform)
    subscriber.tier = rules.name
    subscription = _subscription_for(subscriber, target_platform, target_document)
    subscription.topics = topics
    subscription.provisions = chosen_provisions
    if minimum is not None:
        subscription.min_significance_alert = subscription.min_significance_digest = minimum
    if subscriber.status == "unsubscribed":
        subscriber.status, subscriber.unsubscribed_at = "pending", None
    session.flush()
    if subscriber.status == "pending":
        _queue_confirmation(session, subscriber)
    log.info(
        "subscription of %s to %s saved",
        mask_email(address),
        target_document.slug if target_document else target_platform.slug,
    )
    return subscriber


def targets(
    session: Session, platforms: list[str], documents: list[str]
) -> list[tuple[str | None, str | None]]:
    """The (platform, document) slug pairs to ``subscribe`` to for these choices: each platform
    followed whole, then each document whose platform is not (an unknown one stays, to be refused)."""
    whole = [slug for slug in dict.fromkeys(platforms) if slug]
    chosen = [slug for slug in dict.fromkeys(documents) if slug]
    owners = dict(
        session.execute(
            select(Document.slug, Platform.slug)
            .join(Platform, Platform.id == Document.platform_id)
            .where(Document.slug.in_(chosen))
        ).all()
    )
    pairs: list[tuple[str | None, str | None]] = [(slug, None) for slug in whole]
    return pairs + [(None, slug) for slug in chosen if owners.get(slug) not in whole]


def confirm(session: Session, token: str, *, tokens: Tokens) -> Subscriber:
    """Confirm the subscriber a confirmation link names (idempotent); raises TokenError."""
    subscriber = subscriber_for(session, "confirm", token, tokens=tokens)
    if subscriber.status == "unsubscribed":
        raise TokenError("this address has unsubscribed; subscribe again to get a new confirmation link")
    return _confirmed(subscriber)


def unsubscribe(session: Session, token: str, *, tokens: Tokens) -> Subscriber:
    """Unsubscribe the subscriber an unsubscribe link names (idempotent) and cancel its unsent
    emails; raises TokenError. Serves both the link and the RFC 8058 one-click POST."""
    subscriber = subscriber_for(session, "unsubscribe", token, tokens=tokens)
    if subscriber.status != "unsubscribed":
        subscriber.status, subscriber.unsubscribed_at = "unsubscribed", utcnow()
        session.execute(
            update(Delivery)
            .where(Delivery.subscriber_id == subscriber.id, Delivery.status == "pending")
            .values(status="cancelled", last_error="subscriber unsubscribed")
        )
        log.info("%s unsubscribed", mask_email(subscriber.email))
    return subscriber


def subscriber_for(session: Session, purpose: str, token: str, *, tokens: Tokens) -> Subscriber:
    """The subscriber a valid ``purpose`` token was made for; TokenError if forged, expired, made
    for another purpose, or the subscriber's address has changed or been removed."""
    subscriber_id, tag = tokens.read(purpose, token)
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None or tokens.email_tag(subscriber.email) != tag:
        raise TokenError(f"the {purpose} link does not belong to a current subscriber")
    return subscriber


def update_subscription(
    session: Session,
    token: str,
    subscription_id: int,
    topics: Iterable[str] | None = None,
    min_significance_alert: str | None = None,
    min_significance_digest: str | None = None,
    *,
    tokens: Tokens,
    taxonomy: Taxonomy | None = None,
    provisions: Iterable[str] | None = None,
    catalog: Catalog | None = None,
) -> Subscription:
    """Change one subscription's filters from a preferences link (topics of ``taxonomy`` and provisions
    of ``catalog``, the bundled ones unless given); raises TokenError, SubscriberError."""
    subscriber = subscriber_for(session, "preferences", token, tokens=tokens)
    subscription = _own_subscription(subscriber, subscription_id)
    if topics is not None:
        subscription.topics = _topics(_tier(subscriber.tier), topics, taxonomy)
    if provisions is not None:
        subscription.provisions = _provisions(_tier(subscriber.tier), provisions, catalog)
    if min_significance_alert is not None:
        subscription.min_significance_alert = _significance(min_significance_alert)
    if min_significance_digest is not None:
        subscription.min_significance_digest = _significance(min_significance_digest)
    return subscription


def remove_subscription(session: Session, token: str, subscription_id: int, *, tokens: Tokens) -> Subscriber:
    """Drop one subscription from a preferences link; raises TokenError, SubscriberError."""
    subscriber = subscriber_for(session, "preferences", token, tokens=tokens)
    subscriber.subscriptions.remove(_own_subscription(subscriber, subscription_id))
    return subscriber


def confirm_email(session: Session, email: str) -> Subscriber:
    """Operator override: confirm ``email`` without its link; raises SubscriberError if unknown."""
    return _confirmed(_existing(session, email))


def remove(session: Session, email: str) -> None:
    """Operator action: delete a subscriber with its subscriptions and outbox rows."""
    subscriber = _existing(session, email)
    session.delete(subscriber)
    log.info("%s removed", mask_email(subscriber.email))


def all_subscribers(session: Session) -> list[Subscriber]:
    """Every subscriber with its subscriptions, by address."""
    return list(
        session.scalars(
            select(Subscriber).options(selectinload(Subscriber.subscriptions)).order_by(Subscriber.email)
        )
    )


def followed(
    session: Session, subscriber_ids: Iterable[int], taxonomy: Taxonomy, catalog: Catalog
) -> dict[int, list[str]]:
    """What each subscriber follows, in words: "OpenAI (every document)", "Anthropic Usage Policy",
    with their topic and provision filters named by their labels in ``taxonomy`` and ``catalog``."""
    ids = set(subscriber_ids)
    platforms: dict[int | None, str] = dict(session.execute(select(Platform.id, Platform.name)).all())
    documents = {
        id_: document_title(platforms[platform_id], title)
        for id_, platform_id, title in session.execute(
            select(Document.id, Document.platform_id, Document.title)
        )
    }
    lines: dict[int, list[str]] = {id_: [] for id_ in ids}
    for sub in session.scalars(
        select(Subscription).where(Subscription.subscriber_id.in_(ids)).order_by(Subscription.id)
    ):
        if sub.document_id is not None:
            target = documents[sub.document_id]
        else:  # a subscription names a document or a platform (has_target)
            target = f"{platforms[sub.platform_id]} (every document)"
        lines[sub.subscriber_id].append(target + _filters_in_words(sub, taxonomy, catalog))
    return lines


def _filters_in_words(sub: Subscription, taxonomy: Taxonomy, catalog: Catalog) -> str:
    """The filters of ``sub`` in words, e.g. ", topics: Government and national security, provisions:
    Government carve-out" (an id no longer in force stays an id)."""
    labels = {
        "topics": [topic.label if (topic := taxonomy.get(i)) else i for i in sub.topics],
        "provisions": [kind.label if (kind := catalog.get(i)) else i for i in sub.provisions],
    }
    return "".join(f", {name}: {', '.join(words)}" for name, words in labels.items() if words)


def _existing(session: Session, email: str) -> Subscriber:
    subscriber = find(session, email)
    if subscriber is None:
        raise SubscriberError(f"no subscriber {mask_email(email)}")
    return subscriber


def _confirmed(subscriber: Subscriber) -> Subscriber:
    if subscriber.status != "confirmed":
        subscriber.status, subscriber.confirmed_at, subscriber.unsubscribed_at = "confirmed", utcnow(), None
        log.info("%s confirmed", mask_email(subscriber.email))
    return subscriber


def _tier(name: str) -> Tier:
    if name not in TIERS:
        raise SubscriberError(f"unknown tier {name!r}; expected one of {', '.join(TIERS)}")
    return TIERS[name]


def _significance(name: str) -> str:
    if name not in Significance.values():
        raise SubscriberError(
            f"unknown significance {name!r}; expected one of {', '.join(Significance.values())}"
        )
    return name


def _topics(rules: Tier, topics: Iterable[str], taxonomy: Taxonomy | None) -> list[str]:
    known = [topic.id for topic in (taxonomy or load_taxonomy()).topics]
    return _filters(rules, topics, "topic", known)


def _provisions(rules: Tier, provisions: Iterable[str], catalog: Catalog | None) -> list[str]:
    known = [kind.id for kind in (catalog or load_catalog()).types]
    return _filters(rules, provisions, "provision", known)


def _filters(rules: Tier, wanted: Iterable[str], kind: str, known: list[str]) -> list[str]:
    """The ``kind`` filters (topics, provisions) ``wanted``, sorted; SubscriberError when the tier
    has no filters or one is not of ``known``."""
    chosen = sorted({name.strip() for name in wanted if name.strip()})
    if chosen and not rules.topic_filters:
        raise SubscriberError(f"{kind} filters need the professional tier (this subscriber is {rules.name})")
    unknown = [name for name in chosen if name not in known]
    if unknown:
        raise SubscriberError(f"unknown {kind} {unknown[0]!r}; known {kind}s: {', '.join(known)}")
    return chosen


def _target(session: Session, platform: str | None, document: str | None) -> tuple[Platform, Document | None]:
    if document:
        found = session.scalar(select(Document).where(Document.slug == document))
        if found is None:
            raise SubscriberError(f"unknown document {document!r}")
        if platform and found.platform.slug != platform:
            raise SubscriberError(
                f"document {document!r} belongs to {found.platform.slug!r}, not {platform!r}"
            )
        return found.platform, found
    if not platform:
        raise SubscriberError("a subscription needs a platform or a document")
    found_platform = session.scalar(select(Platform).where(Platform.slug == platform))
    if found_platform is None:
        raise SubscriberError(f"unknown platform {platform!r}")
    return found_platform, None


def _subscription_for(subscriber: Subscriber, platform: Platform, document: Document | None) -> Subscription:
    document_id = document.id if document else None
    for subscription in subscriber.subscriptions:
        if subscription.platform_id == platform.id and subscription.document_id == document_id:
            return subscription
    subscription = Subscription(platform_id=platform.id, document_id=document_id)
    subscriber.subscriptions.append(subscription)
    return subscription


def _check_platform_limit(subscriber: Subscriber, rules: Tier, platform: Platform) -> None:
    platforms = {subscription.platform_id for subscription in subscriber.subscriptions}
    if rules.max_platforms is not None and len(platforms | {platform.id}) > rules.max_platforms:
        limit = f"{rules.max_platforms} platform" + ("s" if rules.max_platforms > 1 else "")
        raise SubscriberError(
            f"the {rules.name} tier follows at most {limit}; {mask_email(subscriber.email)} already follows "
            f"{len(platforms)} — upgrade the tier or remove a subscription first"
        )


def _own_subscription(subscriber: Subscriber, subscription_id: int) -> Subscription:
    for subscription in subscriber.subscriptions:
        if subscription.id == subscription_id:
            return subscription
    raise SubscriberError(f"subscription {subscription_id} is not one of this subscriber's")


def _queue_confirmation(session: Session, subscriber: Subscriber) -> None:
    waiting = session.scalar(
        select(Delivery.id).where(
            Delivery.subscriber_id == subscriber.id,
            Delivery.kind == "confirmation",
            Delivery.status.in_(("pending", "sending")),
        )
    )
    if waiting is None:
        session.add(Delivery(subscriber_id=subscriber.id, kind="confirmation"))
