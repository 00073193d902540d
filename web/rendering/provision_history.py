"""A provision's full history in each document: the versions where its clauses changed, newest first,
each with the word-level redline against the clauses before it."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby

from changes.redline import compare_texts


def provision_timelines(rows: Iterable) -> list[dict]:
    """Per document (rows of ``store.queries.provisions.provision_versions``, grouped by platform and
    document), its slug and title, its platform's name, and its provision versions newest first:
    ``status`` (``stated`` in the first version recorded, ``appeared``, ``reworded``, ``removed``), the
    version, its date, heading, clauses, the change that recorded it and the ``comparison`` with the
    clauses before (None for the first)."""
    timelines = []
    for _, versions in groupby(rows, key=lambda r: (r.platform, r.document)):
        rows_of_document = list(versions)
        first = rows_of_document[0]
        timelines.append(
            {
                "platform_name": first.platform_name,
                "document": first.document,
                "document_title": first.document_title,
                "versions": [_entry(r) for r in reversed(rows_of_document)],
            }
        )
    return timelines


def _entry(row) -> dict:
    before = None if row.before is None else list(row.before)
    return {
        "status": _status(before, row.present),
        "seq": row.seq,
        "created_at": row.created_at,
        "heading": row.heading,
        "before_heading": row.before_heading,
        "clauses": list(row.clauses),
        "change": row.change,
        "significance": row.significance,
        "comparison": None if before is None else compare_texts("\n".join(before), "\n".join(row.clauses)),
    }


def _status(before: list[str] | None, present: bool) -> str:
    """What a provision version did: ``stated`` (first recorded, stated), ``appeared``, ``removed`` or
    ``reworded``."""
    if before is None:
        return "stated"
    if not present:
        return "removed"
    return "reworded" if before else "appeared"
