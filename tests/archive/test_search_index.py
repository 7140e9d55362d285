"""PostgreSQL's index of adjacent word pairs (migration 0005) never loses a match of the full-text query."""

from __future__ import annotations

import random

from sqlalchemy import text

from archive.db import make_engine, upgrade
from archive.errors import BadInput
from archive.search_syntax import And, Or, Term, pairs_decide, parse, render_tsquery, render_word_pairs, split_on_pairs
from archive.store import ArchiveStore, Capture
from tests.research import page, utc

#: search_document as migration 0003 computes it.
_DOCUMENT = ("setweight(to_tsvector('simple', regexp_replace(coalesce(:title, ''), '[^[:alnum:]]+', ' ', 'g')), 'A')"
             " || setweight(to_tsvector('simple', regexp_replace(:body, '[^[:alnum:]]+', ' ', 'g')), 'B')")


def test_word_pairs_render_what_every_match_holds() -> None:
    assert render_word_pairs(parse("chips")) is None                          # a single word: no pair
    assert render_word_pairs(parse('"export controls"')) == "'export_controls'"
    assert render_word_pairs(parse('"data center grid"*')) == "('data_center' & 'center_grid':*)"
    assert render_word_pairs(parse('chips AND "export controls" -"the market"')) == "('export_controls')"
    assert render_word_pairs(parse('"a b" OR "c d"')) == "('a_b' | 'c_d')"
    assert render_word_pairs(parse('"a b" OR c')) is None                     # c alone needs no pair
    assert render_word_pairs(parse('"BRK.B" shares')) == "('brk_b')"
    assert render_word_pairs(parse(f'"{"x" * 2100} y"')) is None              # too long to be indexed
    assert pairs_decide(parse('"a b" OR ("c d"* "e f")'))                     # two-word phrases: exact
    assert not any(pairs_decide(parse(q)) for q in ('"a b c"', '"a b" c', '"a b" -"c d"', f'"{"x" * 2100} y"'))


def test_words_and_two_word_phrases_split_into_one_exact_part_per_index() -> None:
    words, phrases = split_on_pairs(parse('(demand OR gpu) "banks and" -chips'))  # type: ignore[misc]
    assert words == And((Or((Term(("demand",)), Term(("gpu",)))), parse("-chips x").items[0]))
    assert phrases == Term(("banks", "and"))
    assert split_on_pairs(parse('gpu "a b" "c d"'))[1] == And((Term(("a", "b")), Term(("c", "d"))))  # type: ignore[index]
    assert "<->" not in render_tsquery(words)  # no phrase: GIN answers it without a recheck
    for query in ('"a b"', 'gpu', '"a b" OR gpu', '"a b c" gpu', '"a b" -"c d"', 'gpu "a b" -"c d"', '"a b" (x OR "c d e")'):
        assert split_on_pairs(parse(query)) is None, query


def test_pair_index_is_a_superset_of_the_matches(postgres_db: str) -> None:
    """On random texts (punctuation, case, letters beyond ASCII, words too long to index), every
    version that search_document matches holds the query's pairs: the pairs narrow the search,
    never change its answer; for two-word phrases they are the answer."""
    engine = make_engine(postgres_db)
    upgrade(engine)
    rng = random.Random(5)
    words = ["chips", "chip", "Chipmakers", "export", "controls", "the", "market", "Zürich", "BRK.B", "3.5%",
             "U.S.", "co-op", "snake_case", "naïve", "ÉCOLE", "a", "x" * 2100, "é" * 1024]
    glue = [" ", " ", " ", ", ", ". ", " — ", "\n\n", "’s ", "-", "/"]
    docs = [(" ".join(rng.choices(words, k=3)) if rng.random() < 0.9 else None,
             "".join(rng.choice(words) + rng.choice(glue) for _ in range(rng.randint(0, 25))))
            for _ in range(200)]
    queries = ['"export controls"', '"brk b"', '"u s"', '"co op"', '"the market"*', '"controls the"', '"chips a"',
               '"a chip"*', '"export controls" OR "the market"', '"chips a" "a market"',
               '"market chips export"', '"zürich école"', '("the market" OR "export controls") AND chips']
    queries += ['"' + " ".join(rng.choices(["chips", "export", "the", "market", "a", "co", "op", "u", "s"], k=k)) + '"'
                for k in (2, 2, 3, 3, 4) for _ in range(8)]
    checked = 0
    with engine.connect() as connection:
        for query in queries:
            try:
                tree = parse(query)
            except BadInput:
                continue
            pairs = render_word_pairs(tree)
            assert pairs is not None, query
            for title, body in docs:
                found, held = connection.execute(text(
                    f"SELECT ({_DOCUMENT}) @@ to_tsquery('simple', :query), "
                    "archive_word_pairs(:title, :body) @@ CAST(:pairs AS tsquery)"),
                    {"title": title, "body": body, "query": render_tsquery(tree), "pairs": pairs}).one()
                assert held or not found, (query, title, body)
                assert held == found or not pairs_decide(tree), (query, title, body)
                checked += found
    engine.dispose()
    assert checked > 50  # the queries do match something


def saved_random_versions(store: ArchiveStore, rng: random.Random, words: list[str], glue: list[str]) -> None:
    """150 articles of random titles and bodies drawn from `words` joined by `glue`, one version each."""
    for number in range(150):
        body = "".join(rng.choice(words) + rng.choice(glue) for _ in range(rng.randint(1, 25)))
        url = f"https://news.example.com/{number}.html"
        store.save(page(url, " ".join(rng.choices(words, k=3)), body, "2025-01-10T14:00:00"),
                   Capture(url=url, fetched_at=utc("2025-01-10T15:00:00")))


def random_queries(rng: random.Random, terms: list[str], joins: list[str]) -> list[str]:
    """60 queries of 2-4 of `terms`, each joined to the one before by one of `joins`."""
    queries = []
    for _ in range(60):
        picked = rng.sample(terms, rng.randint(2, 4))
        queries.append(picked[0] + "".join(rng.choice(joins) + term for term in picked[1:]))
    return queries


def test_sqlite_pair_columns_answer_phrases_as_word_positions_do(tmp_path: object) -> None:
    """SQLite (migration 0006): a phrase asked of the pair columns finds, on random texts and
    queries, exactly the versions that asking FTS5 for the phrase of its words finds."""
    from sqlalchemy import select

    from archive.models import Snapshot
    from archive.search_index import FTS_TABLE, Matches
    from archive.search_syntax import And, Node, Not, Or, Term

    def by_words(node: Node) -> str:  # migration 0003's rendering: phrases from the words' positions
        if isinstance(node, Term):
            return '{title body} : "' + " ".join(node.tokens) + '"' + (" *" if node.prefix else "")
        if isinstance(node, Or):
            return "(" + " OR ".join(by_words(item) for item in node.items) + ")"
        assert isinstance(node, And)
        rendered = "(" + " AND ".join(by_words(item) for item in node.items if not isinstance(item, Not)) + ")"
        for item in node.items:
            if isinstance(item, Not):
                rendered = f"({rendered} NOT {by_words(item.item)})"
        return rendered

    store = ArchiveStore.open(f"sqlite:///{tmp_path}/pairs.db")
    rng = random.Random(7)
    words = ["chips", "chip", "Chipmakers", "export", "controls", "the", "market", "Zürich", "BRK.B", "3.5%",
             "U.S.", "co-op", "snake_case", "naïve", "ÉCOLE", "a"]
    glue = [" ", " ", " ", ", ", ". ", " — ", "\n\n", "’s ", "-", "/"]
    saved_random_versions(store, rng, words, glue)
    queries = ['"export controls"', '"the market"*', '"a a"', '"chips chips"', 'chips -"the market"',
               '"export controls" OR market', '("the market" OR chip) AND -"co op"', '"u s" "brk b" OR zürich',
               '(("a chip" OR export) AND "the market") -controls', '"co op" -"u s" -naïve', '"snake case"',
               '"the market chips export"', '"a chip a"*']
    terms = ['"the market"', '"export controls"', '"a chips"', "chips", "export", "market*", '"co op"', "the"]
    queries += random_queries(rng, terms, [" ", " OR ", " -"])
    fts = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q"
    differs = 0
    with store.engine.connect() as connection:
        for query in queries:
            try:
                tree = parse(query)
            except BadInput:
                continue
            expected = set(connection.scalars(text(fts), {"q": by_words(tree)}))
            assert set(connection.scalars(select(Snapshot.id).where(Matches(tree)))) == expected, query
            differs += 0 < len(expected) < 150
    store.close()
    assert differs >= 40  # most queries split the versions: the comparison says something


def test_postgresql_samples_of_one_in_64_or_fewer_read_the_sample_indexes(postgres_db: str) -> None:
    """The partial indexes of migration 0016 are written with `sampled`'s own condition: the planner
    proves that a sample of one in 64 (or 128) falls within them, and not one of one in 32."""
    from sqlalchemy import bindparam, column, func, literal_column, select, table  # noqa: PLC0415
    from archive.search_index import _pairs_condition, sampled  # noqa: PLC0415

    engine = make_engine(postgres_db)
    upgrade(engine)
    snapshot = table("snapshot", column("id"), column("title"), column("body"), column("search_document"))
    words = snapshot.c.search_document.bool_op("@@")(func.to_tsquery(literal_column("'simple'::regconfig"), "market"))
    pairs = _pairs_condition(snapshot, bindparam("pairs", "market_rally"))

    def plan(condition: object, rate: int) -> str:
        stmt = select(snapshot.c.id).where(condition, sampled(snapshot.c.id, rate))
        compiled = stmt.compile(engine, compile_kwargs={"literal_binds": True})
        with engine.connect() as connection:
            connection.execute(text("SET LOCAL enable_seqscan = off"))
            return "\n".join(connection.exec_driver_sql(f"EXPLAIN {compiled}").scalars())

    try:
        for rate in (64, 128):
            assert "ix_snapshot_sample_words" in plan(words, rate)
            assert "ix_snapshot_sample_pairs" in plan(pairs, rate)
        assert "ix_snapshot_sample" not in plan(words, 32)
    finally:
        engine.dispose()


def test_postgresql_index_plans_find_what_the_full_query_finds(postgres_db: str) -> None:
    """Every way Matches asks PostgreSQL's indexes ("drive": words alone, pairs alone, pairs then
    search_document, words and two-word phrases in one scan) finds, on random texts and queries,
    exactly the versions that the full tsquery checked on each row ("filter") finds."""
    from sqlalchemy import select  # noqa: PLC0415

    from archive.models import Snapshot  # noqa: PLC0415
    from archive.search_index import Matches  # noqa: PLC0415

    store = ArchiveStore.open(postgres_db)
    rng = random.Random(11)
    words = ["chips", "chip", "export", "controls", "the", "market", "Zürich", "BRK.B", "U.S.", "co-op", "a"]
    glue = [" ", " ", " ", ", ", ". ", "\n\n", "’s ", "-"]
    saved_random_versions(store, rng, words, glue)
    queries = ['"export controls"', '(chips OR zürich) "the market"', 'chip* "a market" -controls', '"u s" -"co op"',
               '(chips OR export) AND ("the market" OR "a chips")', '"the market chips" export', 'market -the']
    terms = ['"the market"', '"export controls"', '"a chips"', "chips", "export", "market*", '"co op"', "the", "zürich"]
    queries += random_queries(rng, terms, [" ", " ", " OR ", " -"])
    split = differs = 0
    try:
        with store.engine.connect() as connection:
            for query in queries:
                try:
                    tree = parse(query)
                except BadInput:
                    continue
                expected = set(connection.scalars(select(Snapshot.id).where(Matches(tree, "filter"))))
                assert set(connection.scalars(select(Snapshot.id).where(Matches(tree)))) == expected, query
                split += split_on_pairs(tree) is not None
                differs += 0 < len(expected) < 150
    finally:
        store.close()
    assert split >= 10 and differs >= 40  # the split is exercised, and the comparisons say something
