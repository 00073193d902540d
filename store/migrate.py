"""Schema upgrades and downgrades through Alembic."""

from __future__ import annotations

from alembic import command
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from store.db import StoreError, alembic_config

# What the read side adds beside the models (revisions 0002, 0003, 0005, 0006: PostgreSQL's stored
# search vector and its GIN indexes, the change time index; FTS5's tables start with "version_fts"):
# autogenerate leaves these alone.
READ_SIDE = (
    "search_vector",
    "ix_version_search_vector",
    "ix_version_document_search",
    "ix_version_document_key_search",
    "ix_version_text_search",
    "ix_change_detected_at",
)


def read_side(name: str | None) -> bool:
    """Whether ``name`` is one of the read side's search objects, which no model describes."""
    return name is not None and (name.startswith("version_fts") or name in READ_SIDE)


def job_queue(name: str | None) -> bool:
    """Whether ``name`` is one of the job queue's objects (revision 0012: Procrastinate's own schema
    on PostgreSQL), which the queue's package defines, not the models."""
    return name is not None and "procrastinate_" in name


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision``; StoreError when it cannot be reached."""
    try:
        command.upgrade(alembic_config(url), revision)
    except OperationalError as exc:
        raise _unreachable(url, exc) from None


def downgrade(url: str, revision: str = "-1") -> None:
    """Take the database at ``url`` down to ``revision`` (default: one step); StoreError when it
    cannot be reached."""
    try:
        command.downgrade(alembic_config(url), revision)
    except OperationalError as exc:
        raise _unreachable(url, exc) from None


def _unreachable(url: str, exc: OperationalError) -> StoreError:
    where = make_url(url).render_as_string(hide_password=True)
    return StoreError(f"database unreachable at {where}: {str(exc.orig).splitlines()[0]}")
