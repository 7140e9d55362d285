"""The day_count table (archive.day_counts) holds what a full count of the current versions gives,
after any series of new articles, edits that move an article's day or change its tickers,
removals and restorations, moves and merges, and re-extractions; and attention and the facets
read from it answer what they answer by counting, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select, update

from archive import day_counts
from archive.check import check
from archive.db import upgrade
from archive.attention import all_per_day, per_day
from archive.models import Article, ArticleEvent, Snapshot
from archive.extract.model import Dated, Extracted, Ticker
from archive.query import Filters, parse_bound, search
from archive.stats import facets
from archive.store import ArchiveStore, Capture
from tests.archive.schema import downgrade_to

SITES = ("alpha.example.com", "beta.example.com", "gamma.example.com:8080")
SYMBOLS = ("NVDA", "AAPL", "MSFT", "TSLA")
WORDS = ("chips rally demand guidance margins supply tariffs yields oil crude banks lending cloud data "
         "center earnings forecast quarter shares investors analysts target rating outlook").split()
START = datetime(2025, 3, 1, tzinfo=timezone.utc)
#: Publishers' offsets: a time late in the evening west of UTC is the next day in UTC (the day counted).
ZONES = (timezone.utc, timezone(timedelta(hours=-5)), timezone(timedelta(hours=9)), timezone(timedelta(hours=5, minutes=30)))


def table_matches_a_recount(store: ArchiveStore) -> None:
    with store.engine.connect() as connection:
        assert day_counts.stored(connection) == day_counts.recounted(connection)


class Story:
    """Pages of one generated article: a site, a day, tickers and a body that edits change."""

    def __init__(self, rng: random.Random, number: int) -> None:
        self.rng = rng
        self.url = f"https://{rng.choice(SITES)}/story-{number}.html"
        self.body = "\n\n".join(" ".join(rng.choices(WORDS, k=60)) for _ in range(4))
        self.title = " ".join(rng.choices(WORDS, k=6))
        self.published: datetime | None = (START + timedelta(hours=rng.randrange(24 * 10))).astimezone(rng.choice(ZONES))
        self.tickers = tuple(sorted(set(rng.sample(SYMBOLS, rng.randint(0, 2)))))

    def page(self, url: str | None = None) -> Extracted:
        url = url or self.url
        return Extracted(url=url, canonical_url=url, is_article=True, title=self.title,
                         published=Dated(self.published, "datetime", "test") if self.published else None,
                         tickers=tuple(Ticker(s, None, 1, ("cashtag",)) for s in self.tickers), body=self.body)

    def edit(self) -> None:
        """A publisher's edit: the words, and sometimes the day (or no date at all) or the tickers."""
        self.body += " " + self.rng.choice(WORDS)
        roll = self.rng.random()
        if roll < 0.3:
            self.published = None if self.rng.random() < 0.2 else \
                (START + timedelta(hours=self.rng.randrange(240))).astimezone(self.rng.choice(ZONES))
        elif roll < 0.6:
            self.tickers = tuple(sorted(set(self.rng.sample(SYMBOLS, self.rng.randint(0, 3)))))


def reread(raw: bytes, url: str, content_type: str | None = None) -> Extracted:
    """A 'newer extractor' for re-extraction: it finds another ticker and another day."""
    story = Story(random.Random(raw), 0)
    story.url, story.body, story.title = url, raw.decode(), "Re-read: " + url
    return story.page()


def test_the_table_equals_a_recount_after_saves_edits_removals_moves_and_reextraction(db_url: str) -> None:
    rng = random.Random(22)
    store = ArchiveStore.open(db_url, reextract=reread)
    try:
        stories = [Story(rng, n) for n in range(12)]
        now = datetime(2025, 4, 1, tzinfo=timezone.utc)
        for step in range(60):
            now += timedelta(minutes=30)
            story = rng.choice(stories)
            action = rng.random()
            if action < 0.55:
                if rng.random() < 0.6:
                    story.edit()
                store.save(story.page(), Capture(story.url, now, raw=story.body.encode()))
            elif action < 0.7:  # gone twice an hour apart: removed (attention still counts it)
                store.save_error(Capture(story.url, now, status=404), "http_404: gone")
                store.save_error(Capture(story.url, now + timedelta(hours=2), status=404), "http_404: gone")
                now += timedelta(hours=2)
            elif action < 0.85:  # moved to a new URL, which may already hold the story: a merge
                new_url = story.url.replace(".html", f"-{step}.html")
                if rng.random() < 0.5:
                    store.save(story.page(new_url), Capture(new_url, now))
                    now += timedelta(minutes=1)
                store.save(story.page(new_url), Capture(new_url, now, redirected_from=(story.url,)))
                story.url = new_url
            else:
                with store.engine.connect() as connection:
                    ids = list(connection.scalars(select(Article.id)))
                store.reextract_article(rng.choice(ids))
            table_matches_a_recount(store)
        with store.engine.connect() as connection:  # the series held what it is meant to test
            kinds = set(connection.scalars(select(ArticleEvent.kind)))
            origins = set(connection.scalars(select(Snapshot.origin)))
        assert {"removed", "moved"} <= kinds and "reextract" in origins
        readers_agree_with_a_full_count(store)
    finally:
        store.close()


def full_count(store: ArchiveStore, filters: Filters) -> dict[Any, int]:
    """per_day counted from the versions, the table put aside."""
    return per_day(store.engine, filters, use_table=False)


def readers_agree_with_a_full_count(store: ArchiveStore) -> None:
    engine = store.engine
    cases = [Filters(), Filters(tickers=("NVDA",)), Filters(sites=("alpha.example.com",)),
             Filters(sites=("gamma.example.com",)), Filters(tickers=("aapl",), sites=("beta.example.com",)),
             Filters(since=parse_bound("2025-03-03"), until=parse_bound("2025-03-06", end=True)),
             Filters(tickers=("MSFT",), since=parse_bound("2025-03-04"))]
    for filters in cases:
        assert per_day(engine, filters) == full_count(store, filters), filters
        fast, slow = facets(engine, filters, days=True, first=7), facets(engine, filters, days=True, use_table=False,
                                                                         first=7)
        assert (fast.tickers, fast.sites, fast.authors, fast.days) == (slow.tickers, slow.sites, slow.authors,
                                                                        slow.days), filters
        # the newest matches, a search page's results from the same pass, in search's order
        assert fast.newest == slow.newest == [s.id for s, _ in search(engine, filters, limit=7)], filters
    assert all_per_day(engine, Filters()) == full_count(store, Filters())


def saved_and_edited(store: ArchiveStore, rng: random.Random, count: int) -> None:
    """`count` stories, each saved and then saved again edited a day later."""
    for n in range(count):
        story = Story(rng, n)
        store.save(story.page(), Capture(story.url, START + timedelta(days=20, minutes=n)))
        story.edit()
        store.save(story.page(), Capture(story.url, START + timedelta(days=21, minutes=n)))


def test_the_migration_fills_the_table_from_an_existing_archive(db_url: str) -> None:
    rng = random.Random(5)
    store = ArchiveStore.open(db_url)
    try:
        saved_and_edited(store, rng, 6)
        with store.engine.begin() as connection:
            expected = day_counts.stored(connection)
        downgrade_to(store.engine, "0013")
        upgrade(store.engine)
        with store.engine.connect() as connection:
            assert day_counts.stored(connection) == expected == day_counts.recounted(connection)
        assert sum(n for (t, s, d), n in expected.items() if not t and not s) == 6
    finally:
        store.close()


def test_a_ticker_in_a_date_window_finds_the_same_versions_before_and_after_the_migration(db_url: str) -> None:
    """snapshot_ticker carries each version's date (migration 0015): the versions of a ticker in a
    window, read from that range of the index, are those whose own date is in the window, including
    edits that moved the day or dropped the date; the migration fills the dates of an older archive."""
    rng = random.Random(11)
    store = ArchiveStore.open(db_url)
    try:
        saved_and_edited(store, rng, 30)
        since, until = parse_bound("2025-03-03"), parse_bound("2025-03-06", end=True)

        def in_window() -> dict[str, set[int]]:
            return {symbol: {s.id for s, _ in search(store.engine, Filters(tickers=(symbol,), since=since, until=until),
                                                     limit=1000)}
                    for symbol in SYMBOLS}

        with store.engine.connect() as connection:
            rows = connection.execute(select(Snapshot.id, Snapshot.tickers, Snapshot.published_at)
                                      .join(Article, Article.id == Snapshot.article_id)
                                      .where(Snapshot.version == Article.latest_version)).all()
        expected = {symbol: {i for i, tickers, published in rows if published is not None
                             and since <= published <= until and symbol in {t["symbol"] for t in tickers}}
                    for symbol in SYMBOLS}
        assert in_window() == expected and sum(map(len, expected.values())) >= 5
        with store.engine.connect() as connection:  # some edits moved the day: the copy followed the version
            dates = connection.execute(select(Snapshot.article_id, Snapshot.published_at)).all()
        assert len({(a, p) for a, p in dates}) > len({a for a, _ in dates})
        downgrade_to(store.engine, "0014")
        upgrade(store.engine)
        assert in_window() == expected
        assert check(store.engine).ok
    finally:
        store.close()


def test_the_authors_facet_counts_each_name_once_a_version(db_url: str) -> None:
    """The database unpacks the author lists (archive.stats._authors_part): a name given twice in
    one byline counts once, names outside ASCII count as written, and the counts are those of a
    count in Python over the same versions, with and without the day counts."""
    rng = random.Random(4)
    bylines = [["Ana Núñez"], ["Ana Núñez", "Bo Li"], ["Bo Li", "Bo Li"], [], ["株式 太郎", "Ana Núñez"]]
    store = ArchiveStore.open(db_url)
    try:
        expected: Counter[str] = Counter()
        for n in range(15):
            story = Story(rng, n)
            page = replace(story.page(), authors=tuple(bylines[n % len(bylines)]))
            store.save(page, Capture(story.url, START + timedelta(days=20, minutes=n)))
            expected.update(set(bylines[n % len(bylines)]))
        for filters in (Filters(), Filters(sites=("alpha.example.com",)), Filters(text="chips OR rally")):
            got = facets(store.engine, filters, top=10)
            with store.engine.connect() as connection:
                ids = {s.id for s, _ in search(store.engine, filters, limit=1000)}
                rows = connection.execute(select(Snapshot.id, Snapshot.authors)).all()
            want = Counter(name for i, authors in rows if i in ids for name in set(authors))
            assert dict(got.authors) == dict(want), filters
        assert dict(facets(store.engine, Filters()).authors) == dict(expected) == \
            {"Ana Núñez": 9, "Bo Li": 6, "株式 太郎": 3}
    finally:
        store.close()


def test_archive_check_finds_a_count_out_of_step(db_url: str) -> None:
    store = ArchiveStore.open(db_url)
    try:
        story = Story(random.Random(3), 1)
        store.save(story.page(), Capture(story.url, START + timedelta(days=20)))
        assert check(store.engine).ok
        with store.engine.begin() as connection:
            connection.execute(update(day_counts.TABLE).where(day_counts.TABLE.c.ticker == "",
                                                              day_counts.TABLE.c.site == "").values(articles=7))
        problems = check(store.engine).problems
        assert [p.kind for p in problems] == ["day_counts"] and problems[0].count == 1
    finally:
        store.close()


def test_concurrent_batches_touching_the_same_days_in_opposite_orders_do_not_deadlock(
        postgres_db: str, caplog: pytest.LogCaptureFixture) -> None:
    """Two writers (a fleet's workers) each save a batch of articles of the same ten days, one in
    day order and one in reverse: each day's rows are shared, and written per save two batches
    locked them in opposite orders (PostgreSQL's deadlock detector aborted one, a retry). The
    table's rows are written once per transaction, sorted, so no write waits in a cycle."""
    import threading

    writers = [ArchiveStore.open(postgres_db) for _ in range(2)]
    rng = random.Random(3)
    stories = [Story(rng, n) for n in range(40)]
    for n, story in enumerate(stories):
        story.published = START + timedelta(days=n % 10, hours=1)
    batches = [sorted(stories[:20], key=lambda s: s.published), sorted(stories[20:], key=lambda s: s.published)[::-1]]
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def save(store: ArchiveStore, batch: list[Story]) -> None:
        start.wait()
        try:
            for _ in range(5):  # several rounds of edits: five transactions each, all overlapping
                for story in batch:
                    story.edit()
                store.save_many([store.page_write(s.page(), Capture(url=s.url, fetched_at=START)) for s in batch])
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    with caplog.at_level("WARNING", logger="archive.store"):
        threads = [threading.Thread(target=save, args=(w, b)) for w, b in zip(writers, batches)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    try:
        assert not failures, failures
        assert not [r for r in caplog.records if "deadlock" in r.getMessage()]
        table_matches_a_recount(writers[0])
    finally:
        for writer in writers:
            writer.close()
