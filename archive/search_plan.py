"""How a search uses its indexes: which filter's matches drive the query, which are checked per row.

Results are ordered by publication time, which neither the full-text index nor the ticker index
knows of. When a filter matches few versions, its matches are best looked up and sorted (it
"drives"); when every filter matches many, reading the newest versions first and checking each
until the page is full is far cheaper than collecting hundreds of thousands of matches to sort.
So before a search, each index-backed filter (text, tickers) is counted, cheaply (see
text_bound) and no further than DRIVE_LIMIT, and the plan follows. Whatever the plan, the results are the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

from sqlalchemy import func, select

from archive.models import SnapshotTicker
from archive.search_index import match_count, pair_count
from archive.search_syntax import And, Node, Not, Or, Term

#: A filter matching fewer versions than this drives the query (its cost grows with its matches).
DRIVE_LIMIT = 5000


@dataclass(frozen=True)
class Plan:
    """How each index-backed filter is used (see archive.search_index.STRATEGIES for text).

    `newest_first_scan`: the text is not selective either: read the newest candidates and
    check the text on each in Python (search_syntax.matches), within a bounded window; this
    costs the same for any query, where FTS5's own check of one row costs dearly for phrases
    and prefixes of common words (archive.query falls back to "filter" when the window is
    not enough).
    """

    text: str = "drive"             # drive | filter
    tickers: str = "drive"          # drive | check | lookup (drive, each version by primary key)
    newest_first_scan: bool = False


def ticker_count(connection: Any, symbols: Sequence[str], cap: int) -> int:
    """Versions naming any of these symbols, counted up to `cap` from the covering index alone."""
    capped = select(SnapshotTicker.snapshot_id).where(SnapshotTicker.symbol.in_(symbols)).limit(cap).subquery()
    return int(connection.scalar(select(func.count()).select_from(capped)))


def text_bound(connection: Any, query: Node, cap: int) -> float:
    """An upper bound on the versions the query matches, from single-word counts only.

    Counting a phrase (on PostgreSQL) or a prefix of common words means reading their position
    lists or merging many doclists, which costs more than the search it is meant to plan; a
    single word is counted from its doclist, lazily. A phrase matches no more than its rarest
    word, an AND no more than its rarest part; a prefix is not bounded (infinity). On SQLite a
    phrase is counted exactly from its pairs (archive.search_index: the pair index), as cheaply as a word.
    """
    if isinstance(query, Term):
        if len(query.tokens) > 1 and connection.dialect.name == "sqlite":
            return match_count(connection, query, cap)
        if query.prefix:
            return math.inf
        return min(match_count(connection, Term((token,)), cap) for token in query.tokens)
    if isinstance(query, And):
        return min((text_bound(connection, item, cap) for item in query.items if not isinstance(item, Not)),
                   default=math.inf)
    if isinstance(query, Or):
        return sum(text_bound(connection, item, cap) for item in query.items)
    return math.inf


def choose(connection: Any, query: Node | None, symbols: Sequence[str]) -> Plan:
    """The plan for a search with this full-text query and these tickers (either may be absent)."""
    counts: dict[str, float] = {}
    if query is not None:
        counts["text"] = text_bound(connection, query, DRIVE_LIMIT)
        if counts["text"] >= DRIVE_LIMIT:  # PostgreSQL: a phrase of common words may have rare pairs
            counts["text"] = min(counts["text"], pair_count(connection, query))
    if symbols:
        counts["tickers"] = ticker_count(connection, symbols, DRIVE_LIMIT)
    if not counts:
        return Plan()
    selective = {name: n for name, n in counts.items() if n < DRIVE_LIMIT}
    if selective:
        driver = min(selective, key=selective.__getitem__)
        if driver == "tickers" and "text" in counts and "text" not in selective:
            # A common text over a rare ticker: read the ticker's versions newest first and check
            # the text on each, rather than collect the text's many matches.
            return Plan(text="filter", tickers="drive", newest_first_scan=True)
        # The driver's few rows are checked against the other filters: the ticker by its primary
        # key; the text from its matches collected once (FTS5 checks one row at a time slowly).
        return Plan(text="drive" if driver == "text" else "filter",
                    tickers="drive" if driver == "tickers" else "check")
    # Tickers alone are checked by primary key, cheaply enough to read newest first without a window.
    return Plan(text="filter", tickers="check", newest_first_scan=query is not None)
