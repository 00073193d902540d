"""The rows of the long tables (a document's version timeline, change lists), built in Python.

A row written in the template is dozens of output pieces, each passed up through three generators
(block, page, base layout) and escaped one by one. Here a row is one f-string with the same markup,
every piece of stored text escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from jinja2 import Environment
from jinja2.filters import do_truncate
from jinja2.utils import url_quote
from markupsafe import Markup, escape

TRUNCATE_LEEWAY = 5  # Jinja's default: a text this much over the length is left whole
# the environment ``do_truncate`` takes: it reads only its leeway policy, and a leeway is always given
_TRUNCATE_ENVIRONMENT = Environment()


def when(moment: datetime | None) -> str:
    """A timestamp as analysts read it: UTC, to the minute."""
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def when_whole(moment: datetime | None) -> Markup:
    """``when(moment)`` as HTML keeping its date and its time each on one line: a narrow column breaks
    between them, never at the date's hyphens."""
    return Markup(" ").join(
        Markup('<span class="nowrap">%s</span>') % part for part in when(moment).split(" ", 1)
    )


def version_rows(versions: Iterable, document: str, topics: Mapping) -> Markup:
    """The timeline rows of ``versions`` (newest first) of the document with slug ``document``."""
    slug, links = escape(document), _TopicLinks(topics)
    rows = []
    for v in versions:
        significance = escape(v.significance or "first")
        summary = (
            f'<a href="/changes/{v.change_id}">{escape(_short(v.summary, 160))}</a>'
            if v.change_id
            else '<span class="muted">first version recorded</span>'
        )
        diff = (
            f'<a href="/documents/{slug}/diff?from={v.seq - 1}&amp;to={v.seq}">diff</a>' if v.seq > 1 else ""
        )
        rows.append(
            f'<tr id="v{v.seq}">\n<td><a href="/documents/{slug}/versions/{v.seq}">v{v.seq}</a></td>\n'
            f"<td>{when_whole(v.created_at)}</td>\n"
            f'<td><span class="sig sig-{significance}">{significance}</span></td>\n<td>{summary}</td>\n'
            f"<td>{links.of(v.topics)}</td>\n<td>{diff}</td>\n</tr>"
        )
    return Markup("\n".join(rows))


def change_rows(changes: Iterable, topics: Mapping, show_document: bool = True) -> Markup:
    """The rows of a change list (``history.CHANGE_COLUMNS``), with each change's document if asked."""
    rows, links = [], _TopicLinks(topics)
    for c in changes:
        document = (
            f'<td><a href="/platforms/{escape(c.platform)}">{escape(c.platform_name)}</a> · '
            f'<a href="/documents/{escape(c.document)}">{escape(c.document_title)}</a></td>'
            if show_document
            else ""
        )
        significance = escape(c.significance)
        rows.append(
            f'<tr>\n<td><a href="/changes/{c.id}">{when_whole(c.detected_at)}</a></td>\n{document}'
            f'<td><span class="sig sig-{significance}">{significance}</span></td>\n'
            f"<td>{escape(_short(c.summary, 220))}</td>\n<td>{links.of(c.topics)}</td>\n</tr>"
        )
    return Markup("\n".join(rows) or '<tr><td colspan="5" class="muted">No changes match.</td></tr>')


class _TopicLinks(dict):
    """Each topic's link, made once per table (a page of 50 rows names a handful of topics)."""

    def __init__(self, topics: Mapping) -> None:
        super().__init__()
        self.topics = topics

    def of(self, ids: list[str] | None) -> str:
        """The links of ``ids``, in order."""
        return "".join(self[id] for id in ids or [])

    def __missing__(self, id: str) -> str:
        label = self.topics[id].label if id in self.topics else id
        link = self[id] = (
            f'<a class="topic" href="/changes?topic={escape(url_quote(id))}">{escape(label)}</a> '
        )
        return link


def _short(text: str | None, length: int) -> str:
    """``text`` cut at a word to about ``length`` characters, as Jinja's ``truncate`` filter cuts it."""
    return do_truncate(_TRUNCATE_ENVIRONMENT, text or "", length, leeway=TRUNCATE_LEEWAY)
