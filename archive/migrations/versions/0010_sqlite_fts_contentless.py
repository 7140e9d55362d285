"""SQLite: the full-text index keeps no content of its own, so that reading it needs no custom function

Revision ID: 0010
Revises: 0009

Since 0006 the index's external content was a view that computes each field's word pairs with
`archive_word_pairs`, a function only this package registers. Opened in the sqlite3 shell,
Datasette or DuckDB, any read through the index (a column of `snapshot_fts`, the view itself)
failed with "no such function: archive_word_pairs", and tools that list tables stumbled on the
view. The index is now contentless (`content=''`): FTS5 keeps the words and pairs it indexes,
answers MATCH from them alone, and reads no content at all, so

    SELECT * FROM snapshot WHERE id IN (SELECT rowid FROM snapshot_fts WHERE snapshot_fts MATCH 'nvidia')

works in any SQLite with FTS5. (Its columns read as NULL: the text is in `snapshot`.) Writing still
needs the function, in the triggers as before: the archive's own writers register it. The 'delete'
that the triggers give FTS5 carries the old values, as a contentless table requires. archive check
compares the index's rows with the versions (FTS5's integrity-check has no content to compare).
The index is filled again here from the versions (about a millisecond a version on 2 cores).
"""
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_COLUMNS = "rowid, title, body, title_pairs, body_pairs"
_VALUES = "{row}.id, {row}.title, {row}.body, archive_word_pairs({row}.title), archive_word_pairs({row}.body)"
_DELETE = f"INSERT INTO snapshot_fts(snapshot_fts, {_COLUMNS}) VALUES ('delete', {_VALUES.format(row='old')});"
_INSERT = f"INSERT INTO snapshot_fts({_COLUMNS}) VALUES ({_VALUES.format(row='new')});"
SQLITE_TRIGGERS = {
    "snapshot_fts_insert": f"CREATE TRIGGER snapshot_fts_insert AFTER INSERT ON snapshot BEGIN {_INSERT} END",
    "snapshot_fts_delete": f"CREATE TRIGGER snapshot_fts_delete AFTER DELETE ON snapshot BEGIN {_DELETE} END",
    "snapshot_fts_update": f"CREATE TRIGGER snapshot_fts_update AFTER UPDATE OF title, body ON snapshot BEGIN "
                           f"{_DELETE} {_INSERT} END",
}
_DROP = [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS] + ["DROP TABLE IF EXISTS snapshot_fts"]
SQLITE_UP = _DROP + [
    "DROP VIEW IF EXISTS snapshot_fts_source",
    "CREATE VIRTUAL TABLE snapshot_fts USING fts5(title, body, title_pairs, body_pairs, content='', "
    "tokenize='unicode61 remove_diacritics 0')",
    *SQLITE_TRIGGERS.values(),
    f"INSERT INTO snapshot_fts({_COLUMNS}) SELECT {_VALUES.format(row='snapshot')} FROM snapshot",
]
#: Back to 0006's index: the view as external content (the triggers are the same).
SQLITE_DOWN = _DROP + [
    "CREATE VIEW snapshot_fts_source AS SELECT id, title, body, archive_word_pairs(title) AS title_pairs, "
    "archive_word_pairs(body) AS body_pairs FROM snapshot",
    "CREATE VIRTUAL TABLE snapshot_fts USING fts5(title, body, title_pairs, body_pairs, "
    "content='snapshot_fts_source', content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    *SQLITE_TRIGGERS.values(),
    "INSERT INTO snapshot_fts(snapshot_fts) VALUES ('rebuild')",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
