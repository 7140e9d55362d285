"""an index of the versions fetched before their stated publication time, for --as-of

Revision ID: 0007
Revises: 0006

An --as-of search reads versions newest published first among those fetched by the instant.
Read from the top of the newest-first index, every version published after the instant was
skipped one by one (for an instant early in the archive, a cost growing with it). archive.query now starts that read at the instant; a version published after it can still
have been fetched before it only if it was fetched before its own publication time (a wrong date,
a scheduled post), and this partial index holds exactly those, so they are read first, apart.
"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

WHERE = "published_at > fetched_at"


def upgrade() -> None:
    op.create_index("ix_snapshot_fetched_before_published", "snapshot", ["fetched_at"], unique=False,
                    sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE))


def downgrade() -> None:
    op.drop_index("ix_snapshot_fetched_before_published", table_name="snapshot")
