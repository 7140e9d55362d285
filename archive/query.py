"""Reading the archive: filters shared by search, export, stats and the Python API, and article history.

One `Filters` value means the same in every reader. Which version of an article is read is part
of it: the latest by default, or with `as_of` the latest one fetched at or before that instant
("the article as it stood then"); export may ask for every version instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from functools import cached_property
from typing import Any, Iterable, Iterator, Sequence

from dateutil import parser as dateparser
from sqlalchemy import (Boolean, ColumnElement, Engine, Select, Text, and_, cast, exists, func, literal_column, or_,
                        select, text)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, aliased

from archive.errors import ArchiveError, BadInput, NotFound
from archive.models import Article, ArticleEvent, ArticleUrl, Fetch, RawPage, Snapshot, SnapshotTicker
from archive import search_index, search_plan
from archive.search_index import Matches
from archive.search_plan import Plan
from archive.search_syntax import Node, document, matches, parse
from archive.removals import EVENTS
from archive.site_filter import escape_like as _escape_like, site_condition
from archive.urls import canonical_url


@dataclass(frozen=True)
class Filters:
    """What a researcher narrows the archive to.

    `text` is a full-text query (archive.search_syntax). Several tickers, sites, authors or
    languages match any of them. Dates bound `published_at` (`until` is inclusive); `edited`
    keeps articles the publisher changed after version 1; `has_notes` versions whose body carries a
    correction or update notice (Snapshot.notes); `as_of` reads each article as it
    stood at that instant; `removed` keeps articles the publisher took down (archive.removals)
    and has not put back.
    """

    text: str | None = None
    tickers: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    authors: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    ai_generated: bool | None = None
    edited: bool = False
    has_notes: bool = False
    as_of: datetime | None = None
    removed: bool = False
    #: Keep one version in `sample` of those the text matches, a deterministic choice by id
    #: (archive.search_index.sampled): what estimates count (archive.attention.sample_rate). 1: all.
    sample: int = 1

    def __post_init__(self) -> None:
        self.query  # noqa: B018 - a malformed query fails here, before any SQL is built

    @cached_property
    def query(self) -> Node | None:
        """The parsed full-text query, or None when there is no text."""
        return parse(self.text) if self.text is not None and self.text.strip() else None

    @cached_property
    def symbols(self) -> list[str]:
        """Tickers as stored, comma-separated lists split, no $: upper case, and also as given when
        that mixes cases (codes kept as shown, "VOWG_p.DE", "RHM.Germany", are stored so)."""
        given = [s.strip().lstrip("$") for t in self.tickers for s in t.split(",") if s.strip()]
        return list(dict.fromkeys(form for s in given
                                  for form in ((s.upper(), s) if s != s.upper() and s != s.lower() else (s.upper(),))))


def parse_bound(value: str | date | datetime | None, *, end: bool = False) -> datetime | None:
    """'2025-01-31', an ISO datetime or 'now'; a bare date as an end bound means the end of that day (UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        value = value.isoformat()
    if value.strip().lower() == "now":
        return datetime.now(timezone.utc)
    try:
        parsed = dateparser.isoparse(value)
    except (ValueError, OverflowError) as exc:
        raise BadInput(f"not a date: {value!r} (use YYYY-MM-DD, an ISO 8601 time or now)") from exc
    if len(value.strip()) <= 10:  # a date only
        day = datetime.combine(parsed.date(), time(), tzinfo=timezone.utc)
        return day + timedelta(days=1) - timedelta(microseconds=1) if end else day
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _like(term: str) -> str:
    return f"%{_escape_like(term)}%"


def _author_condition(name: str) -> ColumnElement[bool]:
    """A case-insensitive part of an author's name, matched in the stored JSON list as written."""
    encoded = json.dumps(name.strip())[1:-1]  # as the JSON column spells it (escapes included)
    return func.lower(cast(Snapshot.authors, Text)).like(_like(encoded.lower()), escape="\\")


#: Other versions of the same article, in correlated subqueries. Made once: SQLAlchemy builds an
#: alias's copy of every snapshot column on its first use, which per statement cost every search.
_LATER, _NEWER = aliased(Snapshot, name="later"), aliased(Snapshot, name="newer")


def publisher_edited(as_of: datetime | None) -> ColumnElement[bool]:
    """The article has a version after the first that the publisher served (not a re-extraction)."""
    later = _LATER
    # 'fetch' written out, not bound: so the databases see that the partial index
    # ix_snapshot_publisher_edits answers it (SQLite never matches a parameter to its WHERE).
    condition = exists().where(later.article_id == Snapshot.article_id, later.version > literal_column("1"),
                               later.origin == literal_column("'fetch'"))
    return condition.where(later.fetched_at <= as_of) if as_of else condition


class _Driving(ColumnElement[bool]):
    """`snapshot.id` among a subquery's few ids, looked up by primary key: the subquery drives.

    SQLite does so with IN. PostgreSQL's planner may instead read every version in the date
    range and hash-join the ids (a cost growing with the archive); given them as an array, it
    looks each one up.
    """

    type = Boolean()
    inherit_cache = True  # cached by its subquery (_traverse_internals), whose parameters are bound anew
    _traverse_internals = [("ids", InternalTraversal.dp_clauseelement)]
    _is_implicitly_boolean = True

    def __init__(self, ids: Select[Any]) -> None:
        self.ids = ids


@compiles(_Driving)
def _driving(element: _Driving, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(Snapshot.id.in_(element.ids), **kw)


@compiles(_Driving, "postgresql")
def _driving_postgresql(element: _Driving, compiler: SQLCompiler, **kw: Any) -> str:
    return f"snapshot.id = ANY(ARRAY({compiler.process(element.ids, **kw)}))"


class _Unindexed(ColumnElement[Any]):
    """A column SQLite must not use an index for (a unary plus there; the column itself elsewhere)."""

    inherit_cache = True  # cached by its column: an --as-of search's statements compiled once, not per search
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: Any) -> None:
        self.column, self.type = column, column.type


@compiles(_Unindexed)
def _unindexed(element: _Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


@compiles(_Unindexed, "sqlite")
def _unindexed_sqlite(element: _Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(element.column, **kw)


def ticker_ids(symbols: Sequence[str], since: datetime | None = None, until: datetime | None = None) -> Select[Any]:
    """The ids of the versions naming any of `symbols`, published within [since, until] when given:
    a range of the ticker index (symbol, published_at, snapshot_id), never each version's row."""
    ids = select(SnapshotTicker.snapshot_id).where(SnapshotTicker.symbol.in_(symbols))
    if since is not None:
        ids = ids.where(SnapshotTicker.published_at >= since)
    if until is not None:
        ids = ids.where(SnapshotTicker.published_at <= until)
    return ids


def filtered(stmt: Select[Any], filters: Filters, plan: Plan = Plan()) -> Select[Any]:
    """Apply the filters to a statement that selects from Snapshot joined to Article.

    `plan` says how the full-text and ticker indexes are used (archive.search_plan): the
    results are the same whatever it says.
    """
    conditions: list[ColumnElement[bool]] = []
    if filters.symbols:
        if plan.tickers == "check":  # one primary-key lookup per candidate row
            conditions.append(exists().where(SnapshotTicker.snapshot_id == Snapshot.id,
                                             SnapshotTicker.symbol.in_(filters.symbols)))
        else:
            ids = ticker_ids(filters.symbols, filters.since, filters.until)
            conditions.append(_Driving(ids) if plan.tickers == "lookup" else Snapshot.id.in_(ids))
    if filters.sites:
        conditions.append(site_condition(filters.sites))
    if filters.authors:
        conditions.append(or_(*(_author_condition(name) for name in filters.authors)))
    if filters.languages:
        wanted = [language.strip().lower() for language in filters.languages]
        language = func.lower(Snapshot.language)
        conditions.append(or_(*(or_(language == w, language.like(_escape_like(w) + "-%", escape="\\"))
                                for w in wanted)))
    if filters.ai_generated is not None:
        conditions.append(Snapshot.ai_generated.is_(filters.ai_generated))
    if filters.edited:
        conditions.append(publisher_edited(filters.as_of))
    if filters.has_notes:
        conditions.append(Snapshot.notes.is_not(None))
    if filters.removed:
        conditions.append(Article.removed_at.is_not(None))
    if filters.since:
        conditions.append(Snapshot.published_at >= filters.since)
    if filters.until:
        conditions.append(Snapshot.published_at <= filters.until)
    if filters.query is not None:  # last: SQLite checks conditions in order, and this is the costly one
        conditions.append(Matches(filters.query, plan.text, sample=filters.sample))
    return stmt.where(and_(*conditions)) if conditions else stmt


def current_versions(stmt: Select[Any], filters: Filters, *, all_versions: bool = False) -> Select[Any]:
    """Keep the version of each article that the filters read: the latest, or the latest as of `as_of`.

    With `all_versions`, every version (fetched by `as_of`, when given).
    """
    if filters.as_of is None:
        return stmt if all_versions else stmt.where(Snapshot.version == Article.latest_version)
    stmt = stmt.where(Snapshot.fetched_at <= filters.as_of)
    if all_versions:
        return stmt
    # Latest by fetch time, not by version number: a capture imported late (an older WARC) is a
    # higher version with an earlier fetch time. Equal times (a re-extraction): the higher version.
    newer = _NEWER
    return stmt.where(~exists().where(
        newer.article_id == Snapshot.article_id, newer.fetched_at <= filters.as_of,
        or_(newer.fetched_at > Snapshot.fetched_at,
            and_(newer.fetched_at == Snapshot.fetched_at, newer.version > Snapshot.version))))


def latest_versions(filters: Filters, *, all_versions: bool = False, plan: Plan = Plan()) -> Select[Any]:
    """Snapshots matching the filters: each article's current version (see current_versions), or every version."""
    stmt = select(Snapshot, Article).join(Article, Article.id == Snapshot.article_id)
    return filtered(current_versions(stmt, filters, all_versions=all_versions), filters, plan)


def select_versions(columns: Iterable[Any], filters: Filters, *, all_versions: bool = False,
                    plan: Plan = Plan()) -> Select[Any]:
    """The same rows as latest_versions, as plain columns: what streaming export reads."""
    stmt = select(*columns).select_from(Snapshot).join(Article, Article.id == Snapshot.article_id)
    return filtered(current_versions(stmt, filters, all_versions=all_versions), filters, plan)


def through_indexes(session: Session) -> None:
    """PostgreSQL, for this transaction only: read through indexes, never a whole table. Its
    planner prices a row's full-text test as cheap, so that for a word in a tenth of the archive
    it reads the whole table, unpacking every stored tsvector (or, for a phrase, computing every
    body's word pairs: 14 s and more per request at 19,000 versions), where the GIN indexes
    answer at once. Searches, attention and facets all read so."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL enable_seqscan = off"))


#: The narrow covering index of the versions (migration 0012), for statements that count matches.
READING_INDEX = "ix_snapshot_reading"


def counting(stmt: Select[Any], filters: Filters) -> Select[Any]:
    """A statement that counts matches (attention, facets), told on SQLite to read the versions
    from their narrow covering index, not their rows: SQLite, without statistics, looks a full-text
    or ticker match up in the table, reading a row several kilobytes wide for a date. Only where
    every filter's column is in that index or comes from another index (text, tickers, dates);
    a site, author, language, AI or edit filter, or `as_of`, leaves the plan to SQLite."""
    if filters.as_of is not None or filters.sites or filters.authors or filters.languages \
            or filters.ai_generated is not None or filters.edited:
        return stmt
    return stmt.with_hint(Snapshot, f"INDEXED BY {READING_INDEX}", "sqlite")


def newest_first(stmt: Select[Any]) -> Select[Any]:
    """Newest publication first, undated last; the order an index serves on both databases."""
    return stmt.order_by(Snapshot.published_at.desc().nulls_last(), Snapshot.article_id.desc())


def search(engine: Engine, filters: Filters, *, limit: int = 20, offset: int = 0) -> list[tuple[Snapshot, Article]]:
    """Current versions of matching articles, newest publication first."""
    with Session(engine) as session:
        postgresql = engine.dialect.name == "postgresql"
        through_indexes(session)
        plan = reading(search_plan.choose, session.connection(), filters.query, filters.symbols)
        if plan.newest_first_scan:
            found, seen_matches = _newest_within_window(session, filters, plan, limit, offset)
            if found is not None:
                return found
            # Fewer than a page among the newest candidates: the text is rarer than its words.
            # None there: its matches are few, let them drive. Some: on SQLite, reading on,
            # newest first, soon fills the page (FTS5's matches collected once); on PostgreSQL,
            # checking row by row unpacks each row's tsvector, dearer than collecting every match
            # from the GIN index when matches are sparse, unless that index needs the documents
            # too (phrases); when the window held several, reading on finds the page within a few
            # windows' rows, where collecting every match costs far more (docs/performance.md).
            # When the text drives, tickers are checked by primary key on each of its matches.
            sparse = seen_matches < DENSE_WINDOW
            if not seen_matches or (postgresql and sparse and search_index.decided_by_index(filters.query)):
                plan = Plan(text="drive", tickers="check")
            else:
                plan = replace(plan, text="filter", newest_first_scan=False)
        # The page's ids first, then its rows: sorted with every column, the matches of a driving
        # filter took their bodies into the sort, most of such a search's time.
        driven = (filters.query is not None and plan.text == "drive") or \
            (bool(filters.symbols) and plan.tickers == "drive")
        if driven:  # a few matches, sorted: one statement
            stmt = newest_first(select_versions([Snapshot.id], filters, plan=plan)).limit(limit).offset(offset)
            return _load(session, list(reading(session.scalars, stmt)))
        rows = newest_first_rows(session, [Snapshot.id], filters, plan, limit + offset)
        return _load(session, [row.id for row in rows][offset:])


#: How many of the newest candidates a newest-first scan may check before it gives way.
PROBE_WINDOW = 300
#: PostgreSQL: this many matches in a window that gave way, and the search reads on newest first.
DENSE_WINDOW = 5


def _newest_within_window(session: Session, filters: Filters, plan: search_plan.Plan, limit: int,
                          offset: int) -> tuple[list[tuple[Snapshot, Article]] | None, int]:
    """Read the newest candidates and check the text on each, within a bounded window.

    Candidates pass the other filters; at most PROBE_WINDOW of them (more for deep pages) are
    read. Returns the page, or None when the window ends before a page of matches is found (so
    the caller asks the index instead), and how many matches the window held.
    """
    assert filters.query is not None
    window = max(PROBE_WINDOW, 4 * (limit + offset))
    if plan.tickers == "drive":  # every version naming the ticker, read by primary key and sorted
        plan = replace(plan, tickers="lookup")
    hits: list[int] = []
    seen = 0
    for row in newest_first_rows(session, [Snapshot.id, Snapshot.title, Snapshot.body], replace(filters, text=None),
                                 plan, window):
        seen += 1
        if matches(filters.query, document(row.title or "", row.body)):
            hits.append(row.id)
            if len(hits) == offset + limit:
                break  # a full page among the newest candidates is the true first page
    else:
        if seen == window:
            return None, len(hits)  # a short page is the whole answer only if every candidate was read
    return _load(session, hits[offset:]), len(hits)


def newest_first_rows(session: Session, columns: list[Any], filters: Filters, plan: Plan, count: int) -> Iterator[Any]:
    """Up to `count` rows of select_versions(columns, filters), newest publication first, read lazily.

    With `as_of`, in three parts, so that the newest-first index is entered at the instant instead
    of read from its top past every version published later (a cost growing with the archive for
    an instant early in it): first the versions published after the instant and yet fetched
    by it, which were fetched before their own publication time (a wrong date, a scheduled post:
    the partial index ix_snapshot_fetched_before_published holds just those; SQLite is kept off
    the newest-first index there, which it would read from the top); then those published by the
    instant; then the undated, which come last.
    """
    parts: list[ColumnElement[bool] | None] = [None]
    if filters.as_of is not None:
        parts = [Snapshot.published_at <= filters.as_of]
        # A part that the date filters rule out is not read at all: SQLite would read it through
        # the date range's index, every version of the range checked to find none.
        if filters.until is None or filters.until > filters.as_of:
            parts.insert(0, and_(_Unindexed(Snapshot.published_at) > filters.as_of,
                                 Snapshot.published_at > Snapshot.fetched_at))
        if filters.since is None and filters.until is None:
            parts.append(Snapshot.published_at.is_(None))
    for part in parts:
        if count <= 0:
            return
        stmt = select_versions(columns, filters, plan=plan)
        stmt = newest_first(stmt if part is None else stmt.where(part)).limit(count)
        for row in reading(session.execute, stmt.execution_options(yield_per=64)):
            count -= 1
            yield row


def versions(engine: Engine, ids: list[int]) -> list[tuple[Snapshot, Article]]:
    """The versions with these ids and their articles, in the order given (stats.Facets.newest)."""
    with Session(engine) as session:
        return _load(session, ids)


def _load(session: Session, page: list[int]) -> list[tuple[Snapshot, Article]]:
    """The versions with these ids and their articles, in the order given."""
    found = {s.id: (s, a) for s, a in reading(session.execute, select(Snapshot, Article).join(
        Article, Article.id == Snapshot.article_id).where(Snapshot.id.in_(page)))}
    return [found[snapshot_id] for snapshot_id in page]


def reading(run: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a read; a database refusal becomes one ArchiveError line instead of a driver traceback."""
    try:
        return run(*args, **kwargs)
    except DBAPIError as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise ArchiveError(f"the database refused the query: {first}") from exc


@dataclass(frozen=True)
class Event:
    """Something that happened to an article besides a new version (archive.removals.EVENTS)."""

    kind: str          # removed | restored | moved
    at: datetime
    url: str | None
    detail: str | None  # removed: why (http_404, redirect to URL); moved: the URL it moved from


@dataclass(frozen=True)
class KnownUrl:
    """One URL an article was kept under, and when it was first and last seen there."""

    url: str
    first_seen_at: datetime
    last_seen_at: datetime


@dataclass
class History:
    """An article with every version and how many times it was fetched; its removals,
    restorations and moves (`events`, oldest first) and the URLs it had (`urls`)."""

    article: Article
    versions: list[Snapshot]
    fetches: int
    duplicate_of_url: str | None = None
    events: list[Event] = field(default_factory=list)
    urls: list[KnownUrl] = field(default_factory=list)

    def timeline(self) -> list[tuple[datetime, Snapshot | Event]]:
        """Versions and events in the order they were seen (a version before an event at the same time)."""
        items: list[tuple[datetime, int, Snapshot | Event]] = [(s.fetched_at, 0, s) for s in self.versions]
        items += [(e.at, 1, e) for e in self.events]
        return [(at, item) for at, _, item in sorted(items, key=lambda entry: (entry[0], entry[1]))]

    def version(self, number: int) -> Snapshot:
        """One version by number; NotFound names the versions there are."""
        for snapshot in self.versions:
            if snapshot.version == number:
                return snapshot
        raise NotFound(f"article {self.article.id} has no version {number} "
                       f"(it has 1 to {len(self.versions)})")


def find_article(engine: Engine, key: str | int) -> History:
    """An article by numeric id or by any URL that normalises to its canonical URL."""
    key = str(key).strip()
    with Session(engine) as session:
        if key.isdigit():
            article = session.get(Article, int(key))
        else:
            article = session.scalars(select(Article).where(Article.canonical_url == canonical_url(key))).first()
            if article is None:  # a URL it had before it moved
                article = session.scalars(select(Article).join(ArticleUrl, ArticleUrl.article_id == Article.id)
                                          .where(ArticleUrl.url == canonical_url(key))).first()
            if article is None:  # a URL that redirected or declared another canonical
                article = session.scalars(select(Article).join(Snapshot).where(Snapshot.url == key).limit(1)).first()
        if article is None:
            raise NotFound(f"no article {key!r} in the archive")
        versions = list(session.scalars(select(Snapshot).where(Snapshot.article_id == article.id)
                                         .order_by(Snapshot.version)))
        fetches = session.scalar(select(func.count()).select_from(Fetch).where(Fetch.article_id == article.id)) or 0
        duplicate = session.get(Article, article.duplicate_of_id) if article.duplicate_of_id else None
        events = [Event(kind, at, url, detail) for kind, at, url, detail in session.execute(
            select(ArticleEvent.kind, ArticleEvent.at, ArticleEvent.url, ArticleEvent.detail)
            .where(ArticleEvent.article_id == article.id, ArticleEvent.kind.in_(EVENTS))
            .order_by(ArticleEvent.at, ArticleEvent.id))]
        urls = [KnownUrl(url, first, max(last, article.last_fetched_at) if url == article.canonical_url else last)
                for url, first, last in session.execute(
                    select(ArticleUrl.url, ArticleUrl.first_seen_at, ArticleUrl.last_seen_at)
                    .where(ArticleUrl.article_id == article.id).order_by(ArticleUrl.first_seen_at, ArticleUrl.url))]
        if not urls:  # never moved: its one URL
            urls = [KnownUrl(article.canonical_url, article.first_seen_at, article.last_fetched_at)]
        return History(article, versions, fetches, duplicate.canonical_url if duplicate else None, events, urls)


def counts(engine: Engine) -> dict[str, int]:
    """The archive's size: articles, versions, fetches, failed fetches, raw pages."""
    with Session(engine) as session:
        def count(model: Any, *where: Any) -> int:
            return session.scalar(select(func.count()).select_from(model).where(*where)) or 0
        return {"articles": count(Article), "versions": count(Snapshot), "fetches": count(Fetch),
                "errors": count(Fetch, Fetch.outcome == "error"), "raw_pages": count(RawPage),
                "duplicates": count(Article, Article.duplicate_of_id.is_not(None))}


def raw_page(engine: Engine, sha256: str) -> tuple[bytes, str | None]:
    """A stored capture exactly as served, and its content type; NotFound when absent."""
    import zstandard  # noqa: PLC0415 - only the raw-page readers need it
    with Session(engine) as session:
        page = session.get(RawPage, sha256) if len(sha256) == 64 else None
        if page is None:
            raise NotFound(f"no stored page {sha256!r}")
        data = zstandard.ZstdDecompressor().decompress(page.zstd, max_output_size=max(page.size, 1))
        return data, page.content_type


def near_duplicates(engine: Engine, article_id: int, *, limit: int = 50) -> list[tuple[int, str]]:
    """Articles recorded as near-duplicates of this one (id, canonical URL): it is their original."""
    with Session(engine) as session:
        return [(i, u) for i, u in session.execute(select(Article.id, Article.canonical_url)
                                                    .where(Article.duplicate_of_id == article_id)
                                                    .order_by(Article.id).limit(limit))]
