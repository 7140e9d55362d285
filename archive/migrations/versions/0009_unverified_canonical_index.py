"""an index of the versions whose canonical claim was not accepted

Revision ID: 0009
Revises: 0008

A page claiming a canonical URL not yet in the archive keeps its own URL (0008). When the claimed
page is then fetched itself and agrees (a near-duplicate body), it adopts that article instead of
starting a second one; this partial index finds the claimants when a new article is created.
"""
from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

WHERE = "unverified_canonical IS NOT NULL"


def upgrade() -> None:
    op.create_index("ix_snapshot_unverified_canonical", "snapshot", ["unverified_canonical"], unique=False,
                    sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE))


def downgrade() -> None:
    op.drop_index("ix_snapshot_unverified_canonical", table_name="snapshot")
