"""Schema upgrades and downgrades through Alembic."""
from __future__ import annotations

from alembic import command

from store.db import alembic_config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "-1") -> None:
    """Take the database at ``url`` down to ``revision`` (default: one step)."""
    command.downgrade(alembic_config(url), revision)
