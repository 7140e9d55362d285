"""Articles per publication day, kept as the archive changes (the `day_count` table).

Attention over time divides a query's matches by every article published the same day, and a
ticker's or a site's attention and the search page's facets count whole slices of the archive:
counted from the versions, each cost grows with the archive. The table holds those counts,
each article counted once by its current (latest) version, exactly as a full count gives them:

    (ticker, site, day) -> articles      ticker '' = any ticker, site '' = any site, day '' = undated

An article of day D at site S naming tickers T1 and T2 adds one to ('', '', D), ('', S, D),
(T1, '', D), (T1, S, D), (T2, '', D) and (T2, S, D). The store keeps it in the transaction of every
write that changes an article's current version (a new version, a re-extraction, a merge); removals
and restorations change nothing here, as they change nothing in what attention counts.
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable, Iterator

from sqlalchemy import Connection, ColumnElement, and_, bindparam, delete, func, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite

from archive.models import Article, DayCount, Snapshot, SnapshotTicker
from archive.site_filter import site_condition

ANY = ""  # the site or ticker of the rows that count every site or every ticker; the undated day
TABLE = DayCount.__table__
Key = tuple[str, str, str]  # (ticker, site, day)


def _day(dialect: str, published: Any = Snapshot.published_at) -> Any:
    """The publication day in UTC as archive.attention.day_of gives it ('' when undated)."""
    if dialect == "postgresql":
        utc = func.timezone(literal_column("'UTC'"), published)
        day = func.to_char(utc, literal_column("'YYYY-MM-DD'"))
    else:
        day = func.date(published)
    return func.coalesce(day, literal_column("''"))


def _keys(site: str, day: str, symbols: Iterable[str]) -> list[Key]:
    keys = [(ANY, ANY, day), (ANY, site, day)]
    for symbol in symbols:
        keys += [(symbol, ANY, day), (symbol, site, day)]
    return keys


def counted(connection: Connection, where: ColumnElement[bool] | None = None) -> Counter[Key]:
    """What the versions that `where` selects (of Snapshot joined to Article) add to the table."""
    day = _day(connection.dialect.name).label("day")
    stmt = (select(Snapshot.id, Article.site, day).select_from(Snapshot)
            .join(Article, Article.id == Snapshot.article_id))
    if where is not None:
        stmt = stmt.where(where)
    rows = {snapshot_id: (site, label) for snapshot_id, site, label in connection.execute(stmt)}
    symbols: dict[int, list[str]] = {}
    if rows:
        for snapshot_id, symbol in connection.execute(select(SnapshotTicker.snapshot_id, SnapshotTicker.symbol)
                                                      .where(SnapshotTicker.snapshot_id.in_(list(rows)))):
            symbols.setdefault(snapshot_id, []).append(symbol)
    found: Counter[Key] = Counter()
    for snapshot_id, (site, label) in rows.items():
        found.update(_keys(site, str(label), symbols.get(snapshot_id, ())))
    return found


def current_of(article_ids: Iterable[int]) -> ColumnElement[bool]:
    """The current versions of these articles."""
    return and_(Article.id.in_(list(article_ids)), Snapshot.version == Article.latest_version)


def version_of(article_id: int, version: int) -> ColumnElement[bool]:
    return and_(Snapshot.article_id == article_id, Snapshot.version == version)


_PENDING = "archive.day_counts.pending"


@contextmanager
def deferred(connection: Connection) -> Iterator[None]:
    """Collect what a write transaction adds to the table and write it once, at the transaction's
    end, in sorted row order. Every article of a day adds to the same rows, so concurrent writers
    (a fleet's workers on PostgreSQL) queue on them: written per save, two batches of saves could
    lock them in opposite orders and deadlock, and each held them from its first save to its
    commit; written last and sorted, every writer takes them in one order, briefly."""
    pending = connection.info[_PENDING] = Counter()
    try:
        yield
        _write(connection, pending)
    finally:
        connection.info.pop(_PENDING, None)


def add(connection: Connection, change: Counter[Key]) -> None:
    """Add `change` (negative counts subtract) to the table; rows that reach zero are removed.
    Within `deferred`, kept until its end."""
    pending = connection.info.get(_PENDING)
    if pending is not None:
        pending.update(change)  # update() adds counts, negative ones included
        return
    _write(connection, change)


def _write(connection: Connection, change: Counter[Key]) -> None:
    change = Counter({key: n for key, n in change.items() if n})  # Counter arithmetic would drop negatives
    if not change:
        return
    insert_of = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    stmt = insert_of(TABLE)
    stmt = stmt.on_conflict_do_update(index_elements=["ticker", "site", "day"],
                                      set_={"articles": TABLE.c.articles + stmt.excluded.articles})
    # Sorted: two writers adding to the same rows lock them in the same order (PostgreSQL).
    connection.execute(stmt, [{"ticker": t, "site": s, "day": d, "articles": n}
                              for (t, s, d), n in sorted(change.items())])
    emptied = [{"t": t, "s": s, "d": d} for (t, s, d), n in sorted(change.items()) if n < 0]
    if emptied:
        connection.execute(delete(TABLE).where(TABLE.c.ticker == bindparam("t"), TABLE.c.site == bindparam("s"),
                                               TABLE.c.day == bindparam("d"), TABLE.c.articles <= 0), emptied)


def keys_of(site: str, published_at: datetime | None, symbols: Iterable[str]) -> Counter[Key]:
    """What one version adds to the table, from the values being written: what `counted` reads
    back for it (its day in UTC, as _day gives it), without the two queries."""
    day = published_at.astimezone(timezone.utc).date().isoformat() if published_at is not None else ANY
    return Counter(_keys(site, day, symbols))


def switched(connection: Connection, article_id: int, old_version: int, new_version: int,
             new: Counter[Key] | None = None) -> None:
    """Article `article_id`'s current version became `new_version` (it was `old_version`, 0: none).
    `new`: what the new version adds (keys_of), when the writer has it at hand; else it is read."""
    if old_version == new_version:
        return
    change = Counter(new) if new is not None else counted(connection, version_of(article_id, new_version))
    if old_version:
        change.subtract(counted(connection, version_of(article_id, old_version)))
    add(connection, change)


def rebuild(connection: Connection) -> None:
    """Count the table afresh from every current version (the migration's backfill, a bulk load)."""
    connection.execute(delete(TABLE))
    day = _day(connection.dialect.name)
    current = (select(Snapshot.id.label("id"), Article.site.label("site"), day.label("day"))
               .join(Article, and_(Article.id == Snapshot.article_id, Snapshot.version == Article.latest_version))
               .subquery())
    ticker = (select(SnapshotTicker.symbol.label("ticker"), current.c.site, current.c.day)
              .join(current, current.c.id == SnapshotTicker.snapshot_id).subquery())
    empty = literal_column("''")
    parts = [select(empty, empty, current.c.day, func.count()).group_by(current.c.day),
             select(empty, current.c.site, current.c.day, func.count()).group_by(current.c.site, current.c.day),
             select(ticker.c.ticker, empty, ticker.c.day, func.count()).group_by(ticker.c.ticker, ticker.c.day),
             select(ticker.c.ticker, ticker.c.site, ticker.c.day, func.count())
             .group_by(ticker.c.ticker, ticker.c.site, ticker.c.day)]
    for part in parts:
        connection.execute(TABLE.insert().from_select(["ticker", "site", "day", "articles"], part))


def stored(connection: Connection) -> Counter[Key]:
    """The table as it stands."""
    return Counter({(t, s, d): n for t, s, d, n in connection.execute(
        select(TABLE.c.ticker, TABLE.c.site, TABLE.c.day, TABLE.c.articles))})


def recounted(connection: Connection) -> Counter[Key]:
    """What the table should hold, counted from every current version (`archive check`, the tests)."""
    return counted(connection, Snapshot.version == Article.latest_version)


# -- reading ------------------------------------------------------------------------------------

def day_bounds(since: datetime | None, until: datetime | None) -> tuple[str | None, str | None] | None:
    """The first and last day (YYYY-MM-DD) of a date range that holds whole days in UTC, or None
    when a bound falls within a day (the table cannot answer it)."""
    first = last = None
    if since is not None:
        since = since.astimezone(timezone.utc)
        if since.timetz().replace(tzinfo=None) != time():
            return None
        first = since.date().isoformat()
    if until is not None:
        until = until.astimezone(timezone.utc)
        if (until + timedelta(microseconds=1)).timetz().replace(tzinfo=None) != time():
            return None
        last = until.date().isoformat()
    return first, last


def in_days(first: str | None, last: str | None) -> list[ColumnElement[bool]]:
    """Conditions on `day_count.day` for a range from day_bounds (undated rows fall outside any bound)."""
    conditions = []
    if first is not None:
        conditions.append(TABLE.c.day >= first)
    if last is not None:
        conditions += [TABLE.c.day <= last, TABLE.c.day != ANY]
    return conditions


def as_date(label: str) -> date | None:
    return date.fromisoformat(label) if label else None


@dataclass(frozen=True)
class Scope:
    """What of a query the table can answer: one ticker ('' any), sites (none: any), whole days."""

    ticker: str
    sites: tuple[str, ...]
    first: str | None
    last: str | None

    def rows(self, *, by_site: bool = False) -> list[ColumnElement[bool]]:
        """This scope's rows: one per day, or with `by_site` one per site and day."""
        if self.sites:
            site = site_condition(self.sites, TABLE.c.site)
        else:
            site = TABLE.c.site != ANY if by_site else TABLE.c.site == ANY
        return [TABLE.c.ticker == self.ticker, site, *in_days(self.first, self.last)]


def scope_of(filters: Any) -> Scope | None:
    """The Scope of an archive.query.Filters, or None when a filter needs the versions themselves:
    text, authors, languages, AI, edits, notes, removals, `as_of`, several tickers (an article naming
    two would be counted twice), or a date bound within a day."""
    if filters.query is not None or filters.authors or filters.languages or filters.ai_generated is not None \
            or filters.edited or filters.has_notes or filters.removed or filters.as_of is not None \
            or len(filters.symbols) > 1 or any(not site.strip() for site in filters.sites):
        return None  # (an empty site name matches no article, but would match the table's '' rows)
    bounds = day_bounds(filters.since, filters.until)
    if bounds is None:
        return None
    return Scope(filters.symbols[0] if filters.symbols else ANY, tuple(filters.sites), *bounds)


def per_day(connection: Connection, scope: Scope) -> dict[date | None, int]:
    """Articles per day of publication (None: undated), as archive.attention.per_day counts them."""
    stmt = select(TABLE.c.day, func.sum(TABLE.c.articles)).where(*scope.rows()).group_by(TABLE.c.day)
    return {as_date(label): int(n) for label, n in connection.execute(stmt) if n}


def top_sites(connection: Connection, scope: Scope, top: int) -> list[tuple[str, int]]:
    """The sites with the most articles in the scope, as archive.stats.facets orders them."""
    n = func.sum(TABLE.c.articles)
    stmt = (select(TABLE.c.site, n).where(*scope.rows(by_site=True)).group_by(TABLE.c.site)
            .order_by(n.desc(), TABLE.c.site).limit(top))
    return [(str(site), int(count)) for site, count in connection.execute(stmt)]


def top_tickers(connection: Connection, scope: Scope, top: int) -> list[tuple[str, int]]:
    """The tickers named by the most articles in a scope of no ticker (`scope.ticker` is '')."""
    assert scope.ticker == ANY
    n = func.sum(TABLE.c.articles)
    stmt = (select(TABLE.c.ticker, n).where(TABLE.c.ticker != ANY, *scope.rows()[1:]).group_by(TABLE.c.ticker)
            .order_by(n.desc(), TABLE.c.ticker).limit(top))
    return [(str(symbol), int(count)) for symbol, count in connection.execute(stmt)]
