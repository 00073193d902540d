"""A page's fingerprint: a SHA-256 of its bytes with the volatile markup left out, computed without
parsing, so that a page that changed only there is recognised for a fraction of a parse's cost.

Volatile markup is what a server rewrites on every response and extraction never reads: the content
of ``<script>`` and ``<style>`` elements (nonces, build ids, inline state, hashed class names), the
attributes of those and of ``<link>`` and ``<meta>`` tags (build ids in asset URLs, preload hints,
tracking parameters in canonical links, ``nonce``, ``integrity``) and comments (the parser drops
them). Each is emptied in place (``<script></script>``), so every element stays where it was and
counted; the rest of the page is hashed byte for byte, with the content type and the encoding.

Two pages with the same fingerprint therefore parse to the same tree apart from what ``prune``
drops from every region and what no CSS selector sees (script and style text, those tags'
attributes): under the same rules they have the same region, digest and refusal, unless a rule
itself looks at those elements or at text (``:contains``), which ``fingerprint_applies`` tells.
Tags are found case-insensitively; a comment or script left open runs to the end of the page, as
in the HTML tokenizer.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re

from crawler.extract.extraction import page_encoding
from crawler.extract.pdf import is_pdf

#: Starts of volatile markup: a comment, or one of the tags (any case) with its name ended.
_START = re.compile(rb"<(?:(!--)|(?i:(script|style|link|meta))[\s/>])")
#: Where each ends (searched from the character after its name), as the HTML tokenizer ends it.
_ENDS = {
    b"!--": re.compile(rb"--!?>"),  # from "<!" on, so that "<!-->" and "<!--->" end at once
    b"script": re.compile(rb"</(?i:script)(?:>|[\s/][^>]*>?)"),
    b"style": re.compile(rb"</(?i:style)(?:>|[\s/][^>]*>?)"),
    b"link": re.compile(rb">"),
    b"meta": re.compile(rb">"),
}
#: What each becomes: the same markup, emptied, which scans to the same cut again.
_EMPTIED = {
    b"!--": b"<!---->",
    b"script": b"<script></script>",
    b"style": b"<style></style>",
    b"link": b"<link>",
    b"meta": b"<meta>",
}
#: Words in a rule that mean it may see volatile markup.
_SEES_VOLATILE = re.compile(r"script|style|link|meta|contains|nonce", re.IGNORECASE)


def page_fingerprint(body: bytes, content_type: str | None) -> str | None:
    """The fingerprint of an HTML ``body``; None for a PDF, which has no markup to leave out."""
    if is_pdf(body, content_type):
        return None
    parts: list = [json.dumps([content_type, page_encoding(body, content_type)]).encode(), b"\n"]
    view, position = memoryview(body), 0
    while (found := _START.search(body, position)) is not None:
        kind = (found.group(1) or found.group(2)).lower()
        parts += (view[position : found.start()], _EMPTIED[kind])
        end = _ENDS[kind].search(body, found.start() + 2 if kind == b"!--" else found.end() - 1)
        position = len(body) if end is None else end.end()
    parts.append(view[position:])
    return hashlib.sha256(b"".join(parts)).hexdigest()


@functools.lru_cache(maxsize=1024)
def _applies(rules: str) -> bool:
    return _SEES_VOLATILE.search(rules) is None


def fingerprint_applies(select: list, remove: list) -> bool:
    """Whether equal fingerprints mean equal regions under these rules: not when a rule names
    script, style, link or meta elements, a nonce, or matches text."""
    return _applies(json.dumps([select, remove]))
