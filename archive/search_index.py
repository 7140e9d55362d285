"""The full-text index over every version's title and body, and the SQL that asks it.

SQLite: an FTS5 table with external content (`snapshot_fts`, the text stays in `snapshot`) kept
in step by triggers. PostgreSQL: a stored generated tsvector column `snapshot.search_document`
with a GIN index. Both are created by migration 0003 and maintained by the database itself, so
that the store (which only inserts snapshots) needs to know nothing about search.

Both cut text the same way: maximal runs of letters and digits, lower-cased, no stemming, no
stop words, accents kept (FTS5's unicode61 with remove_diacritics 0; on PostgreSQL everything
that is not a letter or digit becomes a space before the 'simple' configuration reads it).
The title has weight A and the body weight B on PostgreSQL, so that a phrase can be asked for
within one of them (as FTS5 does with its columns).

These objects live outside the SQLAlchemy models (a virtual table; a column of a type SQLite
lacks) and their DDL is in migration 0003: `outside_models` tells Alembic's autogenerate and
the models-vs-migrations test to leave them alone.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Boolean, ColumnElement, String, bindparam, column, func, literal_column, select, table
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from archive.errors import ArchiveError
from archive.search_syntax import Node, render_fts5, render_tsquery

FTS_TABLE = "snapshot_fts"
TSVECTOR_COLUMN = "search_document"
GIN_INDEX = "ix_snapshot_search_document"
#: PostgreSQL: (published_at DESC NULLS LAST, article_id DESC), the order results come in.
NEWEST_FIRST_INDEX = "ix_snapshot_newest_first"

def outside_models(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
    """Alembic `include_name` hook: False for the index objects above, which the models do not describe."""
    if type_ == "table":
        return not (name or "").startswith(FTS_TABLE)
    if type_ in ("column", "index") and parent_names.get("table_name") == "snapshot":
        return name not in (TSVECTOR_COLUMN, GIN_INDEX, NEWEST_FIRST_INDEX)
    return True


#: How the index is asked (archive.search_plan chooses):
#: "drive"  - the matches drive the query (best when few versions match);
#: "filter" - SQLite: they are collected once and checked while reading newest first;
#:            PostgreSQL: each row is checked as the newest-first index is read (many match).
STRATEGIES = ("drive", "filter")


class Matches(ColumnElement[bool]):
    """`snapshot` rows whose title or body match a parsed query: compiled per dialect, bound parameters only."""

    type = Boolean()
    inherit_cache = False  # the rendered query differs per dialect; compile each statement afresh
    _is_implicitly_boolean = True  # a predicate already: never "... = 1" on SQLite

    def __init__(self, query: Node, strategy: str = "drive") -> None:
        assert strategy in STRATEGIES
        self.query, self.strategy = query, strategy


def _fts5_match(query: Node) -> Any:
    fts = table(FTS_TABLE, column("rowid"), column(FTS_TABLE))
    return fts, fts.c[FTS_TABLE].op("MATCH")(bindparam("fts_query", render_fts5(query), type_=String, unique=True))


@compiles(Matches, "sqlite")
def _matches_sqlite(element: Matches, compiler: SQLCompiler, **kw: Any) -> str:
    fts, match = _fts5_match(element.query)
    # "+snapshot.id" (a unary plus) keeps SQLite from using the list to drive the query.
    snapshot_id = literal_column("+snapshot.id" if element.strategy == "filter" else "snapshot.id")
    return compiler.process(snapshot_id.in_(select(fts.c.rowid).where(match)), **kw)


def match_count(connection: Any, query: Node, cap: int) -> int:
    """How many versions match, roughly: exact up to `cap` on SQLite, the planner's estimate on PostgreSQL.

    Both are cheap: FTS5 reads its doclists lazily; PostgreSQL's estimate comes from the
    column's statistics (most common lexemes), where counting would read every matching row.
    """
    if connection.dialect.name == "sqlite":
        fts, match = _fts5_match(query)
        capped = select(fts.c.rowid).where(match).limit(cap).subquery()
        return int(connection.scalar(select(func.count()).select_from(capped)))
    snapshot = table("snapshot", column("id"))
    stmt = select(snapshot.c.id).where(Matches(query, "filter"))  # the plain @@ test: what the statistics estimate
    compiled = stmt.compile(connection)
    plan = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


@compiles(Matches, "postgresql")
def _matches_postgresql(element: Matches, compiler: SQLCompiler, **kw: Any) -> str:
    query = func.to_tsquery(literal_column("'simple'::regconfig"),
                            bindparam("fts_query", render_tsquery(element.query), type_=String, unique=True))
    if element.strategy == "filter":  # checked row by row as the newest-first index is read
        return compiler.process(literal_column(f"snapshot.{TSVECTOR_COLUMN}").bool_op("@@")(query), **kw)
    # "drive": collect the few matches from the GIN index first. Left to itself, the planner may
    # read the newest-first index hoping to meet matches soon, and read it all for a rare word.
    hits = table("snapshot", column("id"), column(TSVECTOR_COLUMN)).alias("fts_hits")
    inner = select(hits.c.id).where(hits.c[TSVECTOR_COLUMN].bool_op("@@")(query))
    return f"snapshot.id = ANY(ARRAY({compiler.process(inner, **kw)}))"


@compiles(Matches)
def _matches_other(element: Matches, compiler: SQLCompiler, **kw: Any) -> str:
    raise ArchiveError(f"full-text search needs SQLite or PostgreSQL, not {compiler.dialect.name}")
