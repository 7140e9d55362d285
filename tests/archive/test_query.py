"""Search semantics on SQLite and PostgreSQL alike: full text, filters, point in time, index upkeep."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from alembic import command
from sqlalchemy import delete, inspect, text
from sqlalchemy.orm import Session

from archive.db import alembic_config, make_engine, upgrade
from archive.errors import BadInput
from archive.models import Article
from archive.query import Filters, parse_bound, search
from archive.store import ArchiveStore
from tests import research


@pytest.fixture
def ids(store: ArchiveStore) -> dict[str, int]:
    return research.fill(store)


def found(store: ArchiveStore, ids: dict[str, int], **kwargs: object) -> list[str]:
    """Short names of the articles found, in result order."""
    names = {v: k for k, v in ids.items()}
    return [names[article.id] for _, article in search(store.engine, Filters(**kwargs), limit=50)]  # type: ignore[arg-type]


FULL_TEXT = [
    ("chips", ["german", "nvda", "intel"]),                       # newest first; whole words only
    ("CHIPS", ["german", "nvda", "intel"]),                       # any case
    ("chip*", ["german", "amd", "nvda", "intel"]),                # prefix: chipmakers, chip
    ('"export controls"', ["nvda"]),                              # phrase: adjacent words
    ("export controls", ["nvda", "intel"]),                       # both words, anywhere
    ("export AND controls", ["nvda", "intel"]),
    ("nvidia OR intel", ["german", "nvda", "intel"]),
    ("chips NOT intel", ["german", "nvda"]),
    ("chips -intel", ["german", "nvda"]),
    ('chips -"foundry options"', ["german", "nvda"]),             # title words count for NOT too
    ("(amd OR intel) AND demand", ["amd", "nvda"]),               # v2 of the NVDA story names AMD
    ('"weighs foundry"', ["intel"]),                              # a phrase in the title
    ('"options intel"', []),                                      # never across title and body
    ('"data cent"*', ["amd"]),                                    # prefix at a phrase's end
    ('"widened export controls"', ["nvda"]),                      # three words: pairs, then positions
    ('"strong data cent"*', ["amd"]),
    ('"the chips unit" OR "data center orders"', ["amd", "intel"]),
    ('"foundry options intel"', []),                              # three words across title and body
    ('"strong the"', ["nvda"]),                                   # across paragraphs of one field
    # Phrases beside words (SQLite: phrases from the pair index, words from the word index, combined).
    ('chips -"export controls"', ["german", "intel"]),
    ('"export controls" OR händler', ["german", "nvda"]),
    ('"export controls" AND chips', ["nvda"]),
    ('"export controls" -"rival amd"', []),                       # the latest NVDA version names its rival
    ('("chips unit" OR amd) -"data center"', ["nvda", "intel"]),
    ('"cost controls" OR "export controls" OR chipmakers', ["amd", "nvda", "intel"]),
    ('advanced -"export controls"', ["amd"]),
    ('("export controls" AND nvidia) OR "cost controls"', ["nvda", "intel"]),
    ("exportkontrollen", ["german"]),
    ("händler", ["german"]),                                      # letters beyond ASCII
    ("$AMD", ["amd", "nvda"]),                                    # the latest NVDA version names AMD
    ("4%", []),                                                   # "4" was edited to "5" in version 2
    ("5", ["nvda"]),
]


@pytest.mark.parametrize("query, expected", FULL_TEXT)
def test_full_text(store: ArchiveStore, ids: dict[str, int], query: str, expected: list[str]) -> None:
    assert found(store, ids, text=query) == expected


COMBINED = [  # (text, tickers, expected)
    ("chips", ("NVDA",), ["german", "nvda"]),
    ("chip*", ("AMD", "INTC"), ["amd", "nvda", "intel"]),
    ("chips -intel", ("NVDA", "INTC"), ["german", "nvda"]),
    (None, ("AMD",), ["amd", "nvda"]),
    ("demand", ("INTC",), []),
]


@pytest.mark.parametrize("drive_limit, window, dense", [(0, 300, 5), (0, 1, 5), (0, 2, 5), (2, 300, 5), (3, 1, 5),
                                                        (4, 300, 5), (4, 1, 5), (10_000, 300, 5), (0, 2, 1),
                                                        (3, 1, 1)])
def test_every_plan_gives_the_same_answers(store: ArchiveStore, ids: dict[str, int], monkeypatch: pytest.MonkeyPatch,
                                           drive_limit: int, window: int, dense: int) -> None:
    """The plan depends on how many versions match (archive.search_plan); forced here onto each
    (text or tickers driving, or a newest-first scan whose window holds everything or is too
    small and gives way, with few or, `dense`, several matches in it), the answers do not change."""
    monkeypatch.setattr("archive.search_plan.DRIVE_LIMIT", drive_limit)
    monkeypatch.setattr("archive.query.PROBE_WINDOW", window)
    monkeypatch.setattr("archive.query.DENSE_WINDOW", dense)
    for query, expected in FULL_TEXT:
        assert found(store, ids, text=query) == expected, query
    for query, tickers, expected in COMBINED:
        assert found(store, ids, text=query, tickers=tickers) == expected, (query, tickers)
    names = {v: k for k, v in ids.items()}
    for offset in range(4):
        for query in ("chip*", "chips OR amd"):
            page = search(store.engine, Filters(text=query), limit=1, offset=offset)
            assert [names[a.id] for _, a in page] == ["german", "amd", "nvda", "intel"][offset:offset + 1]
    assert found(store, ids, text="amd", tickers=("AMD",), as_of=parse_bound("2025-02-01")) == ["amd"]


def test_filters(store: ArchiveStore, ids: dict[str, int]) -> None:
    assert found(store, ids) == ["german", "amd", "nvda", "intel"]
    assert found(store, ids, tickers=("NVDA",)) == ["german", "nvda"]
    assert found(store, ids, tickers=("amd", "INTC")) == ["amd", "nvda", "intel"]     # any of several
    assert found(store, ids, tickers=("$AMD,intc",)) == ["amd", "nvda", "intel"]      # a comma list
    assert found(store, ids, sites=("www.news.example.com",)) == ["nvda", "intel"]
    assert found(store, ids, authors=("foster",)) == ["nvda", "intel"]                # part of a name, any case
    assert found(store, ids, authors=("Priya Raman", "Jonas Weber")) == ["german", "amd"]
    assert found(store, ids, languages=("en",)) == ["amd", "nvda", "intel"]           # en matches en-US
    assert found(store, ids, languages=("DE",)) == ["german"]
    assert found(store, ids, ai_generated=True) == ["intel"]
    assert found(store, ids, ai_generated=False) == ["german", "amd", "nvda"]
    assert found(store, ids, edited=True) == ["nvda"]
    assert found(store, ids, since=parse_bound("2025-01-10"), until=parse_bound("2025-01-20", end=True)) == \
        ["amd", "nvda"]
    assert found(store, ids, text="chips", tickers=("NVDA",), sites=("boerse.example.de",)) == ["german"]


def test_limit_and_offset_page_through_newest_first(store: ArchiveStore, ids: dict[str, int]) -> None:
    pages = [[a.id for _, a in search(store.engine, Filters(), limit=2, offset=offset)] for offset in (0, 2, 4)]
    assert pages == [[ids["german"], ids["amd"]], [ids["nvda"], ids["intel"]], []]


def test_as_of_reads_each_article_as_it_stood_then(store: ArchiveStore, ids: dict[str, int]) -> None:
    before_edit = parse_bound("2025-02-01T00:00Z")
    assert found(store, ids, text="amd", as_of=before_edit) == ["amd"]      # version 1 had no AMD
    assert found(store, ids, text="4%", as_of=before_edit) == ["nvda"]
    assert found(store, ids, tickers=("AMD",), as_of=before_edit) == ["amd"]
    assert found(store, ids, as_of=parse_bound("2025-01-15")) == ["nvda", "intel"]  # the others not yet fetched
    assert found(store, ids, as_of=parse_bound("2024-01-01")) == []
    assert found(store, ids, edited=True, as_of=before_edit) == []             # not edited yet then
    versions = {a.id: s.version for s, a in search(store.engine, Filters(as_of=before_edit))}
    assert versions[ids["nvda"]] == 1
    versions = {a.id: s.version for s, a in search(store.engine, Filters(as_of=parse_bound("2025-02-05T09:00Z")))}
    assert versions[ids["nvda"]] == 2                                           # fetched at that very instant


def test_malformed_query_fails_before_any_sql() -> None:
    with pytest.raises(BadInput, match="bad search query: AND needs a term after it"):
        Filters(text="chips AND")


def test_index_follows_deletes(store: ArchiveStore, ids: dict[str, int]) -> None:
    with Session(store.engine) as session, session.begin():
        session.execute(delete(Article).where(Article.id == ids["german"]))  # cascades to its versions
    assert found(store, ids, text="chips") == ["nvda", "intel"]
    assert found(store, ids, text="exportkontrollen") == []
    assert found(store, ids, text='"neuen exportkontrollen"') == []  # the pair index forgets it too


def test_migration_backfills_an_existing_archive(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """An archive from before migration 0003 is searchable once migrated (and 0003 goes back cleanly)."""
    engine = make_engine(db_url)
    upgrade(engine)
    assert "upgrading" not in caplog.text  # a new archive is created quietly
    research.fill(ArchiveStore(engine))
    command.downgrade(alembic_config(engine), "0002")   # the archive as it was before full-text search
    names = set(inspect(engine).get_table_names())
    assert not {n for n in names if n.startswith("snapshot_fts")}
    upgrade(engine)
    assert "upgrading the archive's schema from 0002 to " in caplog.text  # a long rebuild is announced
    assert [a.canonical_url for _, a in search(engine, Filters(text='"export controls"'))] == \
        [research.NVDA_V2.url]
    assert len(search(engine, Filters(text="chips"))) == 3
    engine.dispose()


def test_index_objects_exist(store: ArchiveStore) -> None:
    with store.engine.connect() as connection:
        if store.engine.dialect.name == "sqlite":
            names = connection.scalars(text("select name from sqlite_master where name like 'snapshot_fts%'")).all()
            assert {"snapshot_fts", "snapshot_fts_insert", "snapshot_fts_delete", "snapshot_fts_update"} <= set(names)
            assert "snapshot_fts_source" not in names  # contentless since 0010: reading needs no function
            columns = [row[1] for row in connection.execute(text("PRAGMA table_info(snapshot_fts)"))]
            assert columns == ["title", "body", "title_pairs", "body_pairs"]
        else:
            assert connection.scalar(text("select count(*) from pg_indexes where indexname = "
                                          "'ix_snapshot_search_document'")) == 1


def test_parse_bound_accepts_dates_and_datetimes() -> None:
    assert parse_bound("2025-02-01T00:00Z") == datetime(2025, 2, 1, tzinfo=timezone.utc)
    assert parse_bound(datetime(2025, 2, 1)) == datetime(2025, 2, 1, tzinfo=timezone.utc)
    assert parse_bound("2025-02-01", end=True) == datetime(2025, 2, 1, 23, 59, 59, 999999, tzinfo=timezone.utc)


def test_as_of_goes_by_fetch_time_when_captures_arrive_out_of_order(store: ArchiveStore) -> None:
    """An older capture imported later (a WARC) is a higher version with an earlier fetch time."""
    from archive.store import Capture
    url = research.AMD.url
    store.save(research.AMD, Capture(url=url, fetched_at=research.utc("2025-02-10T00:00:00")))
    older = research.replace(research.AMD, body=research.AMD.body + "\n\nAn early draft line.")
    assert store.save(older, Capture(url=url, fetched_at=research.utc("2025-01-21T00:00:00"))).version == 2
    def version_as_of(when: str) -> list[int]:
        return [s.version for s, _ in search(store.engine, Filters(as_of=parse_bound(when)))]
    assert version_as_of("2025-01-25") == [2]
    assert version_as_of("2025-03-01") == [1]
    assert version_as_of("2025-01-01") == []


@pytest.mark.parametrize("window", [300, 1])
def test_as_of_finds_versions_fetched_before_their_stated_publication(
        store: ArchiveStore, ids: dict[str, int], monkeypatch: pytest.MonkeyPatch, window: int) -> None:
    """A post fetched before the time it says it was published (scheduled, or a wrong date) is read
    as of any instant after its fetch, newest by its stated time; and undated versions come last."""
    from archive.store import Capture
    monkeypatch.setattr("archive.query.PROBE_WINDOW", window)
    early = research.page("https://news.example.com/markets/scheduled-chips.html", "Chips preview",
                          "A scheduled preview of chips earnings.", "2025-03-01T12:00:00")
    store.save(early, Capture(url=early.url, fetched_at=research.utc("2025-01-26T00:00:00")))
    undated = research.replace(research.page("https://news.example.com/markets/undated-chips.html", "Chips note",
                                             "An undated note on chips.", "2025-01-01T00:00:00"), published=None)
    store.save(undated, Capture(url=undated.url, fetched_at=research.utc("2025-01-26T00:00:00")))
    names = {**{v: k for k, v in ids.items()}}
    def as_of(when: str, **kwargs: object) -> list[str]:
        return [names.get(a.id, a.canonical_url.rsplit("/", 1)[1]) for _, a in
                search(store.engine, Filters(as_of=parse_bound(when), **kwargs), limit=50)]  # type: ignore[arg-type]
    assert as_of("2025-01-27") == ["scheduled-chips.html", "german", "amd", "nvda", "intel", "undated-chips.html"]
    assert as_of("2025-01-27", text="chips") == ["scheduled-chips.html", "german", "nvda", "intel",
                                                  "undated-chips.html"]
    assert as_of("2025-01-25T12:00Z") == ["german", "amd", "nvda", "intel"]     # before the two were fetched
    # With dates: the parts they rule out are not read, the answers are the same.
    assert as_of("2025-01-27", since=parse_bound("2025-01-01"), until=parse_bound("2025-12-31", end=True)) == \
        ["scheduled-chips.html", "german", "amd", "nvda"]
    assert as_of("2025-01-27", until=parse_bound("2025-01-26")) == ["german", "amd", "nvda", "intel"]
    page = search(store.engine, Filters(as_of=parse_bound("2025-01-27")), limit=2, offset=4)
    assert [a.canonical_url.rsplit("/", 1)[1] for _, a in page] == ["intel-foundry-options.html", "undated-chips.html"]


def test_plan_follows_how_many_versions_match(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite counts exactly (PostgreSQL estimates, which small tables make arbitrary)."""
    from archive.search_plan import Plan, choose
    from archive.search_syntax import parse
    store = ArchiveStore.open(f"sqlite:///{tmp_path}/plan.db")
    research.fill(store)
    monkeypatch.setattr("archive.search_plan.DRIVE_LIMIT", 4)
    with store.engine.connect() as connection:
        assert choose(connection, None, ()) == Plan()
        assert choose(connection, parse("händler"), ()) == Plan(text="drive", tickers="check")        # 1 match
        assert choose(connection, parse("chips"), ()) == Plan("filter", "check", newest_first_scan=True)  # 4
        # A phrase is counted exactly from the pair index: "the" and "chips" are each in 4, the phrase in 1.
        assert choose(connection, parse('"the chips"'), ()) == Plan(text="drive", tickers="check")
        assert choose(connection, parse("chip*"), ()).newest_first_scan                                # unbounded
        assert choose(connection, parse("chips"), ["AMD"]) == Plan("filter", "drive", newest_first_scan=True)
        assert choose(connection, parse("händler"), ["AMD"]) == Plan(text="drive", tickers="check")  # 1 < 2
        assert choose(connection, None, ["NVDA"]) == Plan(text="filter", tickers="drive")            # 3 < 4
    store.close()
