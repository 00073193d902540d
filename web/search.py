"""Full-text search over every version's text: SQLite FTS5 or PostgreSQL full-text search.

The FTS5 table comes from revision 0002, PostgreSQL's stored search vector from 0003. A search runs in two steps: one page of matching version ids
(newest recorded first, filtered; the count stops at COUNT_CAP), then highlighted snippets for that
page only, so the cost of highlighting does not grow with the number of matches. Snippets come back with START/STOP marks around matches;
``highlight`` escapes everything else before turning the marks into ``<mark>``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape
from sqlalchemy import ColumnElement, Integer, Select, func, select, text, true
from sqlalchemy.orm import Session

from store.models import Change, Document, Platform, Version
from web.history import Remember, count_now, has_topic

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

    per_document = False  # SQLite has no LATERAL; FTS5 answers from its own table first anyway

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
    """PostgreSQL: the stored ``version.search_vector`` (revision 0003) and its GIN index, queried
    with websearch syntax; snippets are highlighted from a short excerpt around the first match."""

    per_document = True

    def matches(self, q: str) -> ColumnElement[bool]:
        return text("version.search_vector @@ websearch_to_tsquery('english', :pg_q)").bindparams(pg_q=q)

    def snippets(self, session: Session, q: str, ids: list[int]) -> dict[int, str]:
        """``ts_headline`` over excerpts around the first place of each query word (read from the
        stored vector, so no text is parsed twice); over the whole text when the excerpts hold no match."""
        rows = session.execute(
            text("SELECT id, text, ARRAY(SELECT min(p) FROM unnest(search_vector) AS u, unnest(u.positions) AS p "
                 "WHERE u.lexeme = ANY(tsvector_to_array(to_tsvector('english', :q))) GROUP BY u.lexeme) AS firsts "
                 "FROM version WHERE id = ANY(:ids)"),
            {"q": q, "ids": ids},
        ).all()
        marked = self._headlines(session, q, {row.id: excerpt(row.text, row.firsts) for row in rows})
        missed = {row.id: row.text for row in rows if START not in marked.get(row.id, "")}
        return marked | (self._headlines(session, q, missed) if missed else {})

    @staticmethod
    def _headlines(session: Session, q: str, texts: dict[int, str]) -> dict[int, str]:
        options = f"StartSel={START}, StopSel={STOP}, MaxFragments=2, MaxWords=30, MinWords=12, FragmentDelimiter=' … '"
        rows = session.execute(
            text("SELECT id, ts_headline('english', body, websearch_to_tsquery('english', :q), :options) "
                 "FROM unnest(CAST(:ids AS integer[]), CAST(:bodies AS text[])) AS t(id, body)"),
            {"q": q, "options": options, "ids": list(texts), "bodies": list(texts.values())},
        ).all()
        return dict(rows)


EXCERPT_WORDS = (10, 30)  # words kept before and after each query word's estimated first place
# Joints between the \w+ runs of one token, where PostgreSQL's parser counts positions unlike one
# per run: a hyphenated word counts one more (the whole word), an email address, host name, URL or
# dotted number about one less per joint. The word character before a joint is tested apart: a
# lookbehind tried at every position of the text cost more than the rest of the excerpt.
JOINT = re.compile(r"[-.@:/+]+(?=\w)")
WORD_CHARACTER = re.compile(r"\w")


def excerpt(body: str, positions: list[int]) -> str:
    """The parts of ``body`` about EXCERPT_WORDS around each word position (1-based, as in a
    tsvector), joined by " … "; all of ``body`` without positions."""
    if not positions:
        return body
    shifts = [(joint.start(), 1 if set(joint[0]) == {"-"} else -1) for joint in JOINT.finditer(body)
              if joint.start() and WORD_CHARACTER.match(body, joint.start() - 1)]
    before, after = EXCERPT_WORDS
    windows: list[list[int]] = []
    for index in sorted(_word_number(body, position, shifts) for position in positions):
        low, high = max(index - before, 1), index + after
        if windows and low <= windows[-1][1] + 1:
            windows[-1][1] = max(windows[-1][1], high)
        else:
            windows.append([low, high])
    return " … ".join(body[_word_end(body, low - 1):_word_end(body, high)].strip() for low, high in windows)


def _word_number(body: str, position: int, shifts: list[tuple[int, int]]) -> int:
    """Which \\w+ run of ``body`` (1-based) holds tsvector ``position``: the position less the shifts
    of the joints before that run, found in a few rounds."""
    number = position
    for _ in range(3):
        end = _word_end(body, number)
        corrected = position - sum(shift for at, shift in shifts if at < end)
        if corrected == number:
            break
        number = max(corrected, 1)
    return number


def _word_end(body: str, number: int) -> int:
    """Where the ``number``-th \\w+ run of ``body`` ends (0 before the first; the end past the last)."""
    if number <= 0:
        return 0
    found = re.match(r"(?:\W*+\w++){%d}" % number, body)  # possessive: no backtracking
    return found.end() if found else len(body)


INDEXES = {"sqlite": Fts5Index(), "postgresql": PostgresIndex()}


def search_versions(session: Session, query: SearchQuery, limit: int, offset: int,
                    remember: Remember = count_now) -> tuple[list, int, dict[int, Markup]]:
    """One page of versions matching ``query`` (newest recorded first), how many match (at most
    COUNT_CAP, counted through ``remember`` as ``history.list_changes`` does), and a highlighted
    snippet per id."""
    if not re.search(r"\w", query.q):
        return [], 0, {}
    index = INDEXES[session.get_bind().dialect.name]
    matching = _matching(index, query, offset + limit)
    page = matching.order_by(matching.selected_columns.id.desc()).limit(limit).offset(offset).subquery()
    rows = session.execute(
        select(Version.id, Version.seq, Version.created_at, Document.slug.label("document"),
               Document.title.label("document_title"), Document.terms_type,
               Platform.slug.label("platform"), Platform.name.label("platform_name"),
               Change.id.label("change_id"), Change.significance)
        .select_from(Version).join(page, page.c.id == Version.id)
        .join(Document, Document.id == Version.document_id).join(Platform, Platform.id == Document.platform_id)
        .outerjoin(Change, Change.to_version_id == Version.id).order_by(Version.id.desc())
    ).all()
    total = remember(("search", query), lambda: session.scalar(
        select(func.count()).select_from(_matching(index, query, COUNT_CAP).limit(COUNT_CAP).subquery())))
    marked = index.snippets(session, query.q, [row.id for row in rows]) if rows else {}
    return rows, total, {version_id: highlight(snippet) for version_id, snippet in marked.items()}


def _matching(index, query: SearchQuery, enough: int) -> Select:
    """The ids of matching versions. Narrowed to some documents on PostgreSQL, it takes each
    document's ``enough`` newest matches (walking its own versions newest first) rather than walking
    every version newest first, which passes every other document's versions before finding theirs."""
    versions = [index.matches(query.q), *_version_filters(query)]
    documents = _document_filters(query)
    if not (documents and index.per_document):
        return (select(Version.id).select_from(Version).join(Document, Document.id == Version.document_id)
                .join(Platform, Platform.id == Document.platform_id)
                .outerjoin(Change, Change.to_version_id == Version.id).where(*versions, *documents))
    newest = (select(Version.id).outerjoin(Change, Change.to_version_id == Version.id)
              .where(Version.document_id == Document.id, *versions).order_by(Version.seq.desc()).limit(enough).lateral())
    return (select(newest.c.id.label("id")).select_from(Document).join(Platform, Platform.id == Document.platform_id)
            .join(newest, true()).where(*documents))


def _document_filters(query: SearchQuery) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if query.platform:
        found.append(Platform.slug == query.platform)
    if query.terms_type:
        found.append(Document.terms_type == query.terms_type)
    if query.document:
        found.append(Document.slug == query.document)
    return found


def _version_filters(query: SearchQuery) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
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
