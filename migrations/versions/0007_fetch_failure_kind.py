"""fetch failure kind, source broken since, source options dropped

``fetch_event.failure_kind``: the ``policywatch.verdicts.FailureKind`` of a failed fetch (its detail
stays in ``reason``); ``source.last_failure_kind`` likewise for the source's last failure.
``source.broken_since``: when the source's consecutive failures reached the broken threshold, cleared
by its next success; sources already failing that often under the default threshold (3) are marked
from their last fetch. ``source.options`` held nothing and is dropped.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

DEFAULT_BROKEN_AFTER = 3


def upgrade() -> None:
    op.add_column("fetch_event", sa.Column("failure_kind", sa.String(length=20), nullable=True))
    op.add_column("source", sa.Column("last_failure_kind", sa.String(length=20), nullable=True))
    op.add_column("source", sa.Column("broken_since", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE source SET broken_since = COALESCE(last_fetched_at, CURRENT_TIMESTAMP) "
        f"WHERE consecutive_failures >= {DEFAULT_BROKEN_AFTER}"
    )
    with op.batch_alter_table("source") as batch:
        batch.drop_column("options")


def downgrade() -> None:
    with op.batch_alter_table("source") as batch:
        batch.add_column(sa.Column("options", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    with op.batch_alter_table("source") as batch:
        batch.alter_column("options", server_default=None)
        batch.drop_column("broken_since")
        batch.drop_column("last_failure_kind")
    with op.batch_alter_table("fetch_event") as batch:
        batch.drop_column("failure_kind")
