"""What an email says about a change: plain dicts for the templates, built from Change rows.

Page content is untrusted: the HTML templates autoescape everything taken from here.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from changes.compare import shown_clauses, word_diff
from changes.plain import plain
from changes.provisions import Catalog
from changes.tables import row_lines
from changes.taxonomy import Taxonomy
from policywatch.verdicts import Significance
from store.models import Announcement, Change, Document, Platform, ProvisionInstance, Version
from store.queries.documents import document_title
from store.versions import latest_texts

MAX_SECTIONS = 8
MAX_CLAUSES = 4
MAX_TABLE_ROWS = 8


def change_views(
    session: Session, change_ids: Iterable[int], base_url: str, catalog: Catalog
) -> dict[int, dict]:
    """Template views of these changes by id, each with its platform, document, redline and link; the
    provisions they touch named by ``catalog`` (the one in force: bundled and the operator's)."""
    rows = session.execute(
        select(Change, Document, Platform, Version.chain_hash)
        .join(Document, Document.id == Change.document_id)
        .join(Platform, Platform.id == Document.platform_id)
        .join(Version, Version.id == Change.to_version_id)
        .where(Change.id.in_(set(change_ids)))
    ).all()
    clauses = _clauses(session, [change for change, _, _, _ in rows])
    return {
        change.id: change_view(change, document, platform, head, base_url, clauses, catalog)
        for change, document, platform, head in rows
    }


def _clauses(session: Session, changes: list[Change]) -> dict[tuple[int, str], list[str]]:
    """(version id, provision) -> its clauses, for the versions of the changes that touch provisions."""
    wanted = [c for c in changes if c.provisions]
    versions = {v for c in wanted for v in (c.from_version_id, c.to_version_id)}
    if not versions:
        return {}
    rows = session.execute(
        select(ProvisionInstance.version_id, ProvisionInstance.provision, ProvisionInstance.clauses).where(
            ProvisionInstance.version_id.in_(versions)
        )
    )
    return {(version, provision): list(found or []) for version, provision, found in rows}


def _provision(
    change: Change, provision: str, clauses: dict[tuple[int, str], list[str]], catalog: Catalog
) -> dict:
    """One provision a change touches: its label (from ``catalog``) and the clauses removed and added."""
    kind = catalog.get(provision)
    before = clauses.get((change.from_version_id, provision), [])
    after = clauses.get((change.to_version_id, provision), [])
    removed = [c for c in before if c not in after]
    added = [c for c in after if c not in before]
    return {
        "label": kind.label if kind else provision,
        "status": "appeared" if not before else "removed" if not after else "changed",
        "removed": [plain(c) for c in removed[:MAX_CLAUSES]],
        "added": [plain(c) for c in added[:MAX_CLAUSES]],
    }


def change_view(
    change: Change,
    document: Document,
    platform: Platform,
    chain_head: str,
    base_url: str,
    clauses: dict[tuple[int, str], list[str]],
    catalog: Catalog,
) -> dict:
    """One change as the templates show it, opening with the provisions it touches (named by
    ``catalog``, with their clauses before and after, from ``clauses``: (version id, provision) ->
    clauses), and the chain head its new version made."""
    details = change.details or {}
    sections = [_section(section) for section in details.get("sections", [])]
    return {
        "id": change.id,
        "platform": platform.name,
        "document": document.title,
        "title": document_title(platform.name, document.title),
        "significance": change.significance,
        "detected_at": change.detected_at.strftime("%Y-%m-%d %H:%M UTC"),
        "summary": change.summary,
        "provisions": [_provision(change, p, clauses, catalog) for p in change.provisions or []],
        "reasons": list(change.reasons or []),
        "topics": [topic.get("label") or topic.get("id") for topic in details.get("topics", [])]
        or list(change.topics or []),
        "regulations": list(details.get("regulations", [])),
        "sections": sections[:MAX_SECTIONS],
        "more_sections": max(0, len(sections) - MAX_SECTIONS),
        "url": f"{base_url}/changes/{change.id}",
        "chain_head": chain_head,
    }


def by_significance(views: Iterable[dict]) -> list[dict]:
    """Views most significant first, then oldest first."""
    return sorted(views, key=lambda view: (-Significance(view["significance"]).rank, view["id"]))


def by_platform(views: Iterable[dict]) -> list[tuple[str, list[dict]]]:
    """(platform, its views most significant first), platforms with the most significant change first."""
    groups: dict[str, list[dict]] = {}
    for view in by_significance(views):
        groups.setdefault(view["platform"], []).append(view)
    return list(groups.items())


def subject_line(view: dict) -> str:
    """How a change is named in a subject: platform, document and significance."""
    return f"{view['title']} ({view['significance']})"


def _section(section: dict) -> dict:
    """A section as the emails show it: a reworded clause once, as its word-level redline, the
    clauses only added or only removed, and its changed tables as tables; no Markdown markers."""
    added, removed, changed = shown_clauses(section)
    return {
        "heading": plain(section.get("heading") or "") or section.get("path") or "(untitled section)",
        "old_heading": plain(section.get("old_heading") or "") or None,
        "status": section.get("status", "modified"),
        "added": [plain(c) for c in added[:MAX_CLAUSES]],
        "removed": [plain(c) for c in removed[:MAX_CLAUSES]],
        "changed": [_reworded(c) for c in changed[:MAX_CLAUSES]],
        "more": sum(max(0, len(clauses) - MAX_CLAUSES) for clauses in (added, removed, changed)),
        "tables": [_table(table) for table in section.get("tables", [])],
    }


def _table(table: dict) -> dict:
    """A changed table as the emails show it: its header and rows up to ``MAX_TABLE_ROWS`` changed
    ones (unchanged runs as their count), and for the plain-text part each changed row as
    "Column: value" lines (a changed cell as "old → new")."""
    rows, edited = [], 0
    for row in table["rows"]:
        edited += row["status"] != "same"
        if edited > MAX_TABLE_ROWS:
            break
        rows.append(row)
    lines = row_lines(table["header"], rows)
    total = sum(row["status"] != "same" for row in table["rows"])
    return {**table, "rows": rows, "lines": lines, "more": max(0, total - MAX_TABLE_ROWS)}


def _reworded(pair: dict) -> dict:
    before, after = pair.get("before", ""), pair.get("after", "")
    runs = pair.get("diff") or word_diff(before, after)
    redline = [{"op": op, "text": plain(text)} for op, text in runs]
    return {"before": plain(before), "after": plain(after), "redline": redline}


#: The opening of a post shown in its alert, at most this many characters.
OPENING_CHARS = 400


def post_views(
    session: Session, post_ids: Iterable[int], base_url: str, taxonomy: Taxonomy
) -> dict[int, dict]:
    """Template views of these newsroom posts by id: platform, title, date, topics (labelled by
    ``taxonomy``, the one in force: bundled and the operator's), opening, links."""
    topics = {topic.id: topic.label for topic in taxonomy.topics}
    rows = session.execute(
        select(Announcement, Document, Platform)
        .join(Document, Document.id == Announcement.document_id)
        .join(Platform, Platform.id == Document.platform_id)
        .where(Announcement.id.in_(set(post_ids)))
    ).all()
    texts = latest_texts(session, [document.id for _, document, _ in rows])
    return {
        post.id: {
            "platform": platform.name,
            "title": post.title or post.listed_title or document.title,
            "published": post.published or post.listed_published or "date not given",
            "topics": [topics.get(topic, topic) for topic in post.topics or []],
            "opening": _opening(texts.get(document.id, "")),
            "url": post.url,
            "page": f"{base_url}/documents/{document.slug}",
        }
        for post, document, platform in rows
    }


def _opening(text: str) -> str:
    """The post's first paragraph of prose (headings, datelines and short labels skipped)."""
    for block in text.split("\n\n"):
        block = " ".join(block.split())
        if not block.startswith(("#", "|", "- ")) and len(block) >= 80:
            return (
                block if len(block) <= OPENING_CHARS else block[: OPENING_CHARS - 1].rsplit(" ", 1)[0] + "…"
            )
    return ""
