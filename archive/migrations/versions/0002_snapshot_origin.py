"""snapshot.origin: tell a publisher's edit from a re-extraction of the same raw page

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("snapshot") as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=16), nullable=False, server_default="fetch"))


def downgrade() -> None:
    with op.batch_alter_table("snapshot") as batch_op:
        batch_op.drop_column("origin")
