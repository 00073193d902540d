"""The topics of the changes layer's taxonomy, by id, for labels, filters and the compare page."""

from __future__ import annotations

from changes.taxonomy import Topic, taxonomy_for
from policywatch.settings import get_settings


def topic_index() -> dict[str, Topic]:
    """Every topic in force, by id, in taxonomy order."""
    return {topic.id: topic for topic in taxonomy_for(get_settings()).topics}
