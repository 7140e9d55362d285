"""full-text search over every version (FTS5 on SQLite, tsvector + GIN on PostgreSQL); indexes for reading

Revision ID: 0003
Revises: 0002

The index objects are not models (archive/search_index.py names them and tells Alembic to leave
them alone). The DDL is frozen here, as a migration's must be. Existing archives are back-filled:
FTS5 'rebuild' on SQLite; on PostgreSQL the stored generated column is computed for every
existing row when it is added.

Note for later migrations: a batch ("move and copy") rebuild of the snapshot table on SQLite
drops its triggers; create SQLITE_TRIGGERS again after one.
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = {
    "snapshot_fts_insert": """
        CREATE TRIGGER snapshot_fts_insert AFTER INSERT ON snapshot BEGIN
            INSERT INTO snapshot_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
        END""",
    "snapshot_fts_delete": """
        CREATE TRIGGER snapshot_fts_delete AFTER DELETE ON snapshot BEGIN
            INSERT INTO snapshot_fts(snapshot_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
        END""",
    "snapshot_fts_update": """
        CREATE TRIGGER snapshot_fts_update AFTER UPDATE OF title, body ON snapshot BEGIN
            INSERT INTO snapshot_fts(snapshot_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
            INSERT INTO snapshot_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
        END""",
}

SQLITE_UP = [
    # Tokens: runs of letters and digits, case-folded, accents kept (as on PostgreSQL below).
    "CREATE VIRTUAL TABLE snapshot_fts USING fts5(title, body, content='snapshot', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0')",
    *SQLITE_TRIGGERS.values(),
    "INSERT INTO snapshot_fts(snapshot_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS] + ["DROP TABLE IF EXISTS snapshot_fts"]

_TITLE = "to_tsvector('simple', regexp_replace(coalesce(title, ''), '[^[:alnum:]]+', ' ', 'g'))"
_BODY = "to_tsvector('simple', regexp_replace(body, '[^[:alnum:]]+', ' ', 'g'))"
POSTGRESQL_UP = [
    f"ALTER TABLE snapshot ADD COLUMN search_document tsvector "
    f"GENERATED ALWAYS AS (setweight({_TITLE}, 'A') || setweight({_BODY}, 'B')) STORED",
    "CREATE INDEX ix_snapshot_search_document ON snapshot USING gin (search_document)",
    # Results come newest first; a backward scan of the ascending published_at index gives
    # NULLS FIRST on PostgreSQL, so "DESC NULLS LAST" needs its own index (SQLite's does not).
    "CREATE INDEX ix_snapshot_newest_first ON snapshot (published_at DESC NULLS LAST, article_id DESC)",
]
POSTGRESQL_DOWN = ["DROP INDEX IF EXISTS ix_snapshot_newest_first", "DROP INDEX IF EXISTS ix_snapshot_search_document",
                   "ALTER TABLE snapshot DROP COLUMN IF EXISTS search_document"]


def upgrade() -> None:
    with op.batch_alter_table("snapshot") as batch_op:
        batch_op.drop_index("ix_snapshot_published_at")
        batch_op.create_index("ix_snapshot_published_at_fetched_at", ["published_at", "fetched_at"], unique=False)
    with op.batch_alter_table("snapshot_ticker") as batch_op:
        batch_op.drop_index("ix_snapshot_ticker_symbol")
        batch_op.create_index("ix_snapshot_ticker_symbol_snapshot_id", ["symbol", "snapshot_id"], unique=False)
    for statement in {"sqlite": SQLITE_UP, "postgresql": POSTGRESQL_UP}.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    for statement in {"sqlite": SQLITE_DOWN, "postgresql": POSTGRESQL_DOWN}.get(op.get_bind().dialect.name, []):
        op.execute(statement)
    with op.batch_alter_table("snapshot_ticker") as batch_op:
        batch_op.drop_index("ix_snapshot_ticker_symbol_snapshot_id")
        batch_op.create_index("ix_snapshot_ticker_symbol", ["symbol"], unique=False)
    with op.batch_alter_table("snapshot") as batch_op:
        batch_op.drop_index("ix_snapshot_published_at_fetched_at")
        batch_op.create_index("ix_snapshot_published_at", ["published_at"], unique=False)
