"""Words as both full-text indexes cut them, and the adjacent word pairs SQLite's index keeps.

Below the store (archive.db registers `word_pairs` as an SQL function on every SQLite connection,
so that saving a version indexes its pairs) and the query language (archive.search_syntax cuts a
query's words the same way): neither depends on the other.
"""

from __future__ import annotations

import re

__all__ = ["tokens_of", "word_pairs", "FTS5_PAIR_JOIN"]

_TOKEN = re.compile(r"[^\W_]+")

#: Joins the two words of a pair in SQLite's pair columns (migration 0006): a private-use character
#: that FTS5's unicode61 keeps inside a token (category Co) and that no word holds (words are
#: letters and digits).
FTS5_PAIR_JOIN = "\ue000"


def tokens_of(text: str) -> tuple[str, ...]:
    """Lower-case runs of letters and digits: how FTS5's unicode61 and the PostgreSQL index cut text."""
    return tuple(_TOKEN.findall(text.lower()))


def word_pairs(text: str | None) -> str:
    """A field's adjacent word pairs in order, space-separated ("Export controls bite" -> "export+controls
    controls+bite", + being FTS5_PAIR_JOIN): what SQLite's index holds in its pair columns (migration 0006)."""
    tokens = tokens_of(text or "")
    return " ".join([a + FTS5_PAIR_JOIN + b for a, b in zip(tokens, tokens[1:])])
