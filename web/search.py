"""Full-text search over every version's text: SQLite FTS5 or PostgreSQL full-text search.

Both indexes come from revision 0002. A search runs in two steps: one page of matching version ids
(newest recorded first, filtered; the count stops at COUNT_CAP), then highlighted snippets for that
page only, so the cost of highlighting does not grow with the number of matches. Snippets come back with START/STOP marks around matches;
``highlight`` escapes everything else before turning the marks into ``<mark>``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape
from sqlalchemy import ColumnElement, Integer, func, select, text
from sqlalchemy.orm import Session

from store.models import Change, Document, Platform, Version
from web.history import has_topic

START, STOP = "\x01", "\x02"
COUNT_CAP = 1000  # matches counted at most: a common word matches nearly every version
PHRASES = re.compile(r'"([^"]*)"|(\S+)')


@dataclass(frozen=True)
class SearchQuery:
    """What to look for and the filters: platform, terms type, version date range and change topic."""

    q: str
    platform: str | None = None
    terms_type: str | None = None
    document: str | None = None
    topic: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class Fts5Index:
    """SQLite: the ``version_fts`` FTS5 table (porter stemming); user text becomes quoted phrases."""

    def prepare(self, session: Session) -> None:
        """Nothing to set: FTS5 always answers from its index."""

    def matches(self, q: str) -> ColumnElement[bool]:
        return Version.id.in_(text("SELECT rowid FROM version_fts WHERE version_fts MATCH :fts")
                              .bindparams(fts=self.expression(q)).columns(rowid=Integer))

    def snippets(self, session: Session, q: str, ids: list[int]) -> dict[int, str]:
        rows = session.execute(
            text("SELECT rowid, snippet(version_fts, 0, :start, :stop, ' … ', 32) FROM version_fts "
                 "WHERE version_fts MATCH :fts AND rowid IN (SELECT value FROM json_each(:ids))"),
            {"start": START, "stop": STOP, "fts": self.expression(q), "ids": str(ids)},
        ).all()
        return dict(rows)

    @staticmethod
    def expression(q: str) -> str:
        """``q`` as an FTS5 query of quoted phrases (all must occur), immune to FTS5 syntax errors."""
        phrases = [phrase or word for phrase, word in PHRASES.findall(q)]
        return " ".join('"' + p.replace('"', '""') + '"' for p in phrases if re.search(r"\w", p))


class PostgresIndex:
    """PostgreSQL: the GIN index on ``to_tsvector('english', text)``, queried with websearch syntax."""

    def prepare(self, session: Session) -> None:
        """Make this transaction answer from the GIN index (bitmap scans) only: the planner otherwise
        walks the primary key for a common word and parses every text it passes (seconds at 100k)."""
        session.execute(text("SET LOCAL enable_seqscan = off"))
        session.execute(text("SET LOCAL enable_indexscan = off"))

    def matches(self, q: str) -> ColumnElement[bool]:
        return text("to_tsvector('english', version.text) @@ websearch_to_tsquery('english', :pg_q)").bindparams(pg_q=q)

    def snippets(self, session: Session, q: str, ids: list[int]) -> dict[int, str]:
        options = f"StartSel={START}, StopSel={STOP}, MaxFragments=2, MaxWords=30, MinWords=12, FragmentDelimiter=' … '"
        rows = session.execute(
            text("SELECT id, ts_headline('english', text, websearch_to_tsquery('english', :q), :options) "
                 "FROM version WHERE id = ANY(:ids)"),
            {"q": q, "options": options, "ids": ids},
        ).all()
        return dict(rows)


INDEXES = {"sqlite": Fts5Index(), "postgresql": PostgresIndex()}


def search_versions(session: Session, query: SearchQuery, limit: int, offset: int) -> tuple[list, int, dict[int, Markup]]:
    """One page of versions matching ``query`` (newest recorded first), how many match (at most
    COUNT_CAP), and a highlighted snippet per id."""
    if not re.search(r"\w", query.q):
        return [], 0, {}
    index = INDEXES[session.get_bind().dialect.name]
    index.prepare(session)
    conditions = [index.matches(query.q), *_filters(query)]
    base = (select(Version.id, Version.seq, Version.created_at, Document.slug.label("document"),
                   Document.title.label("document_title"), Document.terms_type,
                   Platform.slug.label("platform"), Platform.name.label("platform_name"),
                   Change.id.label("change_id"), Change.significance)
            .select_from(Version).join(Document, Document.id == Version.document_id)
            .join(Platform, Platform.id == Document.platform_id)
            .outerjoin(Change, Change.to_version_id == Version.id).where(*conditions))
    rows = session.execute(base.order_by(Version.id.desc()).limit(limit).offset(offset)).all()
    total = session.scalar(select(func.count()).select_from(base.with_only_columns(Version.id).limit(COUNT_CAP).subquery()))
    marked = index.snippets(session, query.q, [row.id for row in rows]) if rows else {}
    return rows, total, {version_id: highlight(snippet) for version_id, snippet in marked.items()}


def _filters(query: SearchQuery) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if query.platform:
        found.append(Platform.slug == query.platform)
    if query.terms_type:
        found.append(Document.terms_type == query.terms_type)
    if query.document:
        found.append(Document.slug == query.document)
    if query.topic:
        found.append(has_topic(Change.topics, query.topic))
    if query.since:
        found.append(Version.created_at >= query.since)
    if query.until:
        found.append(Version.created_at < query.until)
    return found


def highlight(snippet: str) -> Markup:
    """A marked snippet as safe HTML: the text escaped, the marks turned into balanced ``<mark>`` tags."""
    parts, out, open_ = re.split(f"([{START}{STOP}])", snippet), [], False
    for part in parts:
        if part == START and not open_:
            out.append(Markup("<mark>"))
            open_ = True
        elif part == STOP and open_:
            out.append(Markup("</mark>"))
            open_ = False
        elif part not in (START, STOP):
            out.append(escape(part))
    if open_:
        out.append(Markup("</mark>"))
    return Markup("").join(out)
