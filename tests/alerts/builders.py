"""Builders of changes and subscribers for the alerts tests."""

from __future__ import annotations

import itertools
from datetime import datetime

from sqlalchemy.orm import Session

from alerts.audience.subscribers import confirm_email, subscribe
from alerts.delivery.sender import Report
from policywatch import usecases
from policywatch.runtime import Runtime
from policywatch.settings import get_settings
from store.models import Change, Document, Subscriber
from store.versions import latest_version, record_version
from tests.factories import make_document

_texts = itertools.count()


def document(
    session: Session,
    platform: str = "openai",
    slug: str | None = None,
    title: str = "Usage Policies",
    platform_name: str | None = None,
) -> Document:
    """A document of ``platform`` (created if missing) with a readable title."""
    made = make_document(session, slug=slug or f"{platform}-usage", platform_slug=platform)
    made.title = title
    made.platform.name = platform_name or made.platform.name
    session.flush()
    return made


def change(
    session: Session,
    of: Document,
    significance: str = "substantive",
    topics: tuple[str, ...] = (),
    summary: str = "Weapons development is now prohibited.",
    detected_at: datetime | None = None,
    flapping: bool = False,
    provisions: tuple[str, ...] = (),
) -> Change:
    """A change between two fresh versions of ``of``, with one modified section in its details."""
    before = latest_version(session, of.id) or record_version(session, of, f"text {next(_texts)}", [])
    after = record_version(session, of, f"text {next(_texts)}", [])
    made = Change(
        document_id=of.id,
        from_version_id=before.id,
        to_version_id=after.id,
        significance=significance,
        topics=list(topics),
        provisions=list(provisions),
        summary=summary,
        reasons=["new prohibition"],
        details={
            "sections": [
                {
                    "heading": "Prohibited uses",
                    "path": "2",
                    "status": "modified",
                    "added": ["Do not develop weapons."],
                    "removed": ["Be nice."],
                    "changed": [],
                }
            ],
            "topics": [{"id": t, "label": t.title(), "regulations": ["EU AI Act"]} for t in topics],
            "regulations": ["EU AI Act"] if topics else [],
            "flapping": flapping,
        },
    )
    if detected_at is not None:
        made.detected_at = detected_at
    session.add(made)
    session.flush()
    return made


def confirmed(
    session: Session, email: str, tier: str = "watcher", platform: str = "openai", **options
) -> Subscriber:
    """A confirmed subscriber of ``platform`` (its confirmation email left unsent)."""
    subscribe(session, email, tier, platform, **options)
    return confirm_email(session, email)


def send_alerts(engine) -> Report:
    """Send alerts through the use case every front end calls; the outbox run's report."""
    sent = usecases.send_alerts(Runtime(get_settings(), engine))
    assert sent.delivered.error is None, sent.delivered.error
    return sent.delivered.report


def send_digest(engine, week: str = "2026-W46") -> Report:
    """Send ``week``'s digest through the use case every front end calls; the outbox run's report."""
    sent = usecases.send_digest(Runtime(get_settings(), engine), week)
    assert sent.delivered.error is None, sent.delivered.error
    return sent.delivered.report
