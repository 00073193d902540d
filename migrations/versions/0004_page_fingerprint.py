"""page fingerprint on source, body hash on fetch event

``source.page_fingerprint``: the fingerprint (``crawler.extract.fingerprint``) of the last page whose region
was accepted; a page with the same fingerprint differs in volatile markup alone and is neither parsed
nor stored again. ``fetch_event.sha256``: the hash of the body each fetch received, which is not
the snapshot's when such a page pointed the event at the stored one.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("source", sa.Column("page_fingerprint", sa.String(length=64), nullable=True))
    op.add_column("fetch_event", sa.Column("sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fetch_event") as batch:
        batch.drop_column("sha256")
    with op.batch_alter_table("source") as batch:
        batch.drop_column("page_fingerprint")
