"""The topics a change can touch, from the bundled taxonomy.yaml and an operator's file.

The operator's file (``POLICYWATCH_TAXONOMY_FILE``) has the same shape; its topics are added, and a
topic with an existing id replaces the bundled one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from changes.data_files import bundled_and_extra
from policywatch.settings import Settings


class TaxonomyError(Exception):
    """A taxonomy file cannot be used: names the file and the reason."""


@dataclass(frozen=True)
class Topic:
    """One topic: its id, label, the patterns that find it and the regulations it bears on."""

    id: str
    label: str
    patterns: tuple[re.Pattern, ...]
    regulations: tuple[str, ...]

    @cached_property
    def _any(self) -> re.Pattern:
        return re.compile("|".join(f"(?:{p.pattern})" for p in self.patterns) or r"(?!)", re.I)

    def found_in(self, text: str) -> bool:
        """Whether any of the topic's patterns matches ``text`` (one scan of the text)."""
        return self._any.search(text) is not None

    def as_dict(self) -> dict:
        """The topic as stored in Change.details["topics"]."""
        return {"id": self.id, "label": self.label, "regulations": list(self.regulations)}


@dataclass(frozen=True)
class Taxonomy:
    """The topics in force, in file order."""

    topics: tuple[Topic, ...]

    def topics_in(self, texts: list[str]) -> list[Topic]:
        """The topics any of ``texts`` touches."""
        joined = "\n".join(texts)
        return [topic for topic in self.topics if topic.found_in(joined)]

    def get(self, topic_id: str) -> Topic | None:
        """The topic with ``topic_id``, if any."""
        return next((t for t in self.topics if t.id == topic_id), None)


def _topics(source: str, data: object) -> list[Topic]:
    if not isinstance(data, dict) or not isinstance(data.get("topics"), list):
        raise TaxonomyError(f"{source}: expected a mapping with a 'topics' list")
    topics = []
    for entry in data["topics"]:
        try:
            topics.append(
                Topic(
                    id=str(entry["id"]),
                    label=str(entry.get("label") or entry["id"]),
                    patterns=tuple(re.compile(p, re.I) for p in entry.get("patterns") or []),
                    regulations=tuple(str(r) for r in entry.get("regulations") or []),
                )
            )
        except (KeyError, TypeError, re.error) as exc:
            raise TaxonomyError(f"{source}: topic {entry!r} is invalid: {exc}") from None
    return topics


@lru_cache(maxsize=8)
def load_taxonomy(extra: Path | None = None) -> Taxonomy:
    """The bundled topics, extended or overridden by those of the operator's file ``extra``."""
    return Taxonomy(tuple(bundled_and_extra("taxonomy.yaml", extra, _topics, TaxonomyError)))


def taxonomy_for(settings: Settings) -> Taxonomy:
    """The taxonomy in force under ``settings`` (its ``taxonomy_file``, if any)."""
    return load_taxonomy(settings.taxonomy_file)
