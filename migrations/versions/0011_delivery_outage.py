"""unconfirmed deliveries, shared rate-limit windows

``delivery.unconfirmed_attempts``: requests of a delivery whose answer was lost (timeout, cut or
garbled answer, sender killed mid-request), which the provider may have accepted; past
``email_unconfirmed_retries`` such requests the delivery is ``unconfirmed`` (a new status), never
sent again. ``rate_window``: hits per client and fixed window (the subscribe rate limit), shared by
every web worker.

Revision ID: 0011
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0007"
branch_labels = None
depends_on = None

OLD_STATES = "status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')"
NEW_STATES = "status IN ('pending', 'sending', 'sent', 'unconfirmed', 'failed', 'cancelled')"


def upgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.add_column(
            sa.Column("unconfirmed_attempts", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.drop_constraint(op.f("ck_delivery_status"), type_="check")
        batch.create_check_constraint(op.f("ck_delivery_status"), NEW_STATES)
    with op.batch_alter_table("delivery") as batch:
        batch.alter_column("unconfirmed_attempts", server_default=None)
    op.create_table(
        "rate_window",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name=op.f("pk_rate_window")),
    )


def downgrade() -> None:
    op.drop_table("rate_window")
    op.execute("UPDATE delivery SET status = 'failed' WHERE status = 'unconfirmed'")
    with op.batch_alter_table("delivery") as batch:
        batch.drop_constraint(op.f("ck_delivery_status"), type_="check")
        batch.create_check_constraint(op.f("ck_delivery_status"), OLD_STATES)
        batch.drop_column("unconfirmed_attempts")
