"""A subprocessor list whose table changes, from HTML page through extraction to a recorded change."""

from __future__ import annotations

from sqlalchemy.orm import Session

from changes.record import record_changes
from crawler.extract.extraction import select_region
from policywatch.settings import get_settings
from store.models import Change
from store.versions import record_version
from tests.factories import make_document

ROWS = [
    ("Stripe, Inc.", "Payment processing and fraud prevention", "Billing details", "United States"),
    (
        "Amazon Web Services",
        "Cloud hosting of the service and its backups",
        "All customer data",
        "United States",
    ),
    ("Zendesk, Inc.", "Customer support tickets", "Contact details, messages", "United States"),
    ("Snowflake Inc.", "Analytics warehouse for product usage", "Usage data", "United States"),
]
NEW_ROWS = [
    ROWS[0][:3] + ("Ireland",),
    ROWS[1],
    ROWS[3],
    ("Intercom R&D Unlimited Company", "In-product support chat", "Contact details, messages", "Ireland"),
]


def page(rows) -> bytes:
    """The vendor's subprocessor page listing ``rows``."""
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return (
        "<html><head><title>Subprocessors</title></head><body><nav>Home · Pricing</nav><main>"
        "<h1>Subprocessors</h1><p>We engage the following third parties to process customer data on our "
        "behalf. Each is bound by a data processing agreement with terms at least as protective as ours.</p>"
        "<h2>Current subprocessors</h2><table><thead><tr><th>Subprocessor</th><th>Purpose</th>"
        f"<th>Data processed</th><th>Location</th></tr></thead><tbody>{body}</tbody></table>"
        "<p>We give thirty days' notice before we engage a new subprocessor.</p></main></body></html>"
    ).encode()


def extracted(rows) -> str:
    """The Markdown the crawler keeps of the page listing ``rows``."""
    region = select_region(
        page(rows),
        url="https://acme.test/subprocessors",
        content_type="text/html",
        select=["main"],
        remove=[],
    )
    return region.markdown()


def record_table_change(session: Session) -> Change:
    """Two versions of the subprocessor list (a location changed, a subprocessor replaced) and the
    change recorded between them."""
    document = make_document(session, "acme-subprocessors", ("https://acme.test/subprocessors",))
    document.title = "Subprocessors"
    record_version(session, document, extracted(ROWS), [])
    record_version(session, document, extracted(NEW_ROWS), [])
    return next(c for c in record_changes(session, get_settings()) if c.document_id == document.id)
