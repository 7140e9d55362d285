"""day_count: articles per publication day, overall, per site, per ticker and per ticker and site

Revision ID: 0014
Revises: 0013

Kept by the store as versions are added (archive.day_counts), so that attention over time and the
facets read the unfiltered totals, a ticker's and a site's counts from a few hundred rows instead
of counting every version (issue 22, docs/performance.md "The web app at scale"). Filled here
from the archive's current versions.
"""
from alembic import op
import sqlalchemy as sa

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "day_count",
        sa.Column("ticker", sa.String(length=16), nullable=False),
        sa.Column("site", sa.String(length=255), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("articles", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("ticker", "site", "day", name=op.f("pk_day_count")),
    )
    from archive.day_counts import rebuild  # noqa: PLC0415 - the same count the store keeps
    rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_table("day_count")
