"""Queries at scale: build a large generated archive through the store, then time what researchers do.

Usage:
    python bench/archive_scale.py                         # 100,000 articles x 3 versions, SQLite
    python bench/archive_scale.py --articles 20000        # smaller
    python bench/archive_scale.py --postgres postgresql://postgres@127.0.0.1/bench   # also PostgreSQL
    python bench/archive_scale.py --no-sqlite --postgres URL --reuse                 # measure again
    python bench/archive_scale.py --sqlite-path /data/a.db --build-only              # build now, measure later

Articles are generated, not crawled: archive.extract.model.Extracted values built directly (a
Zipf vocabulary of finance words and pseudo-words, bodies of 300-1,500 words in paragraphs,
~3,000 real ticker symbols with a few very popular ones, 400 sites, 2,000 authors, two years of
publication dates) and kept with the store's own write path (`ArchiveStore.page_write(Extracted,
Capture)` and `save_many`, 50 saves a transaction as the crawler batches them), so the archive
holds exactly what the store writes: versions 2 and 3 are publisher edits (a
number changed, a sentence added, sometimes a new title or ticker). No raw HTML is stored (use
--with-raw to store a generated page per fetch, zstd-compressed as the crawler would).

Measured on each database:
  bytes on disk per snapshot (whole database / versions, and the full-text index's share)
  full-text search p50/p95 (words common and rare, phrases, AND/OR/NOT, prefixes; limit 20)
  ticker + date range filter p50/p95, and the same with --as-of
  `archive stats` over the whole archive (seconds)
  export throughput (JSON lines of every version, written to a file) and its peak memory,
  in a child process (its own ru_maxrss)
Targets: search and filters p95 < 50 ms; export > 20,000 lines/s in < 200 MB.

A PostgreSQL database given with --postgres is used as is: it must be empty (or, with --reuse,
hold a previous run's archive of the same size). Before measuring it is VACUUMed and ANALYZEd
(as autovacuum would have done to an archive in use), and its memory settings are logged.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from archive.db import make_engine, upgrade  # noqa: E402
from archive.export import export_rows, write_jsonl  # noqa: E402
from archive.models import Article, Snapshot  # noqa: E402
from archive.query import Filters, search  # noqa: E402

if TYPE_CHECKING:
    from archive.extract.model import Extracted, Ticker

# archive.store and archive.extract are imported where articles are built, not here: the export
# child process runs this file too, and its peak memory should be the export's, not the extractor's.

START = datetime(2023, 7, 1, tzinfo=timezone.utc)
SPAN_DAYS = 730

FINANCE = """
market markets stock stocks shares share investors investor analysts analyst earnings revenue profit profits
margin margins guidance forecast quarter quarterly annual growth demand supply chips chip semiconductor
semiconductors export exports controls control tariffs tariff trade china chinese europe european rates
rate inflation fed federal reserve treasury yields yield bond bonds dollar currency oil crude energy gas
prices price rally selloff slump surge gains losses index indexes nasdaq dow futures options volatility
bank banks lending credit loans deposits capital cash dividend dividends buyback buybacks valuation
upgrade downgrade target rating outlook recession economy economic jobs payrolls unemployment consumer
spending retail sales inventory cloud software data center centers ai artificial intelligence model
models compute gpu gpus accelerator datacenter server servers smartphone iphone shipments subscribers
streaming advertising ads merger acquisition deal deals regulators regulation antitrust lawsuit
settlement ceo cfo executive board shareholders vote ipo listing debt default restructuring pharma drug
drugs trial approval fda vaccine obesity glp insurance claims housing mortgage homes construction
electric vehicles ev deliveries battery batteries autos automaker factory production capacity
""".split()
COMMON = """the of and to in a that for on with as is was by at from it its said has have be are this
which an but not will more than were after year last first new also over about up into would could""".split()


class Corpus:
    """Deterministic generated text: a Zipf vocabulary, a pool of sentences, articles built from them."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        syllables = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"] + ["ar", "en", "or", "ul", "ix"]
        pseudo = {"".join(self.rng.choices(syllables, k=self.rng.randint(2, 4))) for _ in range(30000)}
        self.vocabulary = COMMON + FINANCE + sorted(pseudo - set(FINANCE) - set(COMMON))[:20000]
        self.cumulative = list(itertools.accumulate(1 / (rank + 1) ** 1.05 for rank in range(len(self.vocabulary))))
        self.sentences = [self._sentence() for _ in range(40000)]

    def word(self) -> str:
        return self.vocabulary[bisect.bisect(self.cumulative, self.rng.random() * self.cumulative[-1])]

    def _sentence(self) -> str:
        words = [self.word() for _ in range(self.rng.randint(8, 24))]
        if self.rng.random() < 0.3:
            words.insert(self.rng.randrange(len(words)), f"{self.rng.uniform(0.1, 99):.1f}%")
        return " ".join(words).capitalize() + "."

    def body(self) -> str:
        sentences = self.rng.sample(self.sentences, self.rng.randint(20, 80))
        paragraphs, i = [], 0
        while i < len(sentences):
            size = self.rng.randint(2, 6)
            paragraphs.append(" ".join(sentences[i:i + size]))
            i += size
        return "\n\n".join(paragraphs)

    def title(self) -> str:
        return " ".join(self.word() for _ in range(self.rng.randint(5, 11))).capitalize()


class Generator:
    """Articles with sites, authors, tickers and three versions each (v2, v3: publisher edits)."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus, rng = corpus, corpus.rng
        self.rng = rng
        from archive.symbols import SymbolUniverse  # noqa: PLC0415 - the installed real symbol list
        symbols = SymbolUniverse.from_package().symbols()
        self.tickers = rng.sample(symbols, min(3000, len(symbols)))
        self.ticker_weights = list(itertools.accumulate(1 / (r + 1) for r in range(len(self.tickers))))
        kinds = itertools.cycle(["news", "markets", "invest", "wire", "daily", "capital", "street", "journal"])
        self.sites = [f"{corpus.vocabulary[300 + 7 * i]}-{next(kinds)}.example.com" for i in range(400)]
        self.authors = [f"{corpus.word().capitalize()} {corpus.word().capitalize()}" for _ in range(2000)]

    def ticker_set(self) -> tuple["Ticker", ...]:
        from archive.extract.model import Ticker  # noqa: PLC0415 - see the imports above
        chosen: dict[str, Ticker] = {}
        for _ in range(self.rng.choice((0, 1, 1, 2, 2, 3, 4, 6))):
            symbol = self.tickers[bisect.bisect(self.ticker_weights, self.rng.random() * self.ticker_weights[-1])]
            chosen[symbol] = Ticker(symbol, None, self.rng.randint(1, 5), ("cashtag",))
        return tuple(chosen.values())

    def article(self, number: int) -> tuple[list["Extracted"], datetime]:
        from archive.extract.model import Dated, Extracted  # noqa: PLC0415 - see the imports above
        rng = self.rng
        site = self.sites[number % len(self.sites)] if rng.random() < 0.5 else rng.choice(self.sites)
        url = f"https://{site}/{number // 1000}/story-{number}.html"
        published = START + timedelta(minutes=rng.randrange(SPAN_DAYS * 24 * 60))
        authors = tuple(rng.sample(self.authors, rng.choice((1, 1, 1, 2))))
        first = Extracted(url=url, canonical_url=url, is_article=True, title=self.corpus.title(), authors=authors,
                          ai_generated=rng.random() < 0.02, published=Dated(published, "datetime", "bench"),
                          site_name=site.split(".")[0], language="en" if rng.random() < 0.9 else rng.choice(("de", "fr")),
                          tickers=self.ticker_set(), body=self.corpus.body())
        versions = [first]
        for _ in range(2):
            versions.append(self.edit(versions[-1]))
        return versions, published

    def edit(self, page: "Extracted") -> "Extracted":
        rng = self.rng
        paragraphs = page.body.split("\n\n")
        i = rng.randrange(len(paragraphs))
        words = paragraphs[i].split()
        words[rng.randrange(len(words))] = f"{rng.uniform(0.1, 99):.1f}%"
        paragraphs[i] = " ".join(words)
        if rng.random() < 0.5:
            paragraphs.append(rng.choice(self.corpus.sentences))
        changes: dict[str, Any] = {"body": "\n\n".join(paragraphs)}
        if rng.random() < 0.2:
            changes["title"] = self.corpus.title()
        if rng.random() < 0.1:
            changes["tickers"] = page.tickers + self.ticker_set()[:1]
        return replace(page, **changes)


def fake_html(page: "Extracted") -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in page.body.split("\n\n"))
    return (f"<html><head><title>{page.title}</title></head><body><nav>Markets Tech Opinion</nav>"
            f"<article><h1>{page.title}</h1>{paragraphs}</article><footer>(c) {page.site_name}</footer>"
            f"</body></html>").encode()


#: Saves per transaction, as the crawler's store pipeline batches them (ARCHIVE_WRITE_BATCH).
WRITE_BATCH = 50


def build(url: str, articles: int, with_raw: bool, log: Callable[[str], None]) -> float:
    """Save N articles x 3 versions through the store, WRITE_BATCH saves a transaction as in a
    crawl (ArchiveStore.page_write + save_many); returns seconds taken."""
    from archive.store import ArchiveStore, Capture  # noqa: PLC0415 - see the imports above
    store = ArchiveStore.open(url)
    generator = Generator(Corpus())
    started = last = time.perf_counter()
    writes: list[Any] = []

    def flush() -> None:
        for result in store.save_many(writes):
            assert result.created, result
        writes.clear()
    try:
        for number in range(articles):
            versions, published = generator.article(number)
            for index, page in enumerate(versions):
                fetched = published + timedelta(minutes=10) + timedelta(days=(0, 1, 3)[index], minutes=index)
                raw = fake_html(page) if with_raw else None
                writes.append(store.page_write(page, Capture(url=page.url, fetched_at=fetched, raw=raw,
                                                             content_type="text/html" if raw else None)))
            if len(writes) >= WRITE_BATCH:
                flush()
            if (number + 1) % 5000 == 0 or time.perf_counter() - last > 60:
                last = time.perf_counter()
                rate = (number + 1) / (last - started)
                log(f"  {number + 1:,} articles ({3 * (number + 1):,} versions) in {last - started:,.0f} s: "
                    f"{rate:,.0f} articles/s, {3 * rate:,.0f} saves/s")
        flush()
    finally:
        store.close()
    return time.perf_counter() - started


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def timed(engine: Any, filters: list[Filters], samples: list[float] | None = None) -> tuple[float, float, float]:
    """p50, p95 (ms) and mean results of search() over the filters, after one warm-up pass
    (each query's seconds are appended to `samples` when given)."""
    for f in filters[:5]:
        search(engine, f, limit=20)
    samples = [] if samples is None else samples
    found = 0
    for f in filters:
        began = time.perf_counter()
        found += len(search(engine, f, limit=20))
        samples.append(time.perf_counter() - began)
    return (*percentiles(samples), found / len(filters))


#: The kinds of text_queries, in the order it cycles through them.
QUERY_KINDS = ("common word", "rare word", "phrase", "AND", "OR with a rare word", "NOT", "prefix*",
               "(OR) AND phrase")


def log_by_kind(texts: list[str], samples: list[float], log: Callable[[str], None]) -> None:
    """Median and slowest time per kind of full-text query: where a p95 comes from."""
    for number, kind in enumerate(QUERY_KINDS):
        mine = sorted((seconds * 1000, text) for i, (text, seconds) in enumerate(zip(texts, samples))
                      if i % len(QUERY_KINDS) == number)
        if mine:
            log(f"    {kind:<22} median {mine[len(mine) // 2][0]:6.1f} ms, slowest {mine[-1][0]:6.1f} ms: {mine[-1][1]}")


def text_queries(corpus: Corpus, rng: random.Random, n: int) -> list[str]:
    """A mix: common and rare words, phrases from the text, boolean forms, prefixes."""
    finance = FINANCE
    rare = corpus.vocabulary[2000:20000]
    def phrase() -> str:
        words = rng.choice(corpus.sentences).rstrip(".").lower().split()
        start = rng.randrange(max(1, len(words) - 2))
        return '"' + " ".join(words[start:start + rng.choice((2, 3))]) + '"'
    makers = [
        lambda: rng.choice(finance),
        lambda: rng.choice(rare),
        phrase,
        lambda: f"{rng.choice(finance)} AND {rng.choice(finance)}",
        lambda: f"{rng.choice(finance)} OR {rng.choice(rare)}",
        lambda: f"{rng.choice(finance)} NOT {rng.choice(finance)}",
        lambda: f"{rng.choice(finance)[:4]}*",
        lambda: f"({rng.choice(finance)} OR {rng.choice(finance)}) AND {phrase()}",
    ]
    return [makers[i % len(makers)]() for i in range(n)]


def window(rng: random.Random, days: int = 90) -> tuple[datetime, datetime]:
    since = START + timedelta(days=rng.randrange(SPAN_DAYS - days))
    return since, since + timedelta(days=days)


def disk_bytes(engine: Any) -> tuple[int, int]:
    """Whole database, and the full-text index's part of it (PostgreSQL: the tsvector column, its
    GIN index and the word-pair index)."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            total = connection.scalar(text("select pg_database_size(current_database())"))
            index = connection.scalar(text("select pg_relation_size('ix_snapshot_search_document')"))
            pairs = connection.scalar(text("select coalesce(pg_relation_size(to_regclass('ix_snapshot_word_pairs')), 0)"))
            column = connection.scalar(text("select coalesce(sum(pg_column_size(search_document)), 0) from snapshot"))
            return int(total), int(index) + int(pairs) + int(column)
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        database = Path(engine.url.database)
        total = database.stat().st_size + sum(p.stat().st_size for p in database.parent.glob(database.name + "-wal"))
        try:
            index = connection.scalar(text("select sum(pgsize) from dbstat where name like 'snapshot_fts%'")) or 0
        except Exception:  # noqa: BLE001 - dbstat is an optional SQLite module
            index = 0
        return total, int(index)


def peak_rss_kb() -> int:
    """This process's own peak resident memory. Linux's VmHWM, because ru_maxrss carries the
    parent's peak over fork (and the parent here has built or searched a large archive)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def export_worker(url: str, out: str) -> None:
    """Child process: export every version as JSON lines; print lines, seconds and own peak RSS."""
    engine = make_engine(url)
    began = time.perf_counter()
    with open(out, "w", encoding="utf-8") as handle:
        lines = write_jsonl(export_rows(engine, Filters(), all_versions=True), handle)
    seconds = time.perf_counter() - began
    peak_kb = peak_rss_kb()
    print(json.dumps({"lines": lines, "seconds": seconds, "peak_mb": peak_kb / 1024,
                      "bytes": os.path.getsize(out)}))


def warm_page_cache(path: str) -> None:
    """Read the SQLite file once, as an archive in use sits in the OS page cache: measured cold,
    the first minutes of queries read 3 GB from disk (full-text p95 98 ms at 100,000 articles, 57 ms warm).
    PostgreSQL's own buffers warm up over the warm-up queries and the runs before."""
    with open(path, "rb") as database:
        while database.read(1 << 24):
            pass


def measure(url: str, queries: int, log: Callable[[str], None]) -> dict[str, str]:
    engine = make_engine(url)
    upgrade(engine)
    if engine.dialect.name == "postgresql":
        # VACUUM as autovacuum would have by now on an archive in use (a freshly built one is not
        # yet marked all-visible), ANALYZE for the planner's statistics.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
            log("  " + ", ".join(f"{name} {connection.scalar(select(func.current_setting(name)))}"
                                 for name in ("shared_buffers", "effective_cache_size", "work_mem")))
    else:
        with engine.begin() as connection:
            connection.execute(text("PRAGMA optimize"))
        warm_page_cache(engine.url.database or "")
    corpus = Corpus()
    rng = random.Random(11)
    generator = Generator(corpus)
    with Session(engine) as session:
        versions = session.scalar(select(func.count()).select_from(Snapshot)) or 0
        articles = session.scalar(select(func.count()).select_from(Article)) or 0
    total, index = disk_bytes(engine)
    out: dict[str, str] = {
        "articles / versions": f"{articles:,} / {versions:,}",
        "bytes on disk per snapshot": f"{total / max(versions, 1):,.0f}",
        "  of which full-text index": f"{index / max(versions, 1):,.0f}",
    }
    log("  full-text search ...")
    texts = text_queries(corpus, rng, queries)
    samples: list[float] = []
    p50, p95, hits = timed(engine, [Filters(text=q) for q in texts], samples)
    log_by_kind(texts, samples, log)
    out["full-text search p50 / p95 ms"] = f"{p50:.1f} / {p95:.1f}"
    log("  ticker + date filter ...")
    def ticker() -> str:
        return generator.tickers[bisect.bisect(generator.ticker_weights, rng.random() * generator.ticker_weights[-1])]
    ticker_filters = [Filters(tickers=(ticker(),), since=s, until=u) for s, u in (window(rng) for _ in range(queries))]
    p50, p95, _ = timed(engine, ticker_filters)
    out["ticker + date filter p50 / p95 ms"] = f"{p50:.1f} / {p95:.1f}"
    log("  text + ticker + date ...")
    combined = [Filters(text=q, tickers=(ticker(),), since=s, until=u)
                for q, (s, u) in zip(text_queries(corpus, rng, queries), (window(rng, 365) for _ in range(queries)))]
    p50, p95, _ = timed(engine, combined)
    out["text + ticker + date p50 / p95 ms"] = f"{p50:.1f} / {p95:.1f}"
    log("  as-of ...")
    as_of = [Filters(text=q, as_of=START + timedelta(days=rng.randrange(30, SPAN_DAYS)))
             for q in text_queries(corpus, rng, queries)]
    p50, p95, _ = timed(engine, as_of)
    out["--as-of search p50 / p95 ms"] = f"{p50:.1f} / {p95:.1f}"
    as_of_filter = [Filters(tickers=(ticker(),), since=s, until=u, as_of=u + timedelta(days=2))
                    for s, u in (window(rng) for _ in range(queries))]
    p50, p95, _ = timed(engine, as_of_filter)
    out["--as-of ticker + date p50 / p95 ms"] = f"{p50:.1f} / {p95:.1f}"
    log("  stats ...")
    from archive.stats import collect  # noqa: PLC0415 - only the parent measures it
    began = time.perf_counter()
    collect(engine, Filters())
    out["archive stats, whole archive s"] = f"{time.perf_counter() - began:.2f}"
    engine.dispose()
    log("  export ...")
    with tempfile.TemporaryDirectory() as folder:
        target = str(Path(folder) / "export.jsonl")
        child = subprocess.run([sys.executable, __file__, "--export-worker", url, target],
                               capture_output=True, text=True, check=True)
    result = json.loads(child.stdout.strip().splitlines()[-1])
    out["export lines/s (all versions, JSONL)"] = f"{result['lines'] / result['seconds']:,.0f}"
    out["export peak memory MB"] = f"{result['peak_mb']:,.0f}"
    out["export size"] = f"{result['lines']:,} lines, {result['bytes'] / 1e6:,.0f} MB in {result['seconds']:.0f} s"
    return out


TARGETS = {"full-text search p50 / p95 ms": "p95 < 50", "ticker + date filter p50 / p95 ms": "p95 < 50",
           "text + ticker + date p50 / p95 ms": "p95 < 50", "--as-of search p50 / p95 ms": "p95 < 50",
           "--as-of ticker + date p50 / p95 ms": "p95 < 50", "export lines/s (all versions, JSONL)": "> 20,000",
           "export peak memory MB": "< 200"}


def table(results: dict[str, dict[str, str]]) -> str:
    names = list(results)
    metrics = list(dict.fromkeys(m for r in results.values() for m in r))
    rows = [["metric", *names, "target"]] + [[m, *(results[n].get(m, "-") for n in names), TARGETS.get(m, "")]
                                             for m in metrics]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def populated(url: str) -> int:
    engine = make_engine(url)
    try:
        upgrade(engine)
        with Session(engine) as session:
            return session.scalar(select(func.count()).select_from(Article)) or 0
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000, help="articles to generate (x3 versions)")
    parser.add_argument("--postgres", help="an empty PostgreSQL database URL to measure as well")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--sqlite-path", help="where the SQLite archive goes (default: a temporary folder)")
    parser.add_argument("--reuse", action="store_true", help="measure archives already built by an earlier run")
    parser.add_argument("--build-only", action="store_true", help="build the archives and stop (measure later with --reuse)")
    parser.add_argument("--with-raw", action="store_true", help="store a generated raw HTML page per fetch")
    parser.add_argument("--queries", type=int, default=200, help="queries per measurement")
    parser.add_argument("--export-worker", nargs=2, metavar=("URL", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.export_worker:
        export_worker(*args.export_worker)
        return

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    targets: dict[str, str] = {}
    scratch = None
    if not args.no_sqlite:
        if args.sqlite_path:
            path = Path(args.sqlite_path)
        else:
            scratch = tempfile.TemporaryDirectory(prefix="archive-bench-")
            path = Path(scratch.name) / "archive.db"
        targets["sqlite"] = f"sqlite:///{path}"
    if args.postgres:
        targets["postgresql"] = args.postgres
    results: dict[str, dict[str, str]] = {}
    for name, url in targets.items():
        existing = populated(url)
        if existing and not (args.reuse and existing == args.articles):
            sys.exit(f"{name}: the database already holds {existing} articles; give an empty one "
                     f"(or --reuse with --articles {existing})")
        if not existing:
            log(f"{name}: building {args.articles:,} articles x 3 versions through the store, {WRITE_BATCH} saves a transaction ...")
            seconds = build(url, args.articles, args.with_raw, log)
            build_note = f"{seconds:,.0f} s ({3 * args.articles / seconds:,.0f} saves/s)"
        else:
            build_note = "(reused)"
        if args.build_only:
            log(f"{name}: built in {build_note}")
            continue
        log(f"{name}: measuring ...")
        results[name] = {"build through the store": build_note, **measure(url, args.queries, log)}
    if args.build_only:
        return
    print(f"\n{args.articles:,} articles x 3 versions; {os.cpu_count()} CPUs; "
          f"SQLite {__import__('sqlite3').sqlite_version}\n")
    print(table(results))
    if scratch:
        scratch.cleanup()


if __name__ == "__main__":
    main()
