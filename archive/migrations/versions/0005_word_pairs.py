"""PostgreSQL: an index of adjacent word pairs (phrases of common words); fetch time in the newest-first index

Revision ID: 0005
Revises: 0004

PostgreSQL's GIN index over `search_document` keeps no positions: a phrase is checked on every
version that holds all its words, which for common words is most of the archive. A second GIN
index, over an expression (no stored column), holds each version's adjacent word pairs
("export controls" -> 'export_controls'), cut as `search_document` cuts its words, per field
(a pair never runs from the title into the body). A phrase's pairs are rare where its words are
not; the pairs only narrow the candidates, `search_document` still decides
(archive/search_syntax.py: render_word_pairs). Pairs past word 16,384 of a field are not
kept (counted over title and body together, as `search_document` counts its positions): they
stop there, so `search_document` finds no phrase beyond it either.

The newest-first index (0003) gains fetched_at as its last column, so that an --as-of search,
reading newest first, skips versions fetched after the instant from the index alone, as SQLite
does with (published_at, fetched_at); before, each was read from the table to be rejected.

Both databases: a partial index of the versions the publisher served (not re-extractions) by
article and version, so that `--edited` and `archive stats` need not read each row's
`origin`, which lies after the body (on SQLite, past its overflow pages).

SQLite needs no pair index: FTS5 keeps positions. Creating the pair index reads every existing version
once (minutes on a large archive).
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: IMMUTABLE (the text alone decides), so that an index may use it. Words are cut as for
#: search_document, and dropped where to_tsvector drops them (2,048 bytes or more) so that the
#: words around them still pair up. Title and body are joined by a "|" standing as a word of its
#: own (never in a cut text, never in a query), so that no pair spans them. A pair longer than a
#: lexeme may be (2,046 bytes here) is left out, as render_word_pairs knows.
POSTGRESQL_FUNCTION = r"""
CREATE FUNCTION archive_word_pairs(title text, body text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_to_tsvector(ARRAY(
        SELECT pair.a || '_' || pair.b
        FROM (SELECT ARRAY(
                  SELECT word FROM unnest(string_to_array(
                      lower(regexp_replace(coalesce(title, ''), '[^[:alnum:]]+', ' ', 'g')) || ' | ' ||
                      lower(regexp_replace(coalesce(body, ''), '[^[:alnum:]]+', ' ', 'g')), ' ')) AS word
                  WHERE word <> '' AND octet_length(word) < 2048) AS words) AS cut,
             LATERAL unnest(cut.words[1:16383], cut.words[2:16384]) AS pair(a, b)
        WHERE octet_length(pair.a) + octet_length(pair.b) < 2046))
$$
"""
POSTGRESQL_UP = [
    POSTGRESQL_FUNCTION,
    "CREATE INDEX ix_snapshot_word_pairs ON snapshot USING gin (archive_word_pairs(title, body))",
    "DROP INDEX ix_snapshot_newest_first",
    "CREATE INDEX ix_snapshot_newest_first ON snapshot (published_at DESC NULLS LAST, article_id DESC, fetched_at)",
]
POSTGRESQL_DOWN = ["DROP INDEX IF EXISTS ix_snapshot_word_pairs",
                   "DROP FUNCTION IF EXISTS archive_word_pairs(text, text)",
                   "DROP INDEX IF EXISTS ix_snapshot_newest_first",
                   "CREATE INDEX ix_snapshot_newest_first ON snapshot (published_at DESC NULLS LAST, article_id DESC)"]


EDITS_WHERE = "origin = 'fetch'"


def upgrade() -> None:
    op.create_index("ix_snapshot_publisher_edits", "snapshot", ["article_id", "version", "fetched_at"], unique=False,
                    sqlite_where=sa.text(EDITS_WHERE), postgresql_where=sa.text(EDITS_WHERE))
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_DOWN:
            op.execute(statement)
    op.drop_index("ix_snapshot_publisher_edits", table_name="snapshot")
