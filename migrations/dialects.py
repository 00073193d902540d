"""Revisions whose statements differ by database: the read-side search is FTS5 on SQLite and a
stored vector with GIN indexes on PostgreSQL (revisions 0002, 0003, 0005, 0006)."""

from alembic import op


def execute(by_dialect: dict[str, list[str]]) -> None:
    """Run, in order, the statements ``by_dialect`` gives for the database's dialect; none for a
    dialect it does not name."""
    for statement in by_dialect.get(op.get_bind().dialect.name, []):
        op.execute(statement)
