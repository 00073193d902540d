"""a schedule of each newsroom listing

``announcement_source.schedule_seconds``: how often the listing is read (the sources file's
``schedule``; None: the ``announcement_schedule`` setting); ``next_read_at``: when it is due next
(None: at the next crawl), set each time the listing is read or fails, so a due listing is read
even when no document is due.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("announcement_source") as batch:
        batch.add_column(sa.Column("schedule_seconds", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("next_read_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("announcement_source") as batch:
        batch.drop_column("next_read_at")
        batch.drop_column("schedule_seconds")
