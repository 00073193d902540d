"""search index keyed by a document key the b-tree cannot answer (PostgreSQL)

PostgreSQL: 0005's GIN index on ``(document_id, search_vector)`` becomes one on
``((document_id::bigint), search_vector)``. A search narrowed to some documents names each document
by that expression, which only this index can answer: the ``(document_id, seq)`` b-tree cannot. The
planner then takes a document's matches from the index and sorts them (no search vector read), where
before it walked each document's versions newest first through the b-tree, reading every walked
version's vector from TOAST. An unnarrowed search uses the index for its words alone, as
before. SQLite's FTS5 table is unchanged. Like 0003's, the index is in no model.

Revision ID: 0006
Revises: 0005
"""

from migrations.dialects import execute

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

POSTGRESQL_UP = [
    (
        "CREATE INDEX IF NOT EXISTS ix_version_document_key_search ON version "
        "USING gin ((document_id::bigint), search_vector)"
    ),
    "DROP INDEX IF EXISTS ix_version_document_search",
]
POSTGRESQL_DOWN = [
    "CREATE INDEX IF NOT EXISTS ix_version_document_search ON version USING gin (document_id, search_vector)",
    "DROP INDEX IF EXISTS ix_version_document_key_search",
]


def upgrade() -> None:
    execute({"postgresql": POSTGRESQL_UP})


def downgrade() -> None:
    execute({"postgresql": POSTGRESQL_DOWN})
