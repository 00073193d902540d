"""Double opt-in from the web: subscribe, read the emailed link, confirm, set preferences, unsubscribe."""

from __future__ import annotations

import email
import re
from email import policy

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.audience.subscribers import confirm_email, subscribe
from alerts.audience.tokens import Tokens
from policywatch.settings import get_settings
from store.db import transaction
from store.models import Document, Platform, Subscriber, Subscription

LINK = re.compile(r"https?://[^/\s]+(/(confirm|unsubscribe|preferences)/[\w.\-]+)")


def form_token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def emailed_text(address: str) -> str:
    """The plain text of the newest .eml the file backend wrote to ``address``."""
    files = sorted(get_settings().outbox.rglob("*.eml"), key=lambda p: p.stat().st_mtime)
    messages = [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in files]
    message = [m for m in messages if address in str(m["To"])][-1]
    return message.get_body(("plain",)).get_content()


def emailed_links(address: str) -> dict[str, str]:
    """The policywatch links in the newest .eml the file backend wrote to ``address``."""
    return {kind: path for path, kind in LINK.findall(emailed_text(address))}


def status(engine, address: str) -> str:
    with Session(engine) as session:
        return session.scalar(select(Subscriber.status).where(Subscriber.email == address))


def test_subscribe_confirm_preferences_unsubscribe(fresh_client, fresh_engine):
    client = fresh_client
    answer = client.post(
        "/subscribe",
        data={
            "email": "analyst@example.com",
            "platform": "acme",
            "min_significance": "minor",
            "csrf_token": form_token(client.get("/subscribe").text),
        },
    )
    assert "Check your inbox" in answer.text and status(fresh_engine, "analyst@example.com") == "pending"
    links = emailed_links("analyst@example.com")

    confirm_page = client.get(links["confirm"])
    assert (
        "Confirm" in confirm_page.text and status(fresh_engine, "analyst@example.com") == "pending"
    )  # GET changes nothing
    assert (
        "Subscription confirmed"
        in client.post(links["confirm"], data={"csrf_token": form_token(confirm_page.text)}).text
    )
    assert status(fresh_engine, "analyst@example.com") == "confirmed"

    preferences = client.get(links["preferences"])
    subscription_id = re.search(r'name="subscription_id" value="(\d+)"', preferences.text).group(1)
    saved = client.post(
        links["preferences"],
        data={
            "csrf_token": form_token(preferences.text),
            "action": "save",
            "subscription_id": subscription_id,
            "min_significance_alert": "substantive",
            "min_significance_digest": "cosmetic",
        },
    )
    assert "Saved." in saved.text and "<option selected>cosmetic</option>" in saved.text

    assert "Unsubscribe" in client.get(links["unsubscribe"]).text
    assert status(fresh_engine, "analyst@example.com") == "confirmed"
    done = client.post(links["unsubscribe"], data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and status(fresh_engine, "analyst@example.com") == "unsubscribed"


def test_one_click_unsubscribe_needs_no_cookie_but_the_rfc_8058_body(fresh_client, fresh_engine):
    client = fresh_client
    client.post(
        "/subscribe",
        data={
            "email": "mailer@example.com",
            "platform": "globex",
            "csrf_token": form_token(client.get("/subscribe").text),
        },
    )
    link = emailed_links("mailer@example.com")["unsubscribe"]
    client.cookies.clear()
    assert client.post(link).status_code == 400
    assert client.post(link, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert status(fresh_engine, "mailer@example.com") == "unsubscribed"


def test_forged_or_wrong_purpose_links_are_refused(fresh_client):
    client = fresh_client
    client.post(
        "/subscribe",
        data={
            "email": "x@example.com",
            "platform": "acme",
            "csrf_token": form_token(client.get("/subscribe").text),
        },
    )
    links = emailed_links("x@example.com")
    confirm_token = links["confirm"].rsplit("/", 1)[1]
    assert client.get(f"/unsubscribe/{confirm_token}").status_code == 400
    assert client.get("/preferences/forged.token").status_code == 400
    assert "does not work" in client.post("/unsubscribe/forged", data={"List-Unsubscribe": "One-Click"}).text


def test_subscribe_errors_are_shown_and_escaped(fresh_client):
    client = fresh_client
    answer = client.post(
        "/subscribe",
        data={
            "email": "not-an-address<script>",
            "platform": "acme",
            "csrf_token": form_token(client.get("/subscribe").text),
        },
    )
    assert (
        answer.status_code == 400
        and "invalid email address" in answer.text
        and "<script>" not in answer.text.split("<main>")[1]
    )


def test_a_professional_chooses_provisions_on_the_preferences_page(fresh_client, fresh_engine):
    with transaction(fresh_engine) as session:
        subscriber = subscribe(session, "pro@example.com", "professional", "acme")
        confirm_email(session, "pro@example.com")
        token = Tokens.from_settings(get_settings()).make("preferences", subscriber.id, subscriber.email)
    preferences = fresh_client.get(f"/preferences/{token}")
    assert 'name="provisions" value="government_carve_out"' in preferences.text
    subscription_id = re.search(r'name="subscription_id" value="(\d+)"', preferences.text).group(1)
    saved = fresh_client.post(
        f"/preferences/{token}",
        data={
            "csrf_token": form_token(preferences.text),
            "action": "save",
            "subscription_id": subscription_id,
            "provisions": ["government_carve_out", "military_weapons"],
        },
    )
    assert "Saved." in saved.text and 'value="military_weapons" checked' in saved.text
    with transaction(fresh_engine) as session:
        stored = session.get_one(Subscription, int(subscription_id)).provisions
    assert stored == ["government_carve_out", "military_weapons"]


def test_the_form_chooses_a_plan_several_platforms_and_topics(fresh_client, fresh_engine):
    from sqlalchemy import select

    from store.db import transaction
    from store.models import Platform, Subscriber, Subscription

    form = fresh_client.get("/subscribe").text
    assert 'name="tier" value="professional"' in form and "no same-day alerts" in form
    assert form.count('name="platform"') >= 2 and 'name="topics"' in form and 'name="provisions"' in form
    token = form.split('name="csrf_token" value="')[1].split('"')[0]
    answer = fresh_client.post(
        "/subscribe",
        data={
            "csrf_token": token,
            "email": "pro@example.com",
            "tier": "professional",
            "platform": ["acme", "globex"],
            "topics": ["government"],
            "min_significance": "minor",
        },
    )
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    with transaction(fresh_engine) as session:
        subscriber = session.scalars(select(Subscriber).where(Subscriber.email == "pro@example.com")).one()
        chosen = session.execute(
            select(Platform.slug, Subscription.topics)
            .join(Platform, Platform.id == Subscription.platform_id)
            .where(Subscription.subscriber_id == subscriber.id)
            .order_by(Platform.slug)
        ).all()
    assert subscriber.tier == "professional" and [tuple(row) for row in chosen] == [
        ("acme", ["government"]),
        ("globex", ["government"]),
    ]

    free = fresh_client.post(
        "/subscribe",
        data={
            "csrf_token": token,
            "email": "free@example.com",
            "tier": "free",
            "platform": ["acme", "globex"],
        },
    )
    assert free.status_code == 400 and "the free tier follows at most 1" in free.text


def subscriptions_of(engine, address: str) -> list[tuple[str, str | None]]:
    """(platform slug, document slug or None) of each subscription of ``address``, sorted."""
    with Session(engine) as session:
        rows = session.execute(
            select(Platform.slug, Document.slug)
            .select_from(Subscription)
            .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
            .join(Platform, Platform.id == Subscription.platform_id)
            .outerjoin(Document, Document.id == Subscription.document_id)
            .where(Subscriber.email == address)
        ).all()
    return sorted((platform, document) for platform, document in rows)


def test_the_form_chooses_documents_platform_by_platform(fresh_client, fresh_engine):
    from tests.web.site import add_announcement

    with transaction(fresh_engine) as session:
        add_announcement(session)
    form = fresh_client.get("/subscribe").text
    acme = form.split('value="acme"')[1].split('class="choice"')[0]
    assert 'name="document" value="acme-terms"' in acme and 'value="globex-privacy"' not in acme
    assert 'value="acme-gov-deal"' not in form  # a post comes with its platform, not on its own
    answer = fresh_client.post(
        "/subscribe",
        data={
            "csrf_token": form_token(form),
            "email": "watcher@example.com",
            "tier": "watcher",
            "platform": ["acme"],
            "document": ["acme-terms", "globex-privacy"],  # acme-terms is in all of Acme already
        },
    )
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    assert subscriptions_of(fresh_engine, "watcher@example.com") == [
        ("acme", None),
        ("globex", "globex-privacy"),
    ]

    none = fresh_client.post("/subscribe", data={"csrf_token": form_token(form), "email": "x@example.com"})
    assert none.status_code == 400 and "choose at least one platform or document" in none.text


def test_a_document_pages_subscribe_link_ticks_that_document_only(fresh_client):
    form = fresh_client.get("/subscribe?document=acme-terms&platform=acme").text
    acme = form.split('value="acme"')[1].split('class="choice"')[0]
    assert 'value="acme-terms" checked' in acme and "<details open>" in acme
    assert 'value="acme" checked' not in form


def test_a_free_subscriber_is_not_offered_same_day_alerts(fresh_client, fresh_engine):
    with transaction(fresh_engine) as session:
        subscriber = subscribe(session, "free@example.com", "free", "acme", min_significance="minor")
        confirm_email(session, "free@example.com")
        token = Tokens.from_settings(get_settings()).make("preferences", subscriber.id, subscriber.email)
    preferences = fresh_client.get(f"/preferences/{token}").text
    assert 'name="min_significance_alert"' not in preferences and "weekly digest only" in preferences
    subscription_id = re.search(r'name="subscription_id" value="(\d+)"', preferences).group(1)
    fresh_client.post(
        f"/preferences/{token}",
        data={
            "csrf_token": form_token(preferences),
            "action": "save",
            "subscription_id": subscription_id,
            "min_significance_digest": "substantive",
        },
    )
    with Session(fresh_engine) as session:
        saved = session.get_one(Subscription, int(subscription_id))
    assert (saved.min_significance_alert, saved.min_significance_digest) == ("minor", "substantive")
