"""The Python API for notebooks and scripts: `archive.open(url)` and the same verbs as the CLI.

Results are plain frozen values (no database session behind them), so they can be kept, pickled
or turned into a table after the archive is closed: search results and attention series have
`.to_arrow()` (pyarrow, the `parquet` extra) and `.to_pandas()`, and `Archive.table()` gives every
match as one Arrow table, with the export's columns (archive.export.FIELDS). Filters take strings,
dates or datetimes; one ticker or many.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

from sqlalchemy import Engine

from archive import export as exporting, records
from archive.attention import Attention, attention as attention_series
from archive.db import make_engine, upgrade
from archive.diff import VersionDiff, diff_versions
from archive.query import Event, Filters, History, KnownUrl, find_article, parse_bound, search as run_search
from archive.stats import Stats, collect

When = str | date | datetime | None
Many = str | Iterable[str] | None


@dataclass(frozen=True)
class Version:
    """One version of one article, as the export schema describes it; `as_dict()` is its export line."""

    article_id: int
    version: int
    url: str
    canonical_url: str
    site: str
    title: str | None
    authors: tuple[str, ...]
    published_at: datetime | None   # with the publisher's own UTC offset
    updated_at: datetime | None
    fetched_at: datetime            # UTC
    tickers: tuple[str, ...]
    language: str | None
    ai_generated: bool
    changed_fields: tuple[str, ...]
    origin: str
    body: str
    _row: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def of(cls, snapshot: Any, article: Any) -> "Version":
        def local(value: datetime | None, offset: int | None) -> datetime | None:
            if value is None:
                return None
            return value.astimezone(timezone(timedelta(minutes=offset))) if offset is not None else value
        return cls(article.id, snapshot.version, snapshot.url, article.canonical_url, article.site, snapshot.title,
                   tuple(snapshot.authors), local(snapshot.published_at, snapshot.published_offset_min),
                   local(snapshot.updated_at, snapshot.updated_offset_min), snapshot.fetched_at,
                   tuple(t["symbol"] for t in snapshot.tickers), snapshot.language, snapshot.ai_generated,
                   tuple(snapshot.changed_fields), snapshot.origin, snapshot.body, records.row(snapshot, article))

    def as_dict(self) -> dict[str, Any]:
        """This version's export line (docs/export-schema.json)."""
        return dict(self._row)


@dataclass(frozen=True)
class ArticleHistory:
    """An article and every version of it, oldest first; when it was removed (None while it is
    online), its removals, restorations and moves (`events`, oldest first) and its URLs."""

    id: int
    canonical_url: str
    site: str
    first_seen_at: datetime
    fetches: int
    duplicate_of_url: str | None
    versions: tuple[Version, ...]
    removed_at: datetime | None
    events: tuple[Event, ...]
    urls: tuple[KnownUrl, ...]
    _history: History = field(repr=False, compare=False)

    @property
    def latest(self) -> Version:
        return self.versions[-1]

    def version(self, number: int) -> Version:
        for version in self.versions:
            if version.version == number:
                return version
        self._history.version(number)  # raises NotFound, naming the versions there are
        raise AssertionError("unreachable")

    def diff(self, old: int, new: int) -> VersionDiff:
        """What changed from version `old` to version `new`: `.text()` renders it, `.changed` names it."""
        return diff_versions(self._history.version(old), self._history.version(new))


class Results(list["Version"]):
    """Search results: a list of Version, newest first, that also turns into a table."""

    def to_arrow(self) -> Any:
        """An Arrow table of these versions' export lines (columns: archive.export.FIELDS, in order)."""
        return exporting.to_arrow(v.as_dict() for v in self)

    def to_pandas(self) -> Any:
        """A pandas DataFrame of the same (through Arrow)."""
        return exporting.to_pandas(self.to_arrow())


def _many(value: Many) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def make_filters(query: str | None = None, *, ticker: Many = None, site: Many = None, author: Many = None,
                 language: Many = None, since: When = None, until: When = None, ai_generated: bool | None = None,
                 edited: bool = False, has_notes: bool = False, as_of: When = None, removed: bool = False) -> Filters:
    """Filters from friendly values: "NVDA" or ["NVDA", "AMD"]; "2025-01-31", a date or an aware datetime."""
    return Filters(text=query or None, tickers=_many(ticker), sites=_many(site), authors=_many(author),
                   languages=_many(language), since=parse_bound(since), until=parse_bound(until, end=True),
                   ai_generated=ai_generated, edited=edited, has_notes=has_notes, as_of=parse_bound(as_of),
                   removed=removed)


class Archive:
    """An open archive. Use as a context manager, or call close()."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> "Archive":
        """Open the archive at a database URL (or a bare SQLite path), bringing its schema up to date."""
        engine = make_engine(url)
        if migrate:
            try:
                upgrade(engine)
            except Exception:
                engine.dispose()
                raise
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def search(self, query: str | None = None, *, limit: int = 20, offset: int = 0, **filters: Any) -> Results:
        """Current versions (latest, or `as_of`) matching a full-text query and filters, newest first
        (a list; `.to_arrow()` and `.to_pandas()` make a table of it).

        Filters: ticker, site, author, language, since, until, ai_generated, edited, has_notes, as_of, removed.
        """
        found = run_search(self.engine, make_filters(query, **filters), limit=limit, offset=offset)
        return Results(Version.of(snapshot, article) for snapshot, article in found)

    def table(self, query: str | None = None, *, all_versions: bool = False, with_body: bool = True,
              **filters: Any) -> Any:
        """Every matching version as one Arrow table (the export's columns, the Parquet schema), in
        article then version order: `db.table("chips", ticker="NVDA").to_pandas()` for a DataFrame."""
        return exporting.to_arrow(self.rows(query, all_versions=all_versions, with_body=with_body, **filters))

    def article(self, key: str | int) -> ArticleHistory:
        """An article by id or URL, with every version."""
        history = find_article(self.engine, key)
        a = history.article
        return ArticleHistory(a.id, a.canonical_url, a.site, a.first_seen_at, history.fetches,
                              history.duplicate_of_url, tuple(Version.of(s, a) for s in history.versions),
                              a.removed_at, tuple(history.events), tuple(history.urls), history)

    def rows(self, query: str | None = None, *, all_versions: bool = False, with_body: bool = True,
             **filters: Any) -> Iterator[dict[str, Any]]:
        """Export lines (dicts), streamed: for pipelines that want neither a file nor everything in memory."""
        return exporting.export_rows(self.engine, make_filters(query, **filters), all_versions=all_versions,
                                     with_body=with_body)

    def export(self, target: str | os.PathLike[str] | IO[Any], query: str | None = None, *,
               format: str | None = None, all_versions: bool = False, with_body: bool = False,
               csv_raw: bool = False, **filters: Any) -> int:
        """Write matching versions to a path or an open file; returns how many were written.

        `format` is one of archive.export.FORMATS: jsonl, csv, parquet or warc (default: from the
        file name; JSON lines for a name without a suffix). CSV leaves the body out unless
        `with_body`, and puts "'" before cells that would start a spreadsheet formula unless
        `csv_raw`; WARC writes every capture of the matching articles. A path is written whole
        or not at all (via a .part file); an open file must be binary for parquet and warc.
        """
        name = os.fspath(target) if isinstance(target, (str, os.PathLike)) else getattr(target, "name", "")
        if isinstance(target, (str, os.PathLike)):
            exporting.refuse_archive_as_target(self.engine, Path(target))  # before a .db name is judged
        exporter = exporting.exporter_for(str(name), format)
        job = exporting.ExportJob(self.engine, make_filters(query, **filters), all_versions=all_versions,
                                  with_body=with_body, csv_raw=csv_raw)
        return exporting.export_to(job, exporter, target)

    def attention(self, query: str | None = None, *, by: str = "day", **filters: Any) -> Attention:
        """Matching articles per day, week or month of publication (UTC), with every article's count
        in each period (the share): `.rows()` for a DataFrame, `.as_dict()` for JSON. Filters as search."""
        return attention_series(self.engine, make_filters(query, **filters), by)

    def stats(self, *, top: int = 10, **filters: Any) -> Stats:
        """Counts per site, per month, top tickers and edited articles, under the same filters."""
        return collect(self.engine, make_filters(None, **filters), top=top)
