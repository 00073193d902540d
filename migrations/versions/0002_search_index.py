"""search index over version text, and the change list's time index

SQLite: an FTS5 table with external content (the ``version`` table) kept in step by triggers.
PostgreSQL: a GIN index on ``to_tsvector('english', text)``. Neither is part of the models;
``ix_change_detected_at`` lets the newest-first change list stop after one page instead of sorting
every change. ``migrations/env.py`` keeps these read-side indexes out of autogenerate diffs. A later
SQLite batch rebuild of the ``version`` table drops the triggers, so such a revision must recreate
them.

Revision ID: 0002
Revises: 0001
"""

from migrations.dialects import execute

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE_UP = [
    "CREATE VIRTUAL TABLE version_fts USING fts5(text, content='version', content_rowid='id', "
    "tokenize='porter unicode61')",
    "INSERT INTO version_fts(version_fts) VALUES ('rebuild')",
    "CREATE TRIGGER version_fts_insert AFTER INSERT ON version BEGIN "
    "INSERT INTO version_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER version_fts_delete AFTER DELETE ON version BEGIN "
    "INSERT INTO version_fts(version_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER version_fts_update AFTER UPDATE OF text ON version BEGIN "
    "INSERT INTO version_fts(version_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO version_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE INDEX ix_change_detected_at ON change (detected_at)",
]
SQLITE_DOWN = [
    "DROP INDEX IF EXISTS ix_change_detected_at",
    "DROP TRIGGER IF EXISTS version_fts_update",
    "DROP TRIGGER IF EXISTS version_fts_delete",
    "DROP TRIGGER IF EXISTS version_fts_insert",
    "DROP TABLE IF EXISTS version_fts",
]
POSTGRESQL_UP = [
    "CREATE INDEX ix_version_text_search ON version USING gin (to_tsvector('english', text))",
    "CREATE INDEX ix_change_detected_at ON change (detected_at)",
]
POSTGRESQL_DOWN = [
    "DROP INDEX IF EXISTS ix_change_detected_at",
    "DROP INDEX IF EXISTS ix_version_text_search",
]


def upgrade() -> None:
    execute({"sqlite": SQLITE_UP, "postgresql": POSTGRESQL_UP})


def downgrade() -> None:
    execute({"sqlite": SQLITE_DOWN, "postgresql": POSTGRESQL_DOWN})
