"""provision instances per version, provisions a change touches

``provision_instance``: for each version and catalog provision type (``changes/provisions.yaml``),
whether the version states it, the heading path of its main section and the clauses that state it;
derived from the version's text, filled by ``policywatch provisions rebuild``.
``change.provisions``: the ids of the provisions whose clauses the change edits, adds or removes.
``subscription.provisions``: a professional subscription alerted only by changes of these provisions.

Revision ID: 0008
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provision_instance",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("provision", sa.String(length=60), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column("heading", sa.Text(), nullable=True),
        sa.Column("path", sa.JSON(), nullable=False),
        sa.Column("clauses", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["version.id"],
            name=op.f("fk_provision_instance_version_id_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "provision", name=op.f("pk_provision_instance")),
    )
    op.create_index("ix_provision_instance_provision", "provision_instance", ["provision", "version_id"])
    op.add_column("change", sa.Column("provisions", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("change") as batch:
        batch.alter_column("provisions", server_default=None)
    op.add_column("subscription", sa.Column("provisions", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("subscription") as batch:
        batch.alter_column("provisions", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("subscription") as batch:
        batch.drop_column("provisions")
    with op.batch_alter_table("change") as batch:
        batch.drop_column("provisions")
    op.drop_index("ix_provision_instance_provision", table_name="provision_instance")
    op.drop_table("provision_instance")
