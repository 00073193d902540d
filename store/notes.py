"""Keeping the machine-written notes on provision texts (``changes.notes`` asks for them)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.models import ProvisionNote


def record_note(session: Session, provision: str, text_sha256: str, model: str, note: str) -> None:
    """Keep ``note`` (written by ``model``) on the text of ``provision`` with that SHA-256; a note
    another process kept first on the same text stays."""
    try:
        with session.begin_nested():
            session.add(ProvisionNote(provision=provision, text_sha256=text_sha256, model=model, note=note))
    except IntegrityError:
        pass
