"""article.removed_at, article_event and article_url: articles that disappear and articles that move

Revision ID: 0013
Revises: 0012

A pulled article (404/410, or a redirect to a page that is no article, seen twice an hour apart)
is marked removed and the removal kept as an event, as is its restoration; an article whose URL
changed (a redirect to the same story, or a new canonical link) keeps one identity, its URLs
listed in article_url (issue 23, docs/versions.md).
"""
from alembic import op
import sqlalchemy as sa

from archive.models import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


# A plain ALTER TABLE on article (see 0008).
def upgrade() -> None:
    op.add_column("article", sa.Column("removed_at", UTCDateTime(), nullable=True))
    op.create_table(
        "article_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("fetch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], name=op.f("fk_article_event_article_id_article"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["fetch_id"], ["fetch.id"], name=op.f("fk_article_event_fetch_id_fetch"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_event")),
    )
    op.create_index(op.f("ix_article_event_article_id"), "article_event", ["article_id"], unique=False)
    op.create_table(
        "article_url",
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], name=op.f("fk_article_url_article_id_article"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("url", name=op.f("pk_article_url")),
    )
    op.create_index(op.f("ix_article_url_article_id"), "article_url", ["article_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_article_url_article_id"), table_name="article_url")
    op.drop_table("article_url")
    op.drop_index(op.f("ix_article_event_article_id"), table_name="article_event")
    op.drop_table("article_event")
    op.drop_column("article", "removed_at")
