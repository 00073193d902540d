"""Regions already extracted in one crawl, remembered by the bytes and rules they came from.

Extraction is a function of a page's bytes, its content type and the declaration's ``select`` and
``remove`` only (links lose their targets, so the URL never reaches the text): the same bytes served
under several URLs, or declared by several documents, are parsed and converted once per crawl.
Only digests, texts and refusal reasons are kept, never parsed trees, and at most ``size`` of them.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass

from policywatch.verdicts import Failure


@dataclass(frozen=True)
class Extracted:
    """What extraction made of some bytes: the region's digest and, once converted, its Markdown;
    or why the page was refused."""

    digest: str | None = None
    text: str | None = None
    failure: Failure | None = None


class RegionMemo:
    """A bounded, least-recently-used map from (body hash, content type, rules) to ``Extracted``."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._entries: OrderedDict[str, Extracted] = OrderedDict()

    @staticmethod
    def key(body_sha256: str, content_type: str | None, select: list, remove: list) -> str:
        """The memo key of one extraction."""
        rules = json.dumps([content_type, select, remove], sort_keys=True)
        return f"{body_sha256}:{hashlib.sha256(rules.encode()).hexdigest()}"

    def get(self, key: str) -> Extracted | None:
        """What was extracted under ``key`` in this crawl, if anything."""
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, key: str, extracted: Extracted) -> None:
        """Remember ``extracted`` under ``key``, forgetting the least recently used beyond ``size``."""
        self._entries[key] = extracted
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
