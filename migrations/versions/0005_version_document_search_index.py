"""search index keyed by document too (PostgreSQL)

PostgreSQL: the GIN index on ``version.search_vector`` becomes a GIN index on ``(document_id,
search_vector)`` (with the ``btree_gin`` extension, trusted since PostgreSQL 13, so a database
owner may create it). A search narrowed to some documents then finds each document's matches in
the index instead of reading every candidate's stored vector from TOAST, and an unnarrowed one
uses the same index for its words alone. SQLite's FTS5 table is unchanged. Like 0003's, the index
is in no model.

Revision ID: 0005
Revises: 0004
"""

from migrations.dialects import execute

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

POSTGRESQL_UP = [
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    "CREATE INDEX IF NOT EXISTS ix_version_document_search ON version USING gin (document_id, search_vector)",
    "DROP INDEX IF EXISTS ix_version_search_vector",
]
POSTGRESQL_DOWN = [
    "CREATE INDEX IF NOT EXISTS ix_version_search_vector ON version USING gin (search_vector)",
    "DROP INDEX IF EXISTS ix_version_document_search",
]


def upgrade() -> None:
    execute({"postgresql": POSTGRESQL_UP})


def downgrade() -> None:
    execute({"postgresql": POSTGRESQL_DOWN})
