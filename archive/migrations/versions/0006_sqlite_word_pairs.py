"""SQLite: an FTS5 index of adjacent word pairs, so that a phrase of common words is answered from its pairs

Revision ID: 0006
Revises: 0005

FTS5 answers a phrase by reading the position lists of its words; for common words ("up the
for") those cover every version, and a phrase search cost a tenth of a second at 300,000 versions
and grew with the archive. `snapshot_pairs` holds each field's adjacent word pairs in order
("up the for" -> "up_the the_for"), cut as the word index cuts words (archive/search_syntax.py:
word_pairs), through the SQL function `archive_word_pairs` that archive.db registers on every
connection. A phrase of n words is the phrase of its n-1 pairs in the same field, so the pair
index answers it exactly, from lists far shorter. It is contentless (the text stays in
`snapshot`), kept in step by triggers like snapshot_fts's; existing versions are filled in
here (about a millisecond a version on a 2-core machine).

PostgreSQL is unchanged: migration 0005 gave it a pair index of its own. A batch ("move and copy")
rebuild of the snapshot table on SQLite drops these triggers too; create SQLITE_TRIGGERS again after one.
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_PAIRS = "archive_word_pairs({row}.title), archive_word_pairs({row}.body)"
SQLITE_TRIGGERS = {
    "snapshot_pairs_insert": f"""
        CREATE TRIGGER snapshot_pairs_insert AFTER INSERT ON snapshot BEGIN
            INSERT INTO snapshot_pairs(rowid, title, body) VALUES (new.id, {_PAIRS.format(row="new")});
        END""",
    "snapshot_pairs_delete": f"""
        CREATE TRIGGER snapshot_pairs_delete AFTER DELETE ON snapshot BEGIN
            INSERT INTO snapshot_pairs(snapshot_pairs, rowid, title, body) VALUES ('delete', old.id, {_PAIRS.format(row="old")});
        END""",
    "snapshot_pairs_update": f"""
        CREATE TRIGGER snapshot_pairs_update AFTER UPDATE OF title, body ON snapshot BEGIN
            INSERT INTO snapshot_pairs(snapshot_pairs, rowid, title, body) VALUES ('delete', old.id, {_PAIRS.format(row="old")});
            INSERT INTO snapshot_pairs(rowid, title, body) VALUES (new.id, {_PAIRS.format(row="new")});
        END""",
}
SQLITE_UP = [
    "CREATE VIRTUAL TABLE snapshot_pairs USING fts5(title, body, content='', "
    "tokenize=\"unicode61 remove_diacritics 0 tokenchars '_'\")",
    *SQLITE_TRIGGERS.values(),
    "INSERT INTO snapshot_pairs(rowid, title, body) "
    "SELECT id, archive_word_pairs(title), archive_word_pairs(body) FROM snapshot",
]
SQLITE_DOWN = [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS] + ["DROP TABLE IF EXISTS snapshot_pairs"]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
