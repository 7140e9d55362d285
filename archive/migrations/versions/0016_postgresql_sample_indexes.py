"""PostgreSQL: the text and word-pair indexes over a one-in-64 sample of the versions (partial GIN)

Revision ID: 0016
Revises: 0015

The web app estimates a common text's counts from a fixed sample of the versions (one in 2^k by
a hash of the id; archive.attention). On PostgreSQL the GIN indexes give row addresses, not ids,
so the sample read every matching row to learn its id before keeping one in 64: `selloff`, in
145,683 of 300,000 versions, read 21,785 heap pages for 2,277 sampled rows (104 ms of a 121 ms
statement). These partial indexes hold the sample's versions alone, and a sample of one in 64 or
fewer reads only its own rows (30 ms). SQLite's full-text index gives ids: nothing is made there.
"""
from alembic import op

from archive.search_index import SAMPLE_INDEXES, sample_indexes_ddl

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for ddl in sample_indexes_ddl():
            op.execute(ddl)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in SAMPLE_INDEXES:
            op.drop_index(name, table_name="snapshot", if_exists=True)
