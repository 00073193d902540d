"""Same-day news of newsroom posts: a new post is told to the subscribers of its platform (by topic
for those who filter), with its title, date, topics and opening; a newsroom's back catalogue and
old posts found late are not news."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from store.db import transaction
from store.models import Announcement, AnnouncementSource, Delivery, Document, Platform, utcnow
from store.versions import record_version
from tests.alerts.builders import confirmed, document, send_alerts

OPENING = (
    "Today we are making our models available to national security customers, with exceptions to our "
    "usage policy for lawful foreign intelligence analysis."
)


def post(session, newsroom: AnnouncementSource, slug: str, title: str, published, topics=()) -> Announcement:
    page = Document(slug=slug, platform=newsroom.platform, title=title, terms_type="Announcement")
    made = Announcement(
        source=newsroom,
        document=page,
        url=f"https://openai.test/news/{slug}",
        listed_url=f"https://openai.test/news/{slug}",
        title=title,
        published=published.date().isoformat(),
        topics=list(topics),
        fetched=True,
    )
    session.add(made)
    session.flush()
    record_version(
        session, page, f"# {title}\n\nMarch 3, 2026\n\n{OPENING}\n\nAbout OpenAI: we build AI.", []
    )
    return made


def test_a_new_post_is_news_for_its_platform_and_the_back_catalogue_is_not(db, sendgrid):
    with transaction(db) as session:
        document(session, platform_name="OpenAI")  # the platform
        newsroom = AnnouncementSource(
            platform=session.scalars(select(Platform)).one(),
            slug="openai-news",
            listing="https://openai.test/news",
        )
        session.add(newsroom)
        post(session, newsroom, "openai-old-launch", "An old launch", utcnow() - timedelta(days=400))
        confirmed(session, "watcher@example.com")
        confirmed(session, "military@example.com", tier="professional", topics=["military"])
        confirmed(session, "government@example.com", tier="professional", topics=["government"])
        confirmed(session, "free@example.com", tier="free")
    send_alerts(db)
    assert sendgrid.recipients() == []  # the newsroom's back catalogue is not news

    with transaction(db) as session:
        newsroom = session.scalars(select(AnnouncementSource)).one()
        now = utcnow()
        post(session, newsroom, "openai-gov", "OpenAI for Government", now, ["government"])
        post(session, newsroom, "openai-found-late", "A post found late", now - timedelta(days=30))
    send_alerts(db)

    assert sorted(sendgrid.recipients()) == ["government@example.com", "watcher@example.com"]
    request = sendgrid.accepted[0]  # both readers of the post in one request
    assert request.body["subject"] == "[policywatch] OpenAI announced: OpenAI for Government"
    text = request.body["content"][0]["value"]
    assert "OpenAI: OpenAI for Government" in text and f"Published {utcnow().date().isoformat()}" in text
    assert "Topics: Government" in text and OPENING in text and "https://openai.test/news/openai-gov" in text
    with transaction(db) as session:
        kinds = session.scalars(select(Delivery.kind).where(Delivery.kind == "announcement")).all()
    assert len(kinds) == 2
    send_alerts(db)  # told once
    assert len(sendgrid.recipients()) == 2


def test_a_newsroom_crawled_as_of_past_times_tells_its_news_by_the_crawls_times(db, sendgrid):
    read = datetime(2026, 5, 17, 22, 34, 15, tzinfo=UTC)  # a replayed crawl's time
    with transaction(db) as session:
        document(session, platform_name="OpenAI")
        newsroom = AnnouncementSource(
            platform=session.scalars(select(Platform)).one(),
            slug="openai-news",
            listing="https://openai.test/news",
            last_read_at=read,
        )
        session.add(newsroom)
        post(session, newsroom, "openai-old-launch", "An old launch", read).first_seen = read
        confirmed(session, "watcher@example.com")
    send_alerts(db)
    assert sendgrid.recipients() == []  # what the first read found is the back catalogue

    later = read + timedelta(hours=12)  # the next replayed crawl, months before today
    with transaction(db) as session:
        newsroom = session.scalars(select(AnnouncementSource)).one()
        newsroom.last_read_at = later
        post(session, newsroom, "openai-gov", "OpenAI for Government", later).first_seen = later
    send_alerts(db)

    assert sendgrid.recipients() == ["watcher@example.com"]
    assert sendgrid.accepted[0].body["subject"] == "[policywatch] OpenAI announced: OpenAI for Government"


def test_the_weekly_digest_opens_with_the_new_announcements(db, sendgrid):
    from tests.alerts.builders import change, send_digest

    with transaction(db) as session:
        usage = document(session, platform_name="OpenAI")
        newsroom = AnnouncementSource(
            platform=usage.platform, slug="openai-news", listing="https://openai.test/news"
        )
        session.add(newsroom)
        session.flush()
        newsroom.alerts_from = utcnow() - timedelta(days=1)
        post(session, newsroom, "openai-gov", "OpenAI for Government", utcnow(), ["government"])
        change(session, usage, summary="Weapons development is now prohibited.", detected_at=utcnow())
        confirmed(session, "free@example.com", tier="free")

    year, week, _ = utcnow().isocalendar()
    send_digest(db, f"{year}-W{week:02d}")

    [request] = sendgrid.accepted
    text = request.body["content"][0]["value"]
    assert request.body["subject"].endswith("1 change on 1 platform, 1 announcement")
    assert text.index("== New announcements ==") < text.index("== This week's changes ==")
    assert "* OpenAI: OpenAI for Government" in text


def test_a_post_names_the_topics_of_the_operators_taxonomy_by_their_labels(
    db, sendgrid, tmp_path, monkeypatch
):
    from policywatch.settings import get_settings

    extra = tmp_path / "topics.yaml"
    extra.write_text(
        "topics:\n  - id: model_welfare\n    label: Model welfare\n    patterns: ['\\bwelfare\\b']\n"
    )
    monkeypatch.setenv("POLICYWATCH_TAXONOMY_FILE", str(extra))
    get_settings.cache_clear()
    with transaction(db) as session:
        document(session, platform_name="OpenAI")
        newsroom = AnnouncementSource(
            platform=session.scalars(select(Platform)).one(),
            slug="openai-news",
            listing="https://openai.test/news",
        )
        session.add(newsroom)
        session.flush()
        newsroom.alerts_from = utcnow() - timedelta(days=1)
        post(session, newsroom, "openai-welfare", "Model welfare", utcnow(), ["model_welfare", "government"])
        confirmed(session, "watcher@example.com")
    send_alerts(db)

    [request] = sendgrid.accepted
    text, html = (part["value"] for part in request.body["content"])
    assert "Topics: Model welfare, Government" in text
    assert "Model welfare, Government" in html and "model_welfare" not in text + html
