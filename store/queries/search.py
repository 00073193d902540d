"""Full-text search over every version's text: SQLite FTS5 or PostgreSQL full-text search.

The FTS5 table comes from revision 0002, PostgreSQL's stored search vector from 0003. A search
runs in two steps: one page of matching version ids (newest recorded first, filtered; the count
stops at COUNT_CAP), then snippets for that page only, so the cost of highlighting does not grow
with the number of matches. Snippets come back with START/STOP marks around matches, for the
front end to highlight.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Row,
    Select,
    TextClause,
    cast,
    func,
    select,
    text,
    true,
)
from sqlalchemy.orm import Session

from store.models import Change, Document, Platform, Version
from store.queries.changes import Remember, count_now, has_topic

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

    def matches(self, q: str) -> ColumnElement[bool]:
        return Version.id.in_(
            text("SELECT rowid FROM version_fts WHERE version_fts MATCH :fts")
            .bindparams(fts=self.expression(q))
            .columns(rowid=Integer)
        )

    def snippets(self, session: Session, q: str, ids: list[int]) -> dict[int, str]:
        rows = session.execute(
            text(
                "SELECT rowid, snippet(version_fts, 0, :start, :stop, ' … ', 32) FROM version_fts "
                "WHERE version_fts MATCH :fts AND rowid IN (SELECT value FROM json_each(:ids))"
            ),
            {"start": START, "stop": STOP, "fts": self.expression(q), "ids": str(ids)},
        ).all()
        return dict(rows)

    @staticmethod
    def in_document(session: Session, q: str) -> None:
        """None: SQLite has no ``LATERAL``, and FTS5 answers from its own table first anyway, so a
        narrowed search filters the matches by document."""
        return None

    @staticmethod
    def expression(q: str) -> str:
        """``q`` as an FTS5 query of quoted phrases (all must occur), immune to FTS5 syntax errors."""
        phrases = [phrase or word for phrase, word in PHRASES.findall(q)]
        return " ".join('"' + p.replace('"', '""') + '"' for p in phrases if re.search(r"\w", p))


class PostgresIndex:
    """PostgreSQL: the stored ``version.search_vector`` (revision 0003) and its GIN index, queried
    with websearch syntax; snippets are highlighted from short excerpts around the query's words."""

    def matches(self, q: str) -> TextClause:
        return text("version.search_vector @@ websearch_to_tsquery('english', :pg_q)").bindparams(pg_q=q)

    @staticmethod
    def in_document(session: Session, q: str) -> ColumnElement[bool]:
        """How a search narrowed to some documents ties a version to the document it is looking at.
        When the index alone can find the query's matches, by the index's document key (revision
        0006), which the ``(document_id, seq)`` b-tree cannot answer: the matches come from the index
        and are sorted, with no stored vector read, where walking the document's versions newest
        first would read every walked version's vector from TOAST. Otherwise by ``document_id``,
        leaving the planner free to walk: for a phrase (quoted, or words joined by punctuation such
        as "opt-out"), whose candidates' vectors are read either way and a common one is found
        soonest by walking, and for a query the index cannot answer at all (only negated words),
        which through the key alone would scan the whole table once per document."""
        searchable = session.scalar(_INDEXABLE, {"q": q})
        if (
            searchable in ("T", "") or "<" in searchable
        ):  # nothing to look up, or a phrase operator (<->, <N>)
            return Version.document_id == Document.id
        return cast(Version.document_id, BigInteger) == cast(Document.id, BigInteger)

    def snippets(self, session: Session, q: str, ids: list[int]) -> dict[int, str]:
        """``ts_headline`` over excerpts around the first words that may stem to the query's lexemes
        (``first_places``: a guess, which PostgreSQL's headline then checks); over the whole text
        when the excerpts hold no match."""
        rows = session.execute(_TEXTS, {"q": q, "ids": ids}).all()
        marked = self._headlines(
            session, q, {row.id: excerpt(row.text, first_places(row.text, row.lexemes)) for row in rows}
        )
        missed = {row.id: row.text for row in rows if START not in marked.get(row.id, "")}
        return marked | (self._headlines(session, q, missed) if missed else {})

    @staticmethod
    def _headlines(session: Session, q: str, texts: dict[int, str]) -> dict[int, str]:
        options = (
            f"StartSel={START}, StopSel={STOP}, MaxFragments=2, MaxWords=30, MinWords=12, "
            "FragmentDelimiter=' … '"
        )
        rows = session.execute(
            text(
                "SELECT id, ts_headline('english', body, websearch_to_tsquery('english', :q), :options) "
                "FROM unnest(CAST(:ids AS integer[]), CAST(:bodies AS text[])) AS t(id, body)"
            ),
            {"q": q, "options": options, "ids": list(texts), "bodies": list(texts.values())},
        ).all()
        return dict(rows)


# The part of a query the search index can look up: "T" when none (only negated words), empty
# without lexemes.
_INDEXABLE = text("SELECT querytree(websearch_to_tsquery('english', :q))")
# The texts of a page of hits, and the query's lexemes as PostgreSQL stems them.
_TEXTS = text(
    "SELECT id, text, tsvector_to_array(to_tsvector('english', :q)) AS lexemes "
    "FROM version WHERE id = ANY(:ids)"
)
PLACES_PER_LEXEME = 2
EXCERPT_WORDS = (10, 30)  # words kept before and after each place
_AHEAD = re.compile(rf"(?:\W*+\w++){{1,{EXCERPT_WORDS[1]}}}")
_BACK = re.compile(rf"(?:\W*+\w++){{1,{EXCERPT_WORDS[0]}}}")  # matched on the reversed stretch before a place
_ANY = re.compile("")


def first_places(body: str, lexemes: list[str]) -> list[int]:
    """Where in ``body`` the first words that may stem to each of ``lexemes`` start (character
    offsets). English stemming keeps a word's start and rewrites only its end (privacy → privaci,
    using → use), so a word qualifies when it starts like the lexeme, its last letter loosened."""
    lowered, places = body.lower(), []
    for lexeme in lexemes:
        start, ending = _stem_start(lexeme)
        at = lowered.find(start)
        found = 0
        while at >= 0 and found < PLACES_PER_LEXEME:
            if (at == 0 or not _word_character(lowered[at - 1])) and ending.match(lowered, at + len(start)):
                places.append(at)
                found += 1
            at = lowered.find(start, at + 1)
    return places


@functools.lru_cache(maxsize=256)
def _stem_start(lexeme: str) -> tuple[str, re.Pattern]:
    """The letters words that may stem to ``lexeme`` start with, and what must follow them."""
    if lexeme.endswith("i"):
        return lexeme[:-1], re.compile("[iy]")  # privaci: privacy, privacies
    if lexeme.endswith("e") and len(lexeme) > 2:
        return lexeme[:-1], re.compile("e|ing|ed")  # use: using, used
    return lexeme, _ANY


def _word_character(character: str) -> bool:
    return character.isalnum() or character == "_"


def excerpt(body: str, places: list[int]) -> str:
    """The parts of ``body`` about EXCERPT_WORDS around each place (a character offset), joined by
    " … "; all of ``body`` without places."""
    if not places:
        return body
    windows: list[list[int]] = []
    for at in sorted(places):
        back = _BACK.match(body[max(0, at - 40 * EXCERPT_WORDS[0]) : at][::-1])
        ahead = _AHEAD.match(body, at)
        low, high = at - (back.end() if back else 0), ahead.end() if ahead else len(body)
        if windows and low <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], high)
        else:
            windows.append([low, high])
    return " … ".join(body[low:high].strip() for low, high in windows)


INDEXES: dict[str, Fts5Index | PostgresIndex] = {"sqlite": Fts5Index(), "postgresql": PostgresIndex()}


def search_versions(
    session: Session, query: SearchQuery, limit: int, offset: int, remember: Remember = count_now
) -> tuple[Sequence[Row], int, dict[int, str]]:
    """One page of versions matching ``query`` (newest recorded first), how many match (at most
    COUNT_CAP, counted through ``remember`` as ``changes.list_changes`` does, unless the page is the
    last one), and a snippet per id with START/STOP marks around its matches."""
    if not re.search(r"\w", query.q):
        return [], 0, {}
    index = INDEXES[session.get_bind().dialect.name]
    in_document = index.in_document(session, query.q) if _document_filters(query) else None
    matching = _matching(index, query, offset + limit, in_document)
    page = matching.order_by(matching.selected_columns.id.desc()).limit(limit).offset(offset).subquery()
    rows = session.execute(
        select(
            Version.id,
            Version.seq,
            Version.created_at,
            Document.slug.label("document"),
            Document.title.label("document_title"),
            Document.terms_type,
            Platform.slug.label("platform"),
            Platform.name.label("platform_name"),
            Change.id.label("change_id"),
            Change.significance,
        )
        .select_from(Version)
        .join(page, page.c.id == Version.id)
        .join(Document, Document.id == Version.document_id)
        .join(Platform, Platform.id == Document.platform_id)
        .outerjoin(Change, Change.to_version_id == Version.id)
        .order_by(Version.id.desc())
    ).all()
    if rows and len(rows) < limit:  # the last page: the matches are counted already
        total = min(offset + len(rows), COUNT_CAP)
    else:
        total = remember(
            ("search", query),
            lambda: session.scalar(
                select(func.count()).select_from(
                    _matching(index, query, COUNT_CAP, in_document).limit(COUNT_CAP).subquery()
                )
            ),
        )
    return rows, total, index.snippets(session, query.q, [row.id for row in rows]) if rows else {}


def _matching(index, query: SearchQuery, enough: int, in_document: ColumnElement[bool] | None) -> Select:
    """The ids of matching versions. With ``in_document`` (a search narrowed to some documents on
    PostgreSQL: ``PostgresIndex.in_document``), each document's ``enough`` newest matches, rather than
    walking every version newest first, which passes every other document's versions before
    finding theirs."""
    versions = [index.matches(query.q), *_version_filters(query)]
    documents = _document_filters(query)
    if in_document is None:
        return (
            select(Version.id)
            .select_from(Version)
            .join(Document, Document.id == Version.document_id)
            .join(Platform, Platform.id == Document.platform_id)
            .outerjoin(Change, Change.to_version_id == Version.id)
            .where(*versions, *documents)
        )
    newest = (
        select(Version.id)
        .outerjoin(Change, Change.to_version_id == Version.id)
        .where(in_document, *versions)
        .order_by(Version.seq.desc())
        .limit(enough)
        .lateral()
    )
    return (
        select(newest.c.id.label("id"))
        .select_from(Document)
        .join(Platform, Platform.id == Document.platform_id)
        .join(newest, true())
        .where(*documents)
    )


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
