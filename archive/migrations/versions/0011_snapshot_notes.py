"""snapshot.notes: the correction and update notices of a version's body

Revision ID: 0011
Revises: 0010

Publishers correct stories weeks later ("Correction: An earlier version of this article ...").
Extraction now keeps such notices (archive.extract.notes) with each version, NULL when there are
none, and a partial index finds the versions carrying one (search and export `--has-notes`).
Versions stored before keep NULL until `archive reextract` reads their raw page again.
"""
from alembic import op
import sqlalchemy as sa

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

WHERE = "notes IS NOT NULL"


# A plain ALTER TABLE, not a batch rebuild of the snapshot table: that would drop its full-text
# triggers and trip over the view on it on SQLite (see 0003).
def upgrade() -> None:
    op.add_column("snapshot", sa.Column("notes", sa.JSON(none_as_null=True), nullable=True))
    op.create_index("ix_snapshot_notes", "snapshot", ["article_id", "version"], unique=False,
                    sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE))


def downgrade() -> None:
    op.drop_index("ix_snapshot_notes", table_name="snapshot")
    op.drop_column("snapshot", "notes")
