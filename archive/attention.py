"""Attention over time: how many matching articles were published per day, week or month, and
what share of all articles published in the same period that is.

The share is what keeps a quiet week from reading as lost interest: a week in which the archive
holds fewer articles of every kind shows fewer matches too. Counted over the same versions every
reader sees (each article's latest, or as of a time), by publication time in UTC; undated
articles are counted apart. One function for `archive stats --over-time`, `Archive.attention()`
and the web app.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Callable, TypeVar

from dateutil.relativedelta import relativedelta
from sqlalchemy import Engine, func, literal_column, select
from sqlalchemy.orm import Session

from archive import day_counts
from archive.errors import BadInput
from archive.export import ARROW_MISSING, require_pyarrow, to_pandas
from archive.models import Article, Snapshot
from archive.query import Filters, counting, reading, select_versions, through_indexes
from archive.search_index import decided_by_index, pair_count
from archive.search_syntax import Node

PERIODS = ("day", "week", "month")


@dataclass(frozen=True)
class Point:
    """One period: its first day, the matching articles published in it, and all articles published in it."""

    start: date
    matching: int
    total: int

    @property
    def share(self) -> float:
        return self.matching / self.total if self.total else 0.0

    def label(self, by: str) -> str:
        return self.start.strftime("%Y-%m") if by == "month" else self.start.isoformat()


@dataclass(frozen=True)
class Attention:
    """A series of consecutive periods (empty ones included) from the first match to the last."""

    by: str
    points: tuple[Point, ...]
    undated: int = 0
    #: 1: counted. n > 1: estimated, from the one match in n of a deterministic sample, times n
    #: (sample_rate; the totals that shares divide by are counted all the same).
    rate: int = 1

    @property
    def estimated(self) -> bool:
        return self.rate > 1

    @property
    def matching(self) -> int:
        """Dated matching articles (those in the periods)."""
        return sum(p.matching for p in self.points)

    @property
    def total(self) -> int:
        """Every matching article, undated ones included: the search's total."""
        return self.matching + self.undated

    def rows(self) -> list[dict[str, Any]]:
        """One dict per period (`pandas.DataFrame(attention.rows())` makes a table of them)."""
        return [{"period": p.label(self.by), "start": p.start.isoformat(), "matching": p.matching,
                 "total": p.total, "share": round(p.share, 6)} for p in self.points]

    def to_arrow(self) -> Any:
        """The periods as an Arrow table: period, start (a date), matching, total, share."""
        pa = require_pyarrow(ARROW_MISSING)
        schema = pa.schema([("period", pa.string()), ("start", pa.date32()), ("matching", pa.int64()),
                            ("total", pa.int64()), ("share", pa.float64())])
        return pa.table({"period": [p.label(self.by) for p in self.points], "start": [p.start for p in self.points],
                         "matching": [p.matching for p in self.points], "total": [p.total for p in self.points],
                         "share": [p.share for p in self.points]}, schema=schema)

    def to_pandas(self) -> Any:
        """The same as a pandas DataFrame."""
        return to_pandas(self.to_arrow())

    def as_dict(self) -> dict[str, Any]:
        return {"by": self.by, "matching": self.matching, "undated": self.undated, "periods": self.rows(),
                "estimated": self.estimated, "sample_rate": 1 / self.rate}


def check_period(by: str) -> str:
    if by not in PERIODS:
        raise BadInput(f"unknown period {by!r}: use one of {', '.join(PERIODS)}")
    return by


def day_of(dialect: str, published: Any = Snapshot.published_at) -> Any:
    """The publication day in UTC (YYYY-MM-DD), in each database's own words (literal SQL, never
    user input: bound parameters would differ between SELECT and GROUP BY, which PostgreSQL refuses)."""
    if dialect == "postgresql":
        utc = func.timezone(literal_column("'UTC'"), published)
        return func.to_char(utc, literal_column("'YYYY-MM-DD'"))
    return func.date(published)


def day_label(label: Any) -> date | None:
    """A day as day_of gives it (None: undated)."""
    return date.fromisoformat(str(label)) if label is not None else None


def period_start(day: date, by: str) -> date:
    """The first day of the period holding `day` (weeks start on Monday)."""
    if by == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1) if by == "month" else day


def _next(start: date, by: str) -> date:
    return start + (timedelta(days=1) if by == "day" else timedelta(weeks=1) if by == "week"
                    else relativedelta(months=1))


def per_day(engine: Engine, filters: Filters, *, use_table: bool = True) -> dict[date | None, int]:
    """Matching articles per day of publication, the days with none left out, and the undated
    under None (weeks and months are summed from these: one grouping query on either database).
    Read from the day counts (archive.day_counts) where the filters allow, unless `use_table` is
    False; else counted from the versions."""
    scope = day_counts.scope_of(filters) if use_table else None
    if scope is not None:
        with engine.connect() as connection:
            return reading(day_counts.per_day, connection, scope)
    day = day_of(engine.dialect.name)
    stmt = counting(select_versions([day.label("day"), func.count()], filters), filters).group_by(day)
    with Session(engine) as session:
        through_indexes(session)
        return {day_label(label): int(count) * filters.sample for label, count in reading(session.execute, stmt)}


#: At most this many of the archive's versions are in the sample that estimates read: one in the
#: power of two n that brings the archive down to it (sample_rate).
SAMPLE_VERSIONS = 8_000
#: A text whose sample says it matches at least this many articles is estimated (`estimated`);
#: below, its matches are few enough to count them all (docs/performance.md, "The web app at scale").
ESTIMATE_ABOVE = 10_000
#: PostgreSQL: a text whose full count would check more versions' word lists than this (a phrase's
#: candidates from the pair index, each read for the phrase) keeps its sample's counts however few
#: it matches: `"for of a"` has 79,915 candidates for 1,593 matches, 1.2 s to count them all.
CHECK_ABOVE = 20_000


def sample_rate(engine: Engine) -> int:
    """n such that one version in n (Filters.sample) is at most SAMPLE_VERSIONS of the archive's;
    1 in an archive of fewer than twice ESTIMATE_ABOVE articles: there every match of any text is
    counted at a bounded cost, where a sample that does not stand would be a second pass (at
    10,000 x 3 on PostgreSQL, attention for a common word took 78-81 ms that way, 55 ms counted)."""
    with engine.connect() as connection:
        versions = reading(connection.scalar, select(func.max(Snapshot.id))) or 0
        if (reading(connection.scalar, select(func.max(Article.id))) or 0) < 2 * ESTIMATE_ABOVE:
            return 1
    rate = 1
    while versions / rate > SAMPLE_VERSIONS:
        rate *= 2
    return rate


T = TypeVar("T")


def estimated(engine: Engine, filters: Filters, count: Callable[[Filters], T],
              matches: Callable[[T], int]) -> T:
    """count(filters), from a sample of the matches when its text matches many: the sample is
    counted first (its cost bounded by SAMPLE_VERSIONS, whatever the text), and stands when it
    says ESTIMATE_ABOVE articles match or more (`matches` reads that from count's result, already
    scaled), or when counting them all would check many rows (`checks_many`); else every match is
    counted. No text: counted (the day counts answer most of it)."""
    if filters.query is not None and filters.sample == 1:
        rate = sample_rate(engine)
        if rate > 1:
            sampled = count(replace(filters, sample=rate))
            if matches(sampled) >= ESTIMATE_ABOVE or checks_many(engine, filters.query):
                return sampled
    return count(filters)


def checks_many(engine: Engine, query: Node) -> bool:
    """Whether counting every match of `query` would read more than CHECK_ABOVE versions' word lists:
    on PostgreSQL, a phrase the indexes cannot decide is checked on each of its pair candidates
    (the planner's estimate of them, from the pair index's statistics). SQLite's index decides
    phrases itself: never."""
    if engine.dialect.name != "postgresql" or decided_by_index(query):
        return False
    with engine.connect() as connection:
        return reading(pair_count, connection, query) > CHECK_ABOVE


#: Every article per day, by (database, date filters, as_of, newest version id): the totals that
#: shares divide by, the same for every query over the same dates, where the day counts cannot
#: answer (`as_of`, a bound within a day). Versions are only ever added,
#: so the newest id says whether the archive changed (a new version may change the current ones).
_TOTALS: dict[tuple[Any, ...], dict[date | None, int]] = {}
_TOTALS_KEPT = 32


def all_per_day(engine: Engine, filters: Filters) -> dict[date | None, int]:
    """per_day of every article under the same dates and reading, computed once per archive state."""
    everything = Filters(since=filters.since, until=filters.until, as_of=filters.as_of)
    if day_counts.scope_of(everything) is not None:
        return per_day(engine, everything)
    with Session(engine) as session:
        newest = reading(session.scalar, select(func.max(Snapshot.id)))
    key = (engine.url.render_as_string(hide_password=False), everything.since, everything.until,
           everything.as_of, newest)
    if key not in _TOTALS:
        if len(_TOTALS) >= _TOTALS_KEPT:
            _TOTALS.pop(next(iter(_TOTALS)))
        _TOTALS[key] = per_day(engine, everything)
    return _TOTALS[key]


def _by_period(days: dict[date, int], by: str) -> dict[date, int]:
    periods: dict[date, int] = {}
    for day, count in days.items():
        start = period_start(day, by)
        periods[start] = periods.get(start, 0) + count
    return periods


def attention(engine: Engine, filters: Filters, by: str = "day", *,
              counted: dict[date | None, int] | None = None, estimate: bool = False) -> Attention:
    """The series for `filters`; totals count every article under the same reading (`as_of`) and
    dates. `by` is day, week, month, or auto (the one that makes a readable chart of the span).
    `counted`: the matches per day already counted (per_day's result, as `stats.facets(...,
    days=True)` gives it with the facets in the same pass over the matches, from the same
    `filters`). `estimate`: a text with many matches is counted from a sample (`estimated`); the
    CLI and the Python API count every match, the web app estimates."""
    if by != "auto":
        check_period(by)
    if estimate and counted is None:
        counted, rate = estimated(engine, filters, lambda f: (per_day(engine, f), f.sample),
                                  lambda found: sum(found[0].values()))
        filters = replace(filters, sample=rate)
    days = dict(per_day(engine, filters) if counted is None else counted)
    undated = days.pop(None, 0)
    if not days:
        return Attention("day" if by == "auto" else by, (), undated, filters.sample)
    dated: dict[date, int] = days  # type: ignore[assignment]
    if by == "auto":
        by = auto_period(min(dated), max(dated))
    matching = _by_period(dated, by)
    every = {d: n for d, n in all_per_day(engine, filters).items() if d is not None}
    totals = _by_period(every, by)
    points, start, last = [], min(matching), max(matching)
    while start <= last:
        points.append(Point(start, matching.get(start, 0), totals.get(start, 0)))
        start = _next(start, by)
    return Attention(by, tuple(points), undated, filters.sample)


def auto_period(first: date, last: date) -> str:
    """A period that gives a readable chart: days up to three months, weeks up to two years, else months."""
    span = (last - first).days
    return "day" if span <= 92 else "week" if span <= 731 else "month"
