"""Announcements: the posts found on newsrooms, tagged with the taxonomy's topics (listed by
``store.queries.announcements``).

A post's topics come from its own text: its headline and the lines of its latest version that no
other post of the same newsroom shares (the company's "about us" paragraph, a related-posts strip and
other boilerplate repeat across posts), links-only lines left out.
"""

from __future__ import annotations

import re
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from changes.taxonomy import taxonomy_for
from policywatch.settings import Settings
from store.models import Announcement, AnnouncementSource, Version

#: A Markdown line that is nothing but links (a related-posts or share strip).
LINKS_ONLY = re.compile(r"^\W*(?:\[[^\]]*\]\([^)]*\)\W*)+$")


def tag_posts(session: Session, settings: Settings) -> None:
    """Set every post's topics from its own text."""
    taxonomy = taxonomy_for(settings)
    texts = _latest_texts(session)
    for newsroom in session.scalars(select(AnnouncementSource)):
        lines = {post.id: _lines(texts.get(post.document_id, "")) for post in newsroom.posts}
        shared = Counter(line for own in lines.values() for line in set(own))
        for post in newsroom.posts:
            own = [line for line in lines[post.id] if shared[line] < 2 and not LINKS_ONLY.match(line)]
            headline = post.title or post.listed_title or ""
            topics = [t.id for t in taxonomy.topics_in([headline, *own])] if own or headline else []
            if post.topics != topics:
                post.topics = topics


def _latest_texts(session: Session) -> dict[int, str]:
    """The latest version's text of every post's document."""
    latest = (
        select(Version.document_id, func.max(Version.seq).label("seq"))
        .where(Version.document_id.in_(select(Announcement.document_id)))
        .group_by(Version.document_id)
        .subquery()
    )
    rows = session.execute(
        select(Version.document_id, Version.text).join(
            latest, (Version.document_id == latest.c.document_id) & (Version.seq == latest.c.seq)
        )
    )
    return dict(rows.tuples().all())


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]
