"""The full-text index over every version's title and body, and the SQL that asks it.

SQLite: an FTS5 table (`snapshot_fts`) kept in step by triggers, over each version's title and
body words and, since migration 0006, each field's adjacent word pairs in order (columns
`title_pairs`, `body_pairs`; the SQL function `archive_word_pairs`, which archive.db registers on
every connection, computes them in the triggers; since migration 0010 the table is contentless, so
that reading it, MATCH included, needs no custom function in any SQLite): FTS5
answers a phrase from its words' position lists, and for common words ("up the for") those span
the whole archive; the phrase of their pairs holds exactly the same versions and reads lists a
hundredth the size (search_syntax.render_fts5 asks words of the word columns, phrases of the pair
columns, in one MATCH). PostgreSQL: a stored generated tsvector column `snapshot.search_document`
with a GIN index. Both are created by migration 0003 and maintained by the database itself, so
that the store (which only inserts snapshots) needs to know nothing about search.

Both cut text the same way: maximal runs of letters and digits, lower-cased, no stemming, no
stop words, accents kept (FTS5's unicode61 with remove_diacritics 0; on PostgreSQL everything
that is not a letter or digit becomes a space before the 'simple' configuration reads it).
The title has weight A and the body weight B on PostgreSQL, so that a phrase can be asked for
within one of them (as FTS5 does with its columns). PostgreSQL's GIN index keeps no positions,
so migration 0005 adds a GIN index over each version's adjacent word pairs (an expression,
`archive_word_pairs(title, body)`, no stored column): a phrase's candidates come from its pairs
(search_syntax.render_word_pairs), and its positions are checked on those alone.

These objects live outside the SQLAlchemy models (a virtual table; a column of a type SQLite
lacks) and their DDL is in migrations 0003 and 0005: `outside_models` tells Alembic's autogenerate and
the models-vs-migrations test to leave them alone.
"""

from __future__ import annotations

import json
import math
from typing import Any

from sqlalchemy import (Boolean, ColumnElement, Select, String, and_, bindparam, cast, column, func, literal_column, select,
                        table)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.visitors import InternalTraversal

from archive.errors import ArchiveError
from archive.search_syntax import (Node, Not, Term, pairs_decide, render_fts5, render_tsquery, render_word_pairs,
                                   split_on_pairs)

FTS_TABLE = "snapshot_fts"
TSVECTOR_COLUMN = "search_document"
GIN_INDEX = "ix_snapshot_search_document"
#: PostgreSQL: (published_at DESC NULLS LAST, article_id DESC, fetched_at), the order results come in
#: (fetched_at since migration 0005: --as-of skips later fetches within the index).
NEWEST_FIRST_INDEX = "ix_snapshot_newest_first"
#: PostgreSQL: GIN over archive_word_pairs(title, body), the adjacent word pairs (migration 0005).
WORD_PAIRS_INDEX = "ix_snapshot_word_pairs"
#: SQLite: (id, authors), the authors facet's reads without the wide rows (migration 0015; archive.stats).
AUTHORS_INDEX = "ix_snapshot_authors"
#: PostgreSQL: the text index and the pair index again, over the versions of a one-in-64 sample
#: (`sampled`) alone (migration 0016). The estimates' samples (archive.attention) at one in 64 or
#: fewer are read from these: the full indexes give row addresses, and a sample of a common word
#: read every matching row to learn its id. Smaller archives, sampled more densely, use the full ones.
SAMPLE_INDEX_RATE = 64
SAMPLE_INDEXES = {
    "ix_snapshot_sample_words": f"CREATE INDEX ix_snapshot_sample_words ON snapshot USING gin ({TSVECTOR_COLUMN}) WHERE ",
    "ix_snapshot_sample_pairs": "CREATE INDEX ix_snapshot_sample_pairs ON snapshot USING gin "
                                "(archive_word_pairs(title, body)) WHERE ",
}

def outside_models(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
    """Alembic `include_name` hook: False for the index objects above, which the models do not describe."""
    if type_ == "table":
        return not (name or "").startswith(FTS_TABLE)
    if type_ in ("column", "index") and parent_names.get("table_name") == "snapshot":
        return name not in (TSVECTOR_COLUMN, GIN_INDEX, NEWEST_FIRST_INDEX, WORD_PAIRS_INDEX, AUTHORS_INDEX,
                            *SAMPLE_INDEXES)
    return True


#: How the index is asked (archive.search_plan chooses):
#: "drive"  - the matches drive the query (best when few versions match);
#: "filter" - SQLite: they are collected once and checked while reading newest first;
#:            PostgreSQL: each row is checked as the newest-first index is read (many match).
STRATEGIES = ("drive", "filter")


class Matches(ColumnElement[bool]):
    """`snapshot` rows whose title or body match a parsed query: compiled per dialect, bound parameters only."""

    type = Boolean()
    _is_implicitly_boolean = True  # a predicate already: never "... = 1" on SQLite
    # Cached like any statement: the SQL depends only on `shape`, and the query itself travels in
    # bound parameters made here, which SQLAlchemy binds anew on each execution (compiling a
    # search's statement afresh each time was a large share of a fast search).
    inherit_cache = True
    _traverse_internals = [("shape", InternalTraversal.dp_string), ("fts5", InternalTraversal.dp_clauseelement),
                           ("tsquery", InternalTraversal.dp_clauseelement),
                           ("pairs", InternalTraversal.dp_clauseelement),
                           ("words", InternalTraversal.dp_clauseelement)]

    def __init__(self, query: Node, strategy: str = "drive", *, sample: int = 1) -> None:
        assert strategy in STRATEGIES
        self.strategy = strategy  # the query itself is not kept: compiling from it would defeat the cache
        self.sample = sample  # one match in `sample` kept (`sampled`): part of the SQL, so of the shape
        self.fts5 = bindparam("fts_query", render_fts5(query), type_=String, unique=True)  # SQLite
        self.tsquery = bindparam("fts_query", render_tsquery(query), type_=String, unique=True)  # PostgreSQL
        pairs = render_word_pairs(query)
        self.pairs = bindparam("pairs_query", pairs, type_=String, unique=True) if pairs is not None else None
        self.decided_by_pairs = pairs is not None and pairs_decide(query)
        # PostgreSQL, (words) AND "two-word phrase": the words' tsquery without the phrase, asked of
        # the same rows as the pairs, so that neither index needs a row read to be sure.
        split = None if self.decided_by_pairs else split_on_pairs(query)
        self.words = (bindparam("words_query", render_tsquery(split[0]), type_=String, unique=True)
                      if split is not None else None)
        self.shape = (f"{strategy} {'pairs' if pairs is not None else '-'} {int(self.decided_by_pairs)} {sample}"
                      f" {int(split is not None)}")


#: Fibonacci hashing: an id times 2^32 / golden ratio, modulo 2^32, spreads consecutive ids evenly.
_GOLDEN, _SPAN = 2654435761, 1 << 32


def sampled(ids: Any, rate: int) -> ColumnElement[bool]:
    """One id in `rate`, the same ones every time, whatever the order rows were written in: what
    estimates count. A literal threshold, not a parameter, so it is part of the statement's shape."""
    return (ids * literal_column(str(_GOLDEN))) % literal_column(str(_SPAN)) < literal_column(str(_SPAN // rate))


def sample_indexes_ddl() -> list[str]:
    """PostgreSQL: CREATE INDEX statements for SAMPLE_INDEXES, their condition written as `sampled`
    writes it, so that the planner proves a sample of one in SAMPLE_INDEX_RATE or fewer falls in them."""
    condition = f"(id * {_GOLDEN}) % {_SPAN} < {_SPAN // SAMPLE_INDEX_RATE}"
    return [ddl + condition for ddl in SAMPLE_INDEXES.values()]


def _kept(ids: Select[Any], id_column: Any, rate: int) -> Select[Any]:
    """The ids a Matches collects, sampled (`sampled`) when it keeps one in `rate` > 1."""
    return ids.where(sampled(id_column, rate)) if rate > 1 else ids


def sqlite_ids(query: Node) -> Select[Any]:
    """The rowids of the versions matching the query, from FTS5 (words and pairs: render_fts5)."""
    return _fts5_ids(bindparam("fts_query", render_fts5(query), type_=String, unique=True))


def _fts5_ids(fts_query: BindParameter[str]) -> Select[Any]:
    fts = table(FTS_TABLE, column("rowid"), column(FTS_TABLE))
    return select(fts.c.rowid).where(fts.c[FTS_TABLE].op("MATCH")(fts_query))


@compiles(Matches, "sqlite")
def _matches_sqlite(element: Matches, compiler: SQLCompiler, **kw: Any) -> str:
    # "+snapshot.id" (a unary plus) keeps SQLite from using the list to drive the query.
    snapshot_id = literal_column("+snapshot.id" if element.strategy == "filter" else "snapshot.id")
    ids = _fts5_ids(element.fts5)
    ids = _kept(ids, ids.selected_columns[0], element.sample)  # sampled before any id is looked up
    return compiler.process(snapshot_id.in_(ids), **kw)


def match_count(connection: Any, query: Node, cap: int) -> int:
    """How many versions match, roughly: exact up to `cap` on SQLite, the planner's estimate on PostgreSQL.

    Both are cheap: FTS5 reads its doclists lazily; PostgreSQL's estimate comes from the
    column's statistics (most common lexemes), where counting would read every matching row.
    """
    if connection.dialect.name == "sqlite":
        capped = sqlite_ids(query).limit(cap).subquery()
        return int(connection.scalar(select(func.count()).select_from(capped)))
    snapshot = table("snapshot", column("id"))
    return _estimate(connection, select(snapshot.c.id).where(Matches(query, "filter")))  # the plain @@ test


def pair_count(connection: Any, query: Node) -> float:
    """PostgreSQL: the planner's estimate of the versions holding the query's word pairs (an upper
    bound on its matches, from the pair index's statistics); infinity when it needs no pair, or on SQLite."""
    pairs = render_word_pairs(query)
    if pairs is None or connection.dialect.name != "postgresql":
        return math.inf
    snapshot = table("snapshot", column("id"), column("title"), column("body"))
    return _estimate(connection, select(snapshot.c.id).where(
        _pairs_condition(snapshot, bindparam("pairs_query", pairs, type_=String, unique=True))))


def _estimate(connection: Any, stmt: Any) -> int:
    compiled = stmt.compile(connection)
    plan = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


def _pairs_condition(snapshot: Any, pairs: BindParameter[str]) -> ColumnElement[bool]:
    """The pair index's own expression (so that the planner uses it) against a tsquery given as is."""
    return func.archive_word_pairs(snapshot.c.title, snapshot.c.body, type_=TSVECTOR).bool_op("@@")(
        cast(pairs, TSQUERY))


def decided_by_index(query: Node) -> bool:
    """PostgreSQL: whether the indexes answer the query without reading a row's tsvector (no
    phrase but two-word ones, which the pair index decides; words, prefixes and NOT are exact in GIN)."""
    if isinstance(query, Term):
        return len(query.tokens) == 1 or pairs_decide(query)
    if isinstance(query, Not):
        return decided_by_index(query.item)
    return all(decided_by_index(item) for item in query.items)


@compiles(Matches, "postgresql")
def _matches_postgresql(element: Matches, compiler: SQLCompiler, **kw: Any) -> str:
    query = func.to_tsquery(literal_column("'simple'::regconfig"), element.tsquery)
    if element.strategy == "filter":  # checked row by row as the newest-first index is read
        test = literal_column(f"snapshot.{TSVECTOR_COLUMN}").bool_op("@@")(query)
        if element.sample > 1:
            test = and_(sampled(literal_column("snapshot.id"), element.sample), test)
        return compiler.process(test, **kw)
    # "drive": collect the few matches from the GIN index first. Left to itself, the planner may
    # read the newest-first index hoping to meet matches soon, and read it all for a rare word.
    if element.pairs is None:
        hits = table("snapshot", column("id"), column(TSVECTOR_COLUMN)).alias("fts_hits")
        found = select(hits.c.id).where(hits.c[TSVECTOR_COLUMN].bool_op("@@")(query))
        return f"snapshot.id = ANY(ARRAY({compiler.process(_kept(found, hits.c.id, element.sample), **kw)}))"
    # A phrase's pairs are rarer than its words: the pair index finds its candidates.
    narrowed = table("snapshot", column("id"), column("title"), column("body")).alias("pair_hits")
    paired = select(narrowed.c.id).where(_pairs_condition(narrowed, element.pairs))
    if element.words is not None:
        # Words AND two-word phrases: each part is exact in its index, so one scan answers both,
        # ANDing the two bitmaps or checking the words (never positions) on the pair candidates.
        words = func.to_tsquery(literal_column("'simple'::regconfig"), element.words)
        paired = paired.where(literal_column(f"pair_hits.{TSVECTOR_COLUMN}").bool_op("@@")(words))
    candidates = compiler.process(_kept(paired, narrowed.c.id, element.sample), **kw)
    if element.decided_by_pairs or element.words is not None:
        return f"snapshot.id = ANY(ARRAY({candidates}))"
    # Longer phrases: search_document checks the candidates alone. In one bitmap scan with both
    # indexes, PostgreSQL would recheck the pairs too (a phrase makes GIN ask for a recheck),
    # recomputing them from each row's text.
    hits = table("snapshot", column("id"), column(TSVECTOR_COLUMN)).alias("fts_hits")
    found = select(hits.c.id).where(hits.c[TSVECTOR_COLUMN].bool_op("@@")(query))
    inner = compiler.process(_kept(found, hits.c.id, element.sample), **kw)
    return f"snapshot.id = ANY(ARRAY({inner} AND fts_hits.id = ANY(ARRAY({candidates}))))"


@compiles(Matches)
def _matches_other(element: Matches, compiler: SQLCompiler, **kw: Any) -> str:
    raise ArchiveError(f"full-text search needs SQLite or PostgreSQL, not {compiler.dialect.name}")
