"""What the archive holds, in a few numbers: per site, per month of publication, top tickers, edits.

Counted over the same versions the other readers see (each article's latest, or as of a time),
under the same filters, so `archive stats --ticker NVDA` describes what `archive search` finds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Sequence

from sqlalchemy import Engine, String, cast, distinct, func, literal_column, select, true, union_all
from sqlalchemy.orm import Session

from archive import day_counts
from archive.attention import day_label, day_of, estimated
from archive.models import Article, ArticleEvent, Snapshot, SnapshotTicker
from archive.query import (Filters, counting, newest_first, publisher_edited, reading, select_versions,
                           through_indexes)
from archive.text_table import width as display_width

BLOCKS = " ▏▎▍▌▋▊▉█"


@dataclass(frozen=True)
class Stats:
    """Counts over the filtered archive; each list is (label, count), largest or earliest first."""

    articles: int
    versions: int
    edited: int
    sites: int
    per_site: list[tuple[str, int]] = field(default_factory=list)
    per_month: list[tuple[str, int]] = field(default_factory=list)
    top_tickers: list[tuple[str, int]] = field(default_factory=list)
    #: Removals (archive.removals) of the matching articles: (site, YYYY-MM of the removal, count),
    #: by site then month; `removed` counts those removed now (not restored since).
    removals: list[tuple[str, str, int]] = field(default_factory=list)
    removed: int = 0

    def as_dict(self) -> dict[str, Any]:
        removals: dict[str, dict[str, int]] = {}
        for site, month, count in self.removals:
            removals.setdefault(site, {})[month] = count
        return {"articles": self.articles, "versions": self.versions, "edited": self.edited, "sites": self.sites,
                "removed": self.removed, "per_site": dict(self.per_site), "per_month": dict(self.per_month),
                "top_tickers": dict(self.top_tickers), "removals": removals}


def _month(dialect: str, column: Any = Snapshot.published_at) -> Any:
    """YYYY-MM of a time (by default the publication time) in UTC, in each database's own words."""
    # Constants as literal SQL (never user input): bound parameters would differ between SELECT
    # and GROUP BY, which PostgreSQL refuses.
    if dialect == "postgresql":
        return func.to_char(func.timezone(literal_column("'UTC'"), column), literal_column("'YYYY-MM'"))
    return func.strftime(literal_column("'%Y-%m'"), column)


def collect(engine: Engine, filters: Filters, *, top: int = 10) -> Stats:
    """Counts for `archive stats` and `Archive.stats()`; `top` bounds the per-site and ticker lists."""
    current = select_versions([Snapshot.id], filters).subquery()
    matching = select_versions([Snapshot.id, Article.site, Snapshot.article_id], filters).subquery()
    month = _month(engine.dialect.name)
    with Session(engine) as session:
        def rows(stmt: Any) -> list[tuple[str, int]]:
            return [(str(label), int(count)) for label, count in reading(session.execute, stmt)]

        articles = session.scalar(select(func.count()).select_from(current)) or 0
        every_version = select(func.count()).select_from(Snapshot).where(
            Snapshot.article_id.in_(select(matching.c.article_id)))
        if filters.as_of:
            every_version = every_version.where(Snapshot.fetched_at <= filters.as_of)
        versions = session.scalar(every_version) or 0
        edited = session.scalar(select(func.count()).select_from(
            select_versions([Snapshot.id], filters).where(publisher_edited(filters.as_of)).subquery())) or 0
        sites = session.scalar(select(func.count(distinct(matching.c.site)))) or 0
        per_site = rows(select(matching.c.site, func.count()).group_by(matching.c.site)
                        .order_by(func.count().desc(), matching.c.site).limit(top))
        per_month = rows(select_versions([month.label("month"), func.count()], filters)
                         .where(Snapshot.published_at.is_not(None)).group_by(month).order_by(month))
        top_tickers = rows(select(SnapshotTicker.symbol, func.count())
                           .where(SnapshotTicker.snapshot_id.in_(select(current.c.id)))
                           .group_by(SnapshotTicker.symbol)
                           .order_by(func.count().desc(), SnapshotTicker.symbol).limit(top))
        removed_month = _month(engine.dialect.name, ArticleEvent.at)
        removals = [(str(site), str(when), int(count)) for site, when, count in reading(session.execute, select(
            Article.site, removed_month, func.count()).join(ArticleEvent, ArticleEvent.article_id == Article.id)
            .where(ArticleEvent.kind == "removed", Article.id.in_(select(matching.c.article_id)))
            .group_by(Article.site, removed_month).order_by(Article.site, removed_month))]
        removed = session.scalar(select(func.count()).select_from(Article).where(
            Article.removed_at.is_not(None), Article.id.in_(select(matching.c.article_id)))) or 0
    return Stats(articles, versions, edited, sites, per_site, per_month, top_tickers, removals, removed)


def bar(value: int, largest: int, width: int = 30) -> str:
    """A horizontal bar in eighths of a character: a text chart that needs no library."""
    if largest <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value / largest * width * 8))
    return BLOCKS[-1] * (eighths // 8) + (BLOCKS[eighths % 8] if eighths % 8 else "")


def chart(title: str, items: Sequence[tuple[str, int]], width: int = 30) -> str:
    """A titled list of labels, counts and bars."""
    if not items:
        return f"{title}\n  (none)"
    largest = max(count for _, count in items)
    label_width = max(display_width(label) for label, _ in items)
    count_width = max(len(str(count)) for _, count in items)
    lines = [title] + [f"  {label}{' ' * (label_width - display_width(label))}  {str(count).rjust(count_width)}  "
                       f"{bar(count, largest, width)}" for label, count in items]
    return "\n".join(lines)


def report(stats: Stats, width: int = 30) -> str:
    """The whole summary for a terminal."""
    head = (f"articles {stats.articles} · versions {stats.versions} · edited by the publisher {stats.edited}"
            f" · sites {stats.sites}")
    parts = [head, chart(f"articles per site (top {len(stats.per_site)})", stats.per_site, width),
             chart("articles per month published (UTC)", stats.per_month, width),
             chart(f"top tickers (articles, top {len(stats.top_tickers)})", stats.top_tickers, width)]
    if stats.removals:  # an archive whose publishers never took an article down shows no empty chart
        parts.append(chart(f"removals per site and month (UTC; {stats.removed} removed now)",
                           [(f"{site}  {month}", count) for site, month, count in stats.removals], width))
    return "\n\n".join(parts)


@dataclass(frozen=True)
class Facets:
    """The most frequent tickers, sites and authors among matching articles: (label, articles)."""

    tickers: list[tuple[str, int]]
    sites: list[tuple[str, int]]
    authors: list[tuple[str, int]]
    #: With `facets(..., days=True)`: matching articles per day of publication (None: undated), as
    #: attention.per_day counts them, from the same pass over the matches.
    days: dict[date | None, int] | None = None
    #: 1: counted. n > 1: estimated from one match in n, times n (archive.attention.sample_rate).
    rate: int = 1
    #: With `facets(..., first=k)` and counted, not estimated: the ids of the newest k matches, newest
    #: first, as archive.query.search orders them (a search page's results, from the same pass).
    newest: list[int] | None = None

    @property
    def estimated(self) -> bool:
        return self.rate > 1

    def as_dict(self) -> dict[str, Any]:
        return {"tickers": dict(self.tickers), "sites": dict(self.sites), "authors": dict(self.authors),
                "estimated": self.estimated, "sample_rate": 1 / self.rate}


def facets(engine: Engine, filters: Filters, *, top: int = 10, authors_from: int = 5000,
           days: bool = False, use_table: bool = True, estimate: bool = False, first: int = 0) -> Facets:
    """Top tickers, sites and authors of the result set of `filters`, from one pass over the matches.

    The matches are collected once (a materialised CTE of the narrow columns, read from the
    versions' covering index: archive.query.counting) and counted three ways in one statement:
    tickers and sites over all of them; authors, who live in a JSON list in the versions' wide
    rows, over the newest `authors_from` (counted here). With `days`, the matches per day of
    publication too (what attention over time counts: a search page counts its matches once).

    Where the filters allow (archive.day_counts.scope_of) and unless `use_table` is False, the
    days, the sites and (for a query of no ticker) the tickers are read from the day counts, and
    only the rest is counted (`_from_table`). `estimate`: a text with many matches is counted
    from a sample, each count scaled (archive.attention.estimated: the web app's choice); the
    authors are then those of the newest `authors_from` / n of the sample of one in n.
    `first`: the ids of the newest `first` matches too (Facets.newest), when they are counted.
    """
    if estimate:
        found = estimated(engine, filters, lambda f: facets(engine, f, top=top, authors_from=authors_from, days=True,
                                                            use_table=use_table, first=first),
                          lambda sampled: sum((sampled.days or {}).values()))
        return found if days else replace(found, days=None)
    if filters.sample > 1:
        first = 0  # the newest of a sample are not the newest matches
    scope = day_counts.scope_of(filters) if use_table else None
    if scope is not None:
        return _from_table(engine, filters, scope, top=top, authors_from=authors_from, days=days, first=first)
    if filters.sample > 1:  # the newest of the sample stand for a sample of the newest
        authors_from = max(1, authors_from // filters.sample)
    matching = (counting(select_versions([Snapshot.id.label("id"), Article.site.label("site"),
                                          Snapshot.published_at.label("published_at"),
                                          Snapshot.article_id.label("article_id")], filters), filters)
                .cte("matching").prefix_with("MATERIALIZED"))
    newest = _newest(matching, authors_from)
    n = func.count()
    parts = [
        select(literal_column("'site'").label("kind"), matching.c.site.label("label"), n.label("n"))
        .group_by(matching.c.site).order_by(n.desc(), matching.c.site).limit(top),
        _tickers_part(matching, top),
        _authors_part(newest, engine.dialect.name),
    ]
    if days:
        day = day_of(engine.dialect.name, matching.c.published_at)
        parts.append(select(literal_column("'day'").label("kind"), day.label("label"), n.label("n")).group_by(day))
    if first:
        parts.append(_first_part(matching, first))
    stmt = union_all(*(select(part.subquery()) for part in parts))
    found: dict[str, list[tuple[str, int]]] = {"site": [], "ticker": []}
    named: Counter[str] = Counter()
    per_day: dict[date | None, int] = {}
    placed: dict[int, int] = {}  # place in search's order -> id
    with Session(engine) as session:
        through_indexes(session)
        for kind, label, count in reading(session.execute, stmt):
            if kind == "author":
                named[str(label)] += int(count) * filters.sample
            elif kind == "day":
                per_day[day_label(label)] = int(count) * filters.sample
            elif kind == "first":
                placed[int(label)] = int(count)
            else:
                found[kind].append((str(label), int(count) * filters.sample))
    return Facets(found["ticker"], found["site"], _top(named, top), per_day if days else None, filters.sample,
                  [placed[n] for n in sorted(placed)] if first else None)


def _from_table(engine: Engine, filters: Filters, scope: day_counts.Scope, *, top: int, authors_from: int,
                days: bool, first: int = 0) -> Facets:
    """facets() with the days, sites and tickers read from the day counts where they can be; a
    ticker's co-mentioned tickers and the authors are counted from its matches, collected once
    (a materialised CTE, as facets() does). With no ticker or site, the authors are those of the
    newest versions of all, read from the newest-first index instead of sorted from every version."""
    matching = (counting(select_versions([Snapshot.id.label("id"), Snapshot.published_at.label("published_at"),
                                          Snapshot.article_id.label("article_id")], filters), filters)
                .cte("matching").prefix_with("MATERIALIZED"))
    everything = scope.ticker == day_counts.ANY and not scope.sites
    if everything:
        newest = newest_first(select_versions([Snapshot.id], filters)).limit(authors_from)
    else:
        newest = _newest(matching, authors_from)
    parts = [_authors_part(newest, engine.dialect.name)]
    if scope.ticker != day_counts.ANY:
        parts.append(_tickers_part(matching, top))
    if first and everything:  # from the newest-first index: the matches are not collected
        columns = [Snapshot.id.label("id"), Snapshot.published_at.label("published_at"),
                   Snapshot.article_id.label("article_id")]
        parts.append(_first_part(newest_first(select_versions(columns, filters)).limit(first).subquery(), first))
    elif first:
        parts.append(_first_part(matching, first))
    stmt = union_all(*(select(part.subquery()) for part in parts))
    named: Counter[str] = Counter()
    tickers: list[tuple[str, int]] = []
    with Session(engine) as session:
        through_indexes(session)
        connection = session.connection()
        per_day = reading(day_counts.per_day, connection, scope) if days else None
        sites = reading(day_counts.top_sites, connection, scope, top)
        if scope.ticker == day_counts.ANY:
            tickers = reading(day_counts.top_tickers, connection, scope, top)
        placed: dict[int, int] = {}
        for kind, label, count in reading(session.execute, stmt):
            if kind == "author":
                named[str(label)] += int(count)
            elif kind == "first":
                placed[int(label)] = int(count)
            else:
                tickers.append((str(label), int(count)))
    return Facets(tickers, sites, _top(named, top), per_day,
                  newest=[placed[n] for n in sorted(placed)] if first else None)


def _newest(matching: Any, limit: int) -> Any:
    """The ids of the newest `limit` matches by publication (whose authors the facets read)."""
    return select(matching.c.id).order_by(*_newest_first(matching)).limit(limit)


def _newest_first(rows: Any) -> tuple[Any, ...]:
    """archive.query.newest_first's order over collected rows (id, published_at, article_id)."""
    return rows.c.published_at.desc().nulls_last(), rows.c.article_id.desc()


def _first_part(rows: Any, first: int) -> Any:
    """The facets statement's part that lists the ids of the newest `first` of `rows` (id,
    published_at, article_id) in search's order, numbered (kind 'first', label the place, n the id)."""
    order = _newest_first(rows)
    place = func.row_number().over(order_by=order)
    return (select(literal_column("'first'").label("kind"), cast(place, String).label("label"), rows.c.id.label("n"))
            .order_by(*order).limit(first))


def _tickers_part(matching: Any, top: int) -> Any:
    """The facets statement's part that counts the matches' top tickers."""
    n = func.count()
    return (select(literal_column("'ticker'").label("kind"), SnapshotTicker.symbol.label("label"), n.label("n"))
            .where(SnapshotTicker.snapshot_id.in_(select(matching.c.id)))
            .group_by(SnapshotTicker.symbol).order_by(n.desc(), SnapshotTicker.symbol).limit(top))


def _authors_part(newest: Any, dialect: str) -> Any:
    """The facets statement's part that counts the authors of the versions `newest` selects, each
    name once a version: the JSON lists are unpacked by the database (SQLite's json_each,
    PostgreSQL's json_array_elements_text), not fetched and parsed a row at a time."""
    unpack = func.json_array_elements_text if dialect == "postgresql" else func.json_each
    name = unpack(Snapshot.authors).table_valued("value")
    return (select(literal_column("'author'").label("kind"), name.c.value.label("label"),
                   func.count(distinct(Snapshot.id)).label("n"))
            .select_from(Snapshot).join(name, true()).where(Snapshot.id.in_(newest)).group_by(name.c.value))


def _top(named: Counter[str], top: int) -> list[tuple[str, int]]:
    """The `top` most counted names, ties in name order."""
    return sorted(named.items(), key=lambda item: (-item[1], item[0]))[:top]
