"""Announcements: the posts found on newsrooms, tagged with the taxonomy's topics (listed by
``store.queries.announcements``).

A post's topics come from its own text: its headline and the lines of its latest version that no
other post of the same newsroom shares (the company's "about us" paragraph, a related-posts strip and
other boilerplate repeat across posts), links-only lines left out.
"""

from __future__ import annotations

import re
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from changes.taxonomy import taxonomy_for
from policywatch.settings import Settings
from store.models import Announcement, AnnouncementSource
from store.versions import latest_texts

#: A Markdown line that is nothing but links (a related-posts or share strip).
LINKS_ONLY = re.compile(r"^\W*(?:\[[^\]]*\]\([^)]*\)\W*)+$")


def tag_posts(session: Session, settings: Settings) -> None:
    """Set every post's topics from its own text."""
    taxonomy = taxonomy_for(settings)
    texts = latest_texts(session, select(Announcement.document_id))
    for newsroom in session.scalars(select(AnnouncementSource)):
        lines = {post.id: _lines(texts.get(post.document_id, "")) for post in newsroom.posts}
        shared = Counter(line for own in lines.values() for line in set(own))
        for post in newsroom.posts:
            own = [line for line in lines[post.id] if shared[line] < 2 and not LINKS_ONLY.match(line)]
            headline = post.title or post.listed_title or ""
            topics = [t.id for t in taxonomy.topics_in([headline, *own])] if own or headline else []
            if post.topics != topics:
                post.topics = topics


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]
