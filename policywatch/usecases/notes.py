"""Provision notes: ask the configured LLM provider for a machine-written note on each provision text
of the documents' latest versions that has none yet, and keep them (``changes.notes``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from changes.notes import NoteFailure, NoteProvider, wanted_notes
from changes.provisions import catalog_for
from policywatch.runtime import Runtime
from store.db import transaction
from store.notes import record_note

log = logging.getLogger(__name__)


@dataclass
class NotesWritten:
    """One round of notes: how many were kept, how many requests failed, how many texts still have none."""

    written: int = 0
    failed: int = 0
    waiting: int = 0


def write_notes(runtime: Runtime, limit: int | None = None) -> NotesWritten | None:
    """Ask for the notes still wanted (at most ``limit``), keeping each as it comes; a failed request
    is logged in one line with the URL and the reason, and a failure of the provider itself ends the
    round (the texts wait for the next). None when notes are off."""
    provider = NoteProvider.from_settings(runtime.settings)
    if provider is None:
        return None
    with transaction(runtime.engine) as session:
        wanted = wanted_notes(session, catalog_for(runtime.settings))
    done = NotesWritten()
    for item in wanted[:limit]:
        try:
            note = provider.ask(item.kind, item.text)  # outside any transaction: it may take seconds
        except NoteFailure as failure:
            log.warning("%s", failure)
            done.failed += 1
            if failure.ends_round:
                break
            continue
        with transaction(runtime.engine) as session:
            record_note(session, item.kind.id, item.digest, provider.model, note)
        done.written += 1
    done.waiting = len(wanted) - done.written
    return done
