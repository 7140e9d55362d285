"""fetch.headers: the response headers as served, for WARC export

Revision ID: 0004
Revises: 0003

A plain ADD COLUMN on both databases (no batch rebuild, so 0003's search triggers stay).
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("fetch", sa.Column("headers", sa.JSON().with_variant(sa.JSON(none_as_null=True), "sqlite"),
                                     nullable=True))


def downgrade() -> None:
    op.drop_column("fetch", "headers")
