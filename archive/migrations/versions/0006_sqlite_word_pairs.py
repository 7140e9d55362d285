"""SQLite: the full-text index also holds each field's adjacent word pairs, so that a phrase of common words is answered from its pairs

Revision ID: 0006
Revises: 0005

FTS5 answers a phrase by reading the position lists of its words; for common words ("up the
for") those cover every version, and the cost of such a phrase search grew with the archive. The index gains two columns, `title_pairs` and `body_pairs`:
each field's adjacent word pairs in order ("up the for" -> "up+the the+for", where + stands for U+E000,
a private-use character that unicode61 keeps inside a token and that no word holds),
cut as the word columns are (archive/words.py: word_pairs). A phrase of n words is the
phrase of its n-1 pairs in the same field, so the pair columns answer it exactly, from lists far
shorter; and since words and pairs are one FTS5 table, a query mixing them ("(trade OR tariffs)
AND "the production"") is one MATCH, which FTS5 evaluates skipping along its lists.

The pairs are computed by the SQL function `archive_word_pairs`, which archive.db registers on
every connection: in the triggers, and in the view `snapshot_fts_source` that is the index's
external content (so that FTS5's 'rebuild' and 'integrity-check' see the pair columns as well).
A writer without the function (the sqlite3 shell) cannot add versions; reading needs nothing.
The index is rebuilt here (about a millisecond a version on a 2-core machine).

PostgreSQL is unchanged: migration 0005 gave it a pair index of its own. A batch ("move and copy")
rebuild of the snapshot table on SQLite drops these triggers; create SQLITE_TRIGGERS again after one.
"""
from alembic import op

revision = "0006"
down_revision = "0005"
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
    "CREATE VIEW snapshot_fts_source AS SELECT id, title, body, archive_word_pairs(title) AS title_pairs, "
    "archive_word_pairs(body) AS body_pairs FROM snapshot",
    "CREATE VIRTUAL TABLE snapshot_fts USING fts5(title, body, title_pairs, body_pairs, "
    "content='snapshot_fts_source', content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    *SQLITE_TRIGGERS.values(),
    "INSERT INTO snapshot_fts(snapshot_fts) VALUES ('rebuild')",
]
#: Back to migration 0003's index: words only, the snapshot table as its content.
SQLITE_DOWN = _DROP + [
    "DROP VIEW IF EXISTS snapshot_fts_source",
    "CREATE VIRTUAL TABLE snapshot_fts USING fts5(title, body, content='snapshot', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0')",
    """CREATE TRIGGER snapshot_fts_insert AFTER INSERT ON snapshot BEGIN
        INSERT INTO snapshot_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
    END""",
    """CREATE TRIGGER snapshot_fts_delete AFTER DELETE ON snapshot BEGIN
        INSERT INTO snapshot_fts(snapshot_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    END""",
    """CREATE TRIGGER snapshot_fts_update AFTER UPDATE OF title, body ON snapshot BEGIN
        INSERT INTO snapshot_fts(snapshot_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
        INSERT INTO snapshot_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
    END""",
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
