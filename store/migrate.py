"""Schema upgrades and downgrades through Alembic."""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from store.db import StoreError, alembic_config, current_revision, make_engine

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


def upgrade(url: str, revision: str = "head", progress: Callable[[int, int], None] | None = None) -> None:
    """Bring the database at ``url`` up to ``revision``; StoreError when it cannot be reached.
    ``progress`` is told (revisions applied, revisions to apply) after each revision."""
    config = alembic_config(url)
    try:
        if progress:
            total, applied = pending_revisions(url, revision), [0]

            def step(**_) -> None:
                applied[0] += 1
                progress(applied[0], max(total, applied[0]))

            config.attributes["on_version_apply"] = step
        command.upgrade(config, revision)
    except OperationalError as exc:
        raise _unreachable(url, exc) from None


def pending_revisions(url: str, revision: str = "head") -> int:
    """How many revisions an upgrade of the database at ``url`` to ``revision`` applies."""
    engine = make_engine(url)
    try:
        current = current_revision(engine)
    finally:
        engine.dispose()
    script = ScriptDirectory.from_config(alembic_config(url))
    try:
        return sum(1 for _ in script.iterate_revisions(revision, current or "base"))
    except RevisionError:  # REVISION is not above the current one: nothing to apply
        return 0


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
