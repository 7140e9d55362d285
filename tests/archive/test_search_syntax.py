"""The query language: what parses to what, how it renders for FTS5 and tsquery, and clear errors."""

from __future__ import annotations

import pytest

from archive.errors import BadInput
from archive.search_syntax import And, Not, Or, Term, parse, render_fts5, render_tsquery


@pytest.mark.parametrize("query, tree", [
    ("chips", Term(("chips",))),
    ("CHIPS", Term(("chips",))),
    ('"export controls"', Term(("export", "controls"))),
    ("chip*", Term(("chip",), prefix=True)),
    ('"export contr"*', Term(("export", "contr"), prefix=True)),
    ("chips export", And((Term(("chips",)), Term(("export",))))),
    ("chips AND export", And((Term(("chips",)), Term(("export",))))),
    ("nvidia OR amd", Or((Term(("nvidia",)), Term(("amd",))))),
    ("chips NOT intel", And((Term(("chips",)), Not(Term(("intel",)))))),
    ("chips -intel", And((Term(("chips",)), Not(Term(("intel",)))))),
    ('chips -"foundry options"', And((Term(("chips",)), Not(Term(("foundry", "options")))))),
    ("a OR b c", Or((Term(("a",)), And((Term(("b",)), Term(("c",))))))),  # AND binds tighter than OR
    ("(a OR b) c", And((Or((Term(("a",)), Term(("b",)))), Term(("c",))))),
    ("a AND (b AND c)", And((Term(("a",)), Term(("b",)), Term(("c",))))),  # flattened
    ("$NVDA", Term(("nvda",))),
    ("BRK.B", Term(("brk", "b"))),  # punctuation inside a word: a phrase, as both indexes cut it
    ("S & P", And((Term(("s",)), Term(("p",))))),  # punctuation alone is ignored
    ("chips and or not", And(tuple(Term((w,)) for w in ("chips", "and", "or", "not")))),  # lower case: words
    ("NOT NOT chips", Term(("chips",))),
])
def test_parse(query: str, tree: object) -> None:
    assert parse(query) == tree


@pytest.mark.parametrize("query, message", [
    ("", "nothing to search for"),
    ("   ", "nothing to search for"),
    ("chips AND", "AND needs a term after it (column 7)"),
    ("AND chips", "AND needs a term before it (column 1)"),
    ("chips OR", "OR needs a term after it"),
    ("chips OR OR amd", "OR needs a term after it"),
    ("(chips", "'(' is never closed (column 1)"),
    ("chips)", "')' without a matching '(' (column 6)"),
    ("()", "empty parentheses"),
    ('"export controls', "a quote opened at column 1 is never closed"),
    ('""', "the phrase at column 1 has no words"),
    ("NOT intel", "NOT needs a term to subtract from"),
    ("-intel", "NOT needs a term to subtract from"),
    ("chips OR NOT intel", "NOT needs a term to subtract from"),
    ("ch*ps", "'*' goes at the end of a word"),
    ("*", "has no letters or digits"),
])
def test_malformed_queries_are_one_clear_line(query: str, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse(query)
    text = str(caught.value)
    assert text.startswith("bad search query: ") and message in text
    assert "\n" not in text


def test_rendering_quotes_every_term_and_keeps_user_text_out() -> None:
    tree = parse('(nvidia OR amd*) "data center" -intel')
    # Words from the word columns, a phrase from the pair columns as the phrase of its pairs (0006).
    assert render_fts5(tree) == ('((({title body} : "nvidia" OR {title body} : "amd" *) AND '
                                 '{title_pairs body_pairs} : "data\ue000center") NOT {title body} : "intel")')
    assert render_tsquery(tree) == ("(('nvidia' | 'amd':*) & ('data':A <-> 'center':A | 'data':B <-> 'center':B)"
                                    " & !'intel')")
    # Whatever the user types, only letters, digits, quotes, spaces and operators reach the database.
    hostile = parse("""x' OR 1=1; DROP TABLE snapshot; SELECT "a'); --" AND b\\ :""")
    for rendered in (render_fts5(hostile), render_tsquery(hostile)):
        assert ";" not in rendered and "DROP TABLE" not in rendered and "=" not in rendered


def test_row_check_agrees_with_fts5() -> None:
    """search_syntax.matches (used to check a few rows without the index) gives FTS5's answers."""
    import random
    import sqlite3

    from archive.search_syntax import document, matches
    from archive.words import word_pairs

    rng = random.Random(5)
    words = ["chips", "chip", "Chipmakers", "export", "controls", "the", "market", "Zürich", "BRK.B", "3.5%",
             "U.S.", "co-op", "snake_case", "naïve", "ÉCOLE", "a"]
    glue = [" ", " ", " ", ", ", ". ", " — ", "\n\n", "’s ", "-", "/"]
    docs = [(" ".join(rng.choices(words, k=3)),
             "".join(rng.choice(words) + rng.choice(glue) for _ in range(rng.randint(3, 25))))
            for _ in range(300)]
    connection = sqlite3.connect(":memory:")  # the index as migration 0006 makes it: words and their pairs
    connection.execute("CREATE VIRTUAL TABLE fts USING fts5(title, body, title_pairs, body_pairs, "
                       "tokenize='unicode61 remove_diacritics 0')")
    connection.executemany("INSERT INTO fts(rowid, title, body, title_pairs, body_pairs) VALUES (?, ?, ?, ?, ?)",
                           [(i, t, b, word_pairs(t), word_pairs(b)) for i, (t, b) in enumerate(docs)])
    queries = ['"export controls"', "chip*", "chips NOT market", "zürich OR école", '"brk b"', "u s", "co op",
               "snake", '"the market"*', "(chips OR chip) -export", "naïve", "mark*", '"controls the"', "a",
               '"a a"', '"chips chips"', '"the the market"', '"a chip"*']  # repeats: a match may start inside a failed one
    queries += [" ".join(rng.choices(["chips", "export", "-the", "market*", '"the market"', "OR"], k=3)).strip(" OR")
                for _ in range(40)]
    for query in queries:
        try:
            tree = parse(query)
        except BadInput:
            continue
        indexed = {row for (row,) in connection.execute("SELECT rowid FROM fts WHERE fts MATCH ?",
                                                           (render_fts5(tree),))}
        checked = {i for i, (title, body) in enumerate(docs) if matches(tree, document(title, body))}
        assert checked == indexed, query


def test_row_check_finds_a_phrase_that_begins_inside_a_failed_match() -> None:
    from archive.search_syntax import document, matches

    assert matches(parse('"a a"'), document("", "ba a a"))
    assert matches(parse('"chips chips"'), document("", "microchips chips chips"))
    assert not matches(parse('"a a"'), document("", "ba a b"))
