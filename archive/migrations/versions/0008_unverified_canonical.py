"""snapshot.unverified_canonical: a rel=canonical claim the archive did not accept

Revision ID: 0008
Revises: 0007

A same-site page (a comments page) that named another article as its canonical URL was stored as
a new version of that article, as if its publisher had edited it. The claim is now accepted only
when the claimed page agrees; otherwise the page keeps its own URL and the claim is kept here.
"""
from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


# A plain ALTER TABLE, not a batch rebuild of the snapshot table: that would drop its full-text
# triggers and trip over the view on it on SQLite (see 0003).
def upgrade() -> None:
    op.add_column("snapshot", sa.Column("unverified_canonical", sa.String(length=2048), nullable=True))


def downgrade() -> None:
    op.drop_column("snapshot", "unverified_canonical")
