"""announcement sources and the posts found on them

``announcement_source``: a platform's newsroom (a listing page, feed or sitemap) declared in the sources
file, with what it was when last read and its validators. ``announcement``: one post found on it, with
its canonical URL, title and publication date (the page's and the listing's), topics, when it was first
seen and when it was found unpublished; each post is watched as its own document.

Revision ID: 0009
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "announcement_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("listing", sa.Text(), nullable=False),
        sa.Column("follow", sa.Text(), nullable=True),
        sa.Column("select", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=True),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("last_read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["platform.id"],
            name=op.f("fk_announcement_source_platform_id_platform"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement_source")),
        sa.UniqueConstraint("slug", name=op.f("uq_announcement_source_slug")),
    )
    op.create_index(
        op.f("ix_announcement_source_platform_id"), "announcement_source", ["platform_id"], unique=False
    )
    op.create_table(
        "announcement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("listed_url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("published", sa.String(length=40), nullable=True),
        sa.Column("listed_title", sa.Text(), nullable=True),
        sa.Column("listed_published", sa.String(length=40), nullable=True),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_listed", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fetched", sa.Boolean(), nullable=False),
        sa.Column("gone", sa.Integer(), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
            name=op.f("fk_announcement_document_id_document"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["announcement_source.id"],
            name=op.f("fk_announcement_source_id_announcement_source"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement")),
        sa.UniqueConstraint("document_id", name=op.f("uq_announcement_document_id")),
        sa.UniqueConstraint("source_id", "url", name=op.f("uq_announcement_source_id_url")),
    )


def downgrade() -> None:
    op.drop_table("announcement")
    op.drop_index(op.f("ix_announcement_source_platform_id"), table_name="announcement_source")
    op.drop_table("announcement_source")
