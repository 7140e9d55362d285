"""Build bench/archive_scale.py's generated archive in bulk: the rows the store would write, inserted
a thousand articles a transaction instead of one save at a time (issue 22: 100,000 x 3 through the
store took 2 hours on SQLite and 5 on PostgreSQL, too long to measure the web app at that size).

Usage:
    python bench/bulk_build.py --articles 100000 --db /tmp/web100k.db
    python bench/bulk_build.py --articles 300 --db /tmp/a.db --compare   # and through the store, then compare

Each version's row comes from the store's own functions (content_fields, content_sha256, the
changed fields, _snapshot, fitted, carry_declared), each new article's MinHash and bands from
archive.fingerprint; the full-text index is written by the database's own triggers (SQLite) or
generated column (PostgreSQL) as the rows go in, and the day counts are counted at the end
(archive.day_counts.rebuild, the migration's backfill). Ids follow the store's order (a fetch,
then its version). What it skips: the near-duplicate search of each new article, which on the
generated corpus finds none (--compare checks that the two builds hold the same rows).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text  # noqa: E402

from archive import day_counts, fingerprint  # noqa: E402
from archive.db import make_engine, upgrade  # noqa: E402
from archive.extract.declared import carry_declared  # noqa: E402
from archive.models import Article, Fetch, MinhashBand, Snapshot, SnapshotTicker  # noqa: E402
from archive.store import _snapshot, content_fields, content_sha256, fitted, snapshot_fields, ticker_rows  # noqa: E402
from archive.urls import canonical_url, site_of  # noqa: E402
from bench.archive_scale import Corpus, Generator  # noqa: E402

ARTICLES_A_TRANSACTION = 1000
TABLES = (Article.__table__, Fetch.__table__, Snapshot.__table__, SnapshotTicker.__table__, MinhashBand.__table__)


class _Stored:
    """A version row seen as snapshot_fields reads a stored Snapshot."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.__dict__.update(row)


def rows_of(generator: Generator, number: int) -> dict[Any, list[dict[str, Any]]]:
    """The rows of article `number` (id number + 1) and its three versions, as the store writes them."""
    versions, published = generator.article(number)
    article_id = number + 1
    url = canonical_url(versions[0].canonical_url)
    rows: dict[Any, list[dict[str, Any]]] = {table: [] for table in TABLES}
    latest: dict[str, Any] | None = None
    fetched = published
    for index, page in enumerate(versions):
        fetched = published + timedelta(minutes=10) + timedelta(days=(0, 1, 3)[index], minutes=index)
        if latest is not None:
            page = carry_declared(page, latest["tickers"])
        fields = content_fields(page)
        before = snapshot_fields(_Stored(latest)) if latest is not None else {}
        changed = () if latest is None else tuple(
            name for name in [*before, *(name for name in fields if name not in before)]
            if fields.get(name) != before.get(name))
        row_id = 3 * number + index + 1
        rows[Fetch.__table__].append(fitted(Fetch.__table__, {
            "id": row_id, "crawl_id": None, "url": page.url, "fetched_at": fetched, "status": 200, "etag": None,
            "last_modified": None, "raw_sha256": None, "article_id": article_id,
            "outcome": "new" if latest is None else "changed", "error": None, "headers": None}))
        row = _snapshot(page, fields, content_sha256(fields), changed, article_id, index + 1, fetched, row_id,
                        "fetch", None)
        row.update(id=row_id, unverified_canonical=None)
        rows[Snapshot.__table__].append(fitted(Snapshot.__table__, row))
        rows[SnapshotTicker.__table__] += ticker_rows(row, fields["tickers"])
        latest = row
    sig = fingerprint.signature(rows[Snapshot.__table__][0]["body"])
    rows[Article.__table__].append(fitted(Article.__table__, {
        "id": article_id, "canonical_url": url, "site": site_of(url), "first_seen_at": rows[Fetch.__table__][0]["fetched_at"],
        "last_fetched_at": fetched, "latest_version": 3, "duplicate_of_id": None,
        "minhash": fingerprint.to_bytes(sig) if sig is not None else None, "removed_at": None}))
    if sig is not None:
        rows[MinhashBand.__table__] = [{"article_id": article_id, "band": i, "hash": h}
                                       for i, h in enumerate(fingerprint.band_hashes(sig))]
    return rows


def build_bulk(url: str, articles: int, log: Callable[[str], None]) -> float:
    """Write `articles` generated articles x 3 versions; returns seconds taken."""
    engine = make_engine(url)
    upgrade(engine)
    generator = Generator(Corpus())
    started = last = time.perf_counter()
    try:
        for first in range(0, articles, ARTICLES_A_TRANSACTION):
            batch: dict[Any, list[dict[str, Any]]] = {table: [] for table in TABLES}
            for number in range(first, min(articles, first + ARTICLES_A_TRANSACTION)):
                for table, rows in rows_of(generator, number).items():
                    batch[table] += rows
            with engine.begin() as connection:
                for table in TABLES:
                    if batch[table]:
                        connection.execute(insert(table), batch[table])
            done = min(articles, first + ARTICLES_A_TRANSACTION)
            if time.perf_counter() - last > 60 or done == articles:
                last = time.perf_counter()
                log(f"  {done:,} articles in {last - started:,.0f} s: {done / (last - started):,.0f} articles/s")
        with engine.begin() as connection:
            day_counts.rebuild(connection)
            if engine.dialect.name == "postgresql":  # explicit ids: the sequences move past them
                for table in (Article.__table__, Fetch.__table__, Snapshot.__table__):
                    sequence = func.pg_get_serial_sequence(f'"{table.name}"', "id")  # quoted: fetch is a keyword
                    connection.execute(select(func.setval(sequence, select(func.max(table.c.id)).scalar_subquery())))
    finally:
        engine.dispose()
    return time.perf_counter() - started


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables the build writes, and the day counts, in a comparable order."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            found = {table.name: sorted(tuple(map(repr, row)) for row in connection.execute(select(table)))
                     for table in (*TABLES, day_counts.TABLE)}
            if engine.dialect.name == "sqlite":  # the full-text index answers the same
                found["fts"] = sorted(connection.execute(text(
                    "SELECT rowid FROM snapshot_fts WHERE snapshot_fts MATCH 'market OR \"data center\"'")).all())
            return found
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--db", required=True, help="an empty archive: a SQLite path or a database URL")
    parser.add_argument("--compare", action="store_true",
                        help="also build through the store beside it (DB.store.db) and compare every row")
    args = parser.parse_args()
    url = args.db if "://" in args.db else f"sqlite:///{args.db}"

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)
    seconds = build_bulk(url, args.articles, log)
    log(f"built {args.articles:,} x 3 in {seconds:,.0f} s")
    if args.compare:
        from bench.archive_scale import build  # noqa: PLC0415
        other = f"sqlite:///{args.db}.store.db"
        build(other, args.articles, False, log)
        mine, theirs = dump(url), dump(other)
        for name in mine:
            same = mine[name] == theirs[name]
            log(f"  {name}: {len(mine[name]):,} rows {'identical' if same else 'DIFFERENT'}")
            if not same:
                difference = set(mine[name]) ^ set(theirs[name])
                log(f"    e.g. {sorted(difference)[:2]}")
        sys.exit(0 if mine == theirs else 1)


if __name__ == "__main__":
    main()
