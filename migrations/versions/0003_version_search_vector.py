"""stored search vector on version (PostgreSQL)

PostgreSQL: a generated, stored ``tsvector`` column ``version.search_vector`` =
``to_tsvector('english', text)`` with the GIN index on it, replacing revision 0002's expression
index. Matching, rechecks and picking the excerpt to highlight then read the stored vector instead
of parsing texts again. SQLite keeps its FTS5 table from 0002 and gets nothing here. Like 0002's
indexes, the column is in no model (``select(Version)`` must not load it, and SQLite has no such
column); ``migrations/env.py`` keeps it out of autogenerate diffs.

Revision ID: 0003
Revises: 0002
"""

from migrations.dialects import execute

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

POSTGRESQL_UP = [
    "ALTER TABLE version ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('english', text)) STORED",
    "CREATE INDEX ix_version_search_vector ON version USING gin (search_vector)",
    "DROP INDEX IF EXISTS ix_version_text_search",
]
POSTGRESQL_DOWN = [
    "CREATE INDEX ix_version_text_search ON version USING gin (to_tsvector('english', text))",
    "DROP INDEX IF EXISTS ix_version_search_vector",
    "ALTER TABLE version DROP COLUMN IF EXISTS search_vector",
]


def upgrade() -> None:
    execute({"postgresql": POSTGRESQL_UP})


def downgrade() -> None:
    execute({"postgresql": POSTGRESQL_DOWN})
