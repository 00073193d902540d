"""machine-written notes on provision clauses

``provision_note``: the interpretive note an LLM provider (settings ``POLICYWATCH_NOTE_URL``…) wrote
on one provision type's clause text, kept by provision and the SHA-256 of the text so one text is
asked once, with the model that wrote it.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provision_note",
        sa.Column("provision", sa.String(length=60), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provision", "text_sha256", name=op.f("pk_provision_note")),
    )


def downgrade() -> None:
    op.drop_table("provision_note")
