"""same-day alerts of newsroom posts

``delivery.announcement_id`` and the ``announcement`` delivery kind: one row per (subscriber,
post) told the same day; ``delivery.announcement_ids``: the posts a digest row reports;
``announcement.alerts_processed_at``: when the alerts decided who is told of a post;
``announcement_source.alerts_from``: when alerts began to follow the newsroom, so its back
catalogue is not announced as news.

Revision ID: 0010
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('confirmation', 'alert', 'digest')"
NEW_KINDS = "kind IN ('confirmation', 'alert', 'digest', 'announcement')"


def upgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.add_column(sa.Column("announcement_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("announcement_ids", sa.JSON(), nullable=False, server_default="[]"))
        batch.create_foreign_key(
            op.f("fk_delivery_announcement_id_announcement"),
            "announcement",
            ["announcement_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_unique_constraint(
            op.f("uq_delivery_subscriber_id_announcement_id"), ["subscriber_id", "announcement_id"]
        )
        batch.drop_constraint(op.f("ck_delivery_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_delivery_kind"), NEW_KINDS)
    with op.batch_alter_table("delivery") as batch:
        batch.alter_column("announcement_ids", server_default=None)
    with op.batch_alter_table("announcement") as batch:
        batch.add_column(sa.Column("alerts_processed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("announcement_source") as batch:
        batch.add_column(sa.Column("alerts_from", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM delivery WHERE kind = 'announcement'")
    with op.batch_alter_table("announcement_source") as batch:
        batch.drop_column("alerts_from")
    with op.batch_alter_table("announcement") as batch:
        batch.drop_column("alerts_processed_at")
    with op.batch_alter_table("delivery") as batch:
        batch.drop_constraint(op.f("ck_delivery_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_delivery_kind"), OLD_KINDS)
        batch.drop_constraint(op.f("uq_delivery_subscriber_id_announcement_id"), type_="unique")
        batch.drop_constraint(op.f("fk_delivery_announcement_id_announcement"), type_="foreignkey")
        batch.drop_column("announcement_id")
        batch.drop_column("announcement_ids")
