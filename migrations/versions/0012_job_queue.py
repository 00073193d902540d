"""job queue (Procrastinate's schema on PostgreSQL), job failure reasons

On PostgreSQL, the tables, types, functions and triggers of Procrastinate's job queue, executed
from the schema SQL the installed package ships (``procrastinate_*``), which `policywatch worker`
and `policywatch serve` share. ``job_failure``: the reason of the latest failed attempt at each
queued job, shown by `policywatch status`. On SQLite there is no queue: only ``job_failure``.

Revision ID: 0012
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None

QUEUE_TABLES = (
    "procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs, procrastinate_workers"
)
QUEUE_TYPES = "procrastinate_job_to_defer_v1, procrastinate_job_status, procrastinate_job_event_type"
DROP_QUEUE_FUNCTIONS = """
DO $$
DECLARE f regprocedure;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
           WHERE p.proname LIKE 'procrastinate\\_%' AND p.pronamespace = current_schema()::regnamespace
  LOOP
    EXECUTE 'DROP FUNCTION ' || f || ' CASCADE';
  END LOOP;
END $$;
"""


def upgrade() -> None:
    op.create_table(
        "job_failure",
        sa.Column("job_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("task", sa.String(length=128), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_job_failure")),
    )
    if op.get_bind().dialect.name == "postgresql":
        from procrastinate.schema import SchemaManager

        _driver_execute(SchemaManager.get_schema())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _driver_execute(f"DROP TABLE IF EXISTS {QUEUE_TABLES} CASCADE")
        _driver_execute(DROP_QUEUE_FUNCTIONS)
        _driver_execute(f"DROP TYPE IF EXISTS {QUEUE_TYPES} CASCADE")
    op.drop_table("job_failure")


def _driver_execute(sql: str) -> None:
    """Run ``sql`` (many statements) as it is: no bind parameters are parsed in it."""
    op.get_bind().connection.driver_connection.execute(sql)
