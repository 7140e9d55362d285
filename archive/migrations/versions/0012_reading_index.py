"""a narrow covering index of the versions for counting matches (attention over time, facets)

Revision ID: 0012
Revises: 0011

Attention over time and the search page's facets count every match of a query by its day of
publication and its article. Read from the versions' rows, each match cost a lookup of a row
several kilobytes wide (the body is in it); this index holds only (id, article_id, version,
published_at), so the full-text or ticker index's ids are looked up in it and the rows are never
read (docs/performance.md, "The web app at scale").
"""
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_snapshot_reading", "snapshot", ["id", "article_id", "version", "published_at"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_snapshot_reading", table_name="snapshot")
