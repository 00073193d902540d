"""A small history built with the store API for the web tests: two platforms, versions, changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Announcement, AnnouncementSource, Change, Document, FetchEvent, Platform
from store.snapshots import Fetched, put_snapshot
from store.versions import record_version
from tests.factories import make_document

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOSTILE = (
    '<script>window.pwned = 1; alert("xss")</script> <img src=x onerror="window.pwned = 2"> '
    '<b onmouseover="window.pwned = 3">bold</b>'
)

ACME_V1 = """# Acceptable use

You may not use the service for weapons development.

# Government customers

Government agencies may not use the service for surveillance.

# Contact

Write to **legal@acme.test** with questions."""

ACME_V2 = ACME_V1.replace(
    "Government agencies may not use the service for surveillance.",
    "Government agencies may use the service for lawful national security purposes.\n\n"
    "Raw page fragment kept verbatim: " + HOSTILE,
)
ACME_V3 = ACME_V2.replace("Write to **legal", "Write to  **legal")
ACME_V4 = ACME_V3 + "\n\n# Training\n\nWe may train our models on content you submit unless you opt out."

REWORDED = (
    "Government agencies may not use the service for surveillance.",
    "Government agencies may use the service for lawful national security purposes.",
)

GLOBEX_V1 = """# Privacy

We keep your data for 30 days.

# Public sector

We do not sell data to any government."""
GLOBEX_V2 = GLOBEX_V1.replace("30 days", "90 days")


@dataclass
class Site:
    """Ids the tests refer to."""

    acme_changes: list[int]
    globex_change: int
    hostile_snapshot: str


def change(
    session: Session,
    old,
    new,
    significance: str,
    summary: str,
    topics: list[str],
    sections: list[dict],
    at: datetime,
    regulations: list[str] = (),
) -> int:
    """Record a Change row the way the changes layer does, and return its id."""
    row = Change(
        document_id=new.document_id,
        from_version_id=old.id,
        to_version_id=new.id,
        detected_at=at,
        significance=significance,
        reasons=[f"{significance} by test"],
        topics=topics,
        summary=summary,
        details={
            "sections": sections,
            "counts": {},
            "topics": [{"id": t, "label": t, "regulations": []} for t in topics],
            "regulations": list(regulations),
            "flapping": False,
        },
    )
    session.add(row)
    session.flush()
    return row.id


def build_site(session: Session) -> Site:
    """Two platforms with documents, versions, changes, fetch events and a hostile raw snapshot."""
    acme = make_document(session, "acme-terms", ("https://acme.test/terms",), platform_slug="acme")
    globex = make_document(
        session, "globex-privacy", ("https://globex.test/privacy",), platform_slug="globex"
    )
    globex.title, globex.terms_type = "Privacy Policy", "Privacy Policy"
    source = acme.sources[0]
    raw = f"<html><body><h1>Acme terms</h1>{HOSTILE}</body></html>".encode()
    snapshot, _ = put_snapshot(
        session, source.id, Fetched(url=source.url, body=raw, content_type="text/html", fetched_at=START)
    )
    versions = [
        record_version(
            session, acme, text, [(source.id, snapshot)], created_at=START + timedelta(days=31 * i)
        )
        for i, text in enumerate([ACME_V1, ACME_V2, ACME_V3, ACME_V4])
    ]
    session.add(
        FetchEvent(
            source_id=source.id,
            fetched_at=START,
            url=source.url,
            http_status=200,
            outcome="changed",
            snapshot_id=snapshot.id,
        )
    )
    session.flush()
    session.add(
        FetchEvent(
            source_id=source.id,
            fetched_at=START + timedelta(days=100),
            url=source.url,
            http_status=503,
            outcome="error",
            reason="HTTP 503 from https://acme.test/terms",
        )
    )
    source.consecutive_failures, source.broken_since = 5, datetime(2026, 5, 1, tzinfo=UTC)
    acme_changes = [
        change(
            session,
            versions[0],
            versions[1],
            "substantive",
            "Government agencies may now use the service for national security.",
            ["government"],
            [
                {
                    "heading": "Government customers",
                    "path": ["Government customers"],
                    "status": "modified",
                    "old_heading": None,
                    "added": [REWORDED[1]],  # a reworded clause is also listed as added and removed
                    "removed": [REWORDED[0]],
                    "changed": [
                        {
                            "before": REWORDED[0],
                            "after": REWORDED[1],
                            "diff": [
                                ["equal", "Government agencies may "],
                                ["delete", "not "],
                                ["equal", "use the service for "],
                                ["delete", "surveillance"],
                                ["insert", "lawful national security purposes"],
                                ["equal", "."],
                            ],
                        }
                    ],
                }
            ],
            versions[1].created_at,
            regulations=["FedRAMP"],
        ),
        change(
            session, versions[1], versions[2], "cosmetic", "Whitespace only.", [], [], versions[2].created_at
        ),
        change(
            session,
            versions[2],
            versions[3],
            "minor",
            "Adds a section on training with an opt-out.",
            ["training_data"],
            [
                {
                    "heading": "Training",
                    "path": ["Training"],
                    "status": "added",
                    "old_heading": None,
                    "added": ["We may train our models on content you submit unless you opt out."],
                    "removed": [],
                    "changed": [],
                }
            ],
            versions[3].created_at,
        ),
    ]
    g1 = record_version(session, globex, GLOBEX_V1, [], created_at=START + timedelta(days=10))
    g2 = record_version(session, globex, GLOBEX_V2, [], created_at=START + timedelta(days=70))
    globex_change = change(
        session,
        g1,
        g2,
        "substantive",
        "Data is kept for 90 days instead of 30.",
        ["data_retention"],
        [
            {
                "heading": "Privacy",
                "path": ["Privacy"],
                "status": "modified",
                "old_heading": None,
                "added": ["We keep your data for 90 days."],
                "removed": ["We keep your data for 30 days."],
                "changed": [
                    {
                        "before": "We keep your data for 30 days.",
                        "after": "We keep your data for 90 days.",
                        "diff": [
                            ["equal", "We keep your data for "],
                            ["delete", "30"],
                            ["insert", "90"],
                            ["equal", " days."],
                        ],
                    }
                ],
            }
        ],
        g2.created_at,
    )
    return Site(acme_changes, globex_change, snapshot.sha256)


def add_announcement(
    session: Session, slug: str = "gov-deal", title: str = "Gov deal", published: str = "2026-05-02"
) -> None:
    """A post found on Acme's newsroom (about government, unless told otherwise)."""
    acme = session.scalars(select(Platform).where(Platform.slug == "acme")).one()
    newsroom = session.scalars(select(AnnouncementSource).filter_by(slug="acme-news")).one_or_none()
    newsroom = newsroom or AnnouncementSource(
        platform=acme, slug="acme-news", listing="https://acme.test/news"
    )
    document = Document(slug=f"acme-{slug}", platform=acme, title=title, terms_type="Announcement")
    session.add(
        Announcement(
            source=newsroom,
            document=document,
            url=f"https://acme.test/news/{slug}",
            listed_url=f"https://acme.test/news/{slug}",
            title=title,
            published=published,
            topics=["government"],
        )
    )
    session.flush()


USAGE_V1 = """# Usage policy

## Prohibited uses
You may not use the service for weapons development.

## Contact
Write to legal@acme.test."""
USAGE_V2 = USAGE_V1.replace("legal@acme.test", "policy@acme.test")
USAGE_V3 = USAGE_V2.replace("weapons development.", "weapons development or military and warfare purposes.")
USAGE_V4 = USAGE_V3.replace(
    "You may not use the service for weapons development or military and warfare purposes.",
    "You may not use the service to harm others.",
)
USAGE_V5 = USAGE_V3


def add_usage_history(session: Session) -> None:
    """Acme's usage policy in five versions, its military ban stated, untouched by an edit of the
    contact line, reworded, removed, and stated again; with its changes and provisions recorded."""
    from changes.record import record_changes
    from policywatch.settings import get_settings

    usage = make_document(session, "acme-usage", ("https://acme.test/usage",), platform_slug="acme")
    usage.title = "Usage Policy"
    for i, text in enumerate([USAGE_V1, USAGE_V2, USAGE_V3, USAGE_V4, USAGE_V5]):
        record_version(session, usage, text, [], created_at=START + timedelta(days=40 + 10 * i))
    record_changes(session, get_settings())
