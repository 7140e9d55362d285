"""snapshot_ticker carries each version's published_at, indexed after the symbol; SQLite: an (id, authors) index

Revision ID: 0015
Revises: 0014

A ticker in a date window ("every NVDA article from January", the search page's ticker and
90 days) looked up every version of the ticker for its date: 73,590 versions of a popular ticker
at 100,000 x 3 for 3,155 in 90 days. With the date beside the symbol in the index, the window is a
range of it. A version's fields never change once written, so the copy cannot go stale; `archive
check` compares it with the version (ticker_index).

SQLite only: the facets read the authors of the newest matches (archive.stats), which live in
the versions' rows beside the body; the (id, authors) index answers without reading the rows.
PostgreSQL keeps bodies out of line (TOAST), and a JSON column has no B-tree operator class. The
models do not describe this index (archive.search_index.outside_models).
"""
from alembic import op
import sqlalchemy as sa

from archive.models import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("snapshot_ticker") as batch_op:
        batch_op.add_column(sa.Column("published_at", UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE snapshot_ticker SET published_at = "
               "(SELECT published_at FROM snapshot WHERE snapshot.id = snapshot_ticker.snapshot_id)")
    with op.batch_alter_table("snapshot_ticker") as batch_op:
        batch_op.drop_index("ix_snapshot_ticker_symbol_snapshot_id")
        batch_op.create_index("ix_snapshot_ticker_symbol_published_at", ["symbol", "published_at", "snapshot_id"],
                              unique=False)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE INDEX IF NOT EXISTS ix_snapshot_authors ON snapshot (id, authors)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP INDEX IF EXISTS ix_snapshot_authors")
    with op.batch_alter_table("snapshot_ticker") as batch_op:
        batch_op.drop_index("ix_snapshot_ticker_symbol_published_at")
        batch_op.create_index("ix_snapshot_ticker_symbol_snapshot_id", ["symbol", "snapshot_id"], unique=False)
        batch_op.drop_column("published_at")
