"""When to look at an article again: commentary gets edited in its first days, then rarely.

An article is revisited at fixed ages after its publication (by default 1 h, 6 h, 24 h, 3 d,
7 d, then a long tail of 30 d, 90 d and a year, for the corrections publishers add weeks or months
later; then never). An article whose content changed is watched more closely: the schedule starts
again from the time the change was seen. The validators of the last fetch (ETag, Last-Modified)
travel with each due article so that the recrawl can ask "only if changed" (a 304 costs the site
next to nothing). A site may set its own schedule and a budget per run (`recrawl`,
`recrawl_budget` in the sources file): `due_by_site` applies them, the oldest due first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Iterator, Mapping, Sequence

from sqlalchemy import Engine, Row, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from archive.errors import BadInput
from archive.models import Article, Fetch, Snapshot

DEFAULT_SCHEDULE: tuple[timedelta, ...] = (timedelta(hours=1), timedelta(hours=6), timedelta(hours=24),
                                            timedelta(days=3), timedelta(days=7), timedelta(days=30),
                                            timedelta(days=90), timedelta(days=365))
#: `--refresh-after due` (ARCHIVE_REFRESH_AFTER = "due"), the default: a crawl that finds a link to a
#: known article asks for it again only when its recrawl is due (not_due); a duration instead: when
#: its last fetch is older than that.
REFRESH_DUE = "due"
_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_span(text: str) -> timedelta:
    """'30m', '6h', '3d' -> timedelta; a one-line BadInput otherwise."""
    match = _SPAN.match(text)
    if not match:
        raise BadInput(f"not a duration: {text!r} (use e.g. 30m, 6h, 3d)")
    return timedelta(**{_UNITS[match.group(2).lower()]: float(match.group(1))})


def parse_schedule(text: str) -> tuple[timedelta, ...]:
    """'1h,6h,24h,3d,7d' -> increasing ages."""
    spans = tuple(parse_span(part) for part in text.split(",") if part.strip())
    if not spans or list(spans) != sorted(set(spans)):
        raise BadInput(f"not an increasing list of durations: {text!r}")
    return spans


def format_schedule(schedule: Sequence[timedelta]) -> str:
    """The inverse of parse_schedule: (1h, 3d) -> '1h,3d'."""
    def span(value: timedelta) -> str:
        seconds = int(value.total_seconds())
        unit, size = next((u, n) for u, n in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)) if seconds % n == 0)
        return f"{seconds // size}{unit}"
    return ",".join(span(value) for value in schedule)


def next_due(anchor: datetime, last_fetched: datetime, schedule: Sequence[timedelta]) -> datetime | None:
    """The first checkpoint (anchor + age) after the last fetch; None when the schedule is over."""
    for age in schedule:
        if anchor + age > last_fetched:
            return anchor + age
    return None


@dataclass(frozen=True)
class Due:
    """An article to fetch again, with the validators of its last successful fetch."""

    article_id: int
    url: str
    due_at: datetime
    etag: str | None
    last_modified: str | None


def due_articles(engine: Engine, now: datetime | None = None,
                 schedule: Sequence[timedelta] = DEFAULT_SCHEDULE, sites: tuple[str, ...] = ()) -> list[Due]:
    """Articles whose next checkpoint has passed, most overdue first."""
    now = now or datetime.now(timezone.utc)
    horizon = now - schedule[-1] - timedelta(days=1)
    stmt, latest, last_change = _checkpoints()
    stmt = stmt.where(Article.last_fetched_at < now,
                      or_(Article.first_seen_at >= horizon, latest.c.published_at >= horizon,
                          last_change.c.changed_at >= horizon))
    if sites:
        stmt = stmt.where(Article.site.in_([s.lower().removeprefix("www.") for s in sites]))
    due: list[tuple[int, str, datetime]] = []
    with Session(engine) as session:
        for article_id, url, anchor, last_fetched, _ in _anchored(session.execute(stmt)):
            when = next_due(anchor, last_fetched, schedule)
            if when is not None and when <= now:
                due.append((article_id, url, when))
        validators = _validators(session, [article_id for article_id, _, _ in due])
    return [Due(article_id, url, when, *validators.get(article_id, (None, None)))
            for article_id, url, when in sorted(due, key=lambda item: item[2])]


@dataclass(frozen=True)
class SitePolicy:
    """A site's own recrawl schedule (None: the run's) and budget: at most this many due articles
    a run (None: all), the oldest due first, so that a large archive of one site is revisited over
    several runs rather than all at once."""

    sites: frozenset[str]
    schedule: tuple[timedelta, ...] | None = None
    budget: int | None = None


def due_by_site(engine: Engine, policies: Sequence[SitePolicy], now: datetime | None = None,
                schedule: Sequence[timedelta] = DEFAULT_SCHEDULE) -> tuple[list[Due], int]:
    """The due articles of the policies' sites, each by its site's schedule and within its budget
    (the oldest due first); with no policy, every site of the archive by `schedule`. Returns the
    articles, most overdue first, and how many due ones the budgets left for a later run."""
    if not policies:
        return due_articles(engine, now, schedule), 0
    found: list[Due] = []
    deferred = 0
    for policy in policies:
        if not policy.sites:
            continue
        due = due_articles(engine, now, policy.schedule or schedule, sites=tuple(sorted(policy.sites)))
        if policy.budget is not None and len(due) > policy.budget:
            deferred += len(due) - policy.budget
            due = due[:policy.budget]
        found += due
    unique = {d.article_id: d for d in found}  # two sources naming one site: each article once
    return sorted(unique.values(), key=lambda d: d.due_at), deferred


def not_due(engine: Engine, articles: Mapping[str, int], now: datetime | None = None,
            schedule: Sequence[timedelta] = DEFAULT_SCHEDULE) -> set[str]:
    """Those of the URLs of `articles` (URL -> article id) whose article is not due: its next
    checkpoint is still ahead, or its schedule is over. A crawl that finds links to them need not
    ask for them again (the recrawl schedule decides when it does); one query for a page's links.
    An article last seen, published and changed before due_articles' horizon is over, as there."""
    if not articles:
        return set()
    now = now or datetime.now(timezone.utc)
    horizon = now - schedule[-1] - timedelta(days=1)
    stmt, _, _ = _checkpoints()
    not_due_ids = set()
    with Session(engine) as session:
        for article_id, _, anchor, last_fetched, latest in _anchored(
                session.execute(stmt.where(Article.id.in_(set(articles.values()))))):
            if latest < horizon or (when := next_due(anchor, last_fetched, schedule)) is None or when > now:
                not_due_ids.add(article_id)
    return {url for url, article_id in articles.items() if article_id in not_due_ids}


def _checkpoints() -> tuple[Select[Any], Any, Any]:
    """Per article, what its next checkpoint is computed from: first seen, last fetched, the
    latest version's publication time and URL, the time its content last changed. Also returns
    the two subqueries, to filter on."""
    latest = (select(Snapshot.article_id, Snapshot.published_at, Snapshot.url)
              .join(Article, and_(Article.id == Snapshot.article_id, Snapshot.version == Article.latest_version))
              .subquery())
    last_change = (select(Snapshot.article_id, func.max(Snapshot.fetched_at).label("changed_at"))
                   .where(Snapshot.version > 1, Snapshot.origin == "fetch")
                   .group_by(Snapshot.article_id).subquery())
    stmt = (select(Article.id, latest.c.url, Article.first_seen_at, Article.last_fetched_at,
                   latest.c.published_at, last_change.c.changed_at)
            .join(latest, latest.c.article_id == Article.id)
            .outerjoin(last_change, last_change.c.article_id == Article.id))
    return stmt, latest, last_change


def _anchored(rows: Iterable[Row[Any]]) -> Iterator[tuple[int, str, datetime, datetime, datetime]]:
    """(article id, URL, anchor, last fetched, latest of first seen, published and changed): the
    schedule counts from the anchor, the publication time (the first sighting when there is
    none), or a later change of content; the last is what due_articles' horizon is tested on."""
    for article_id, url, first_seen, last_fetched, published, changed_at in rows:
        anchor = max(d for d in (published, first_seen if published is None else None, changed_at) if d)
        yield article_id, url, anchor, last_fetched, max(d for d in (first_seen, published, changed_at) if d)


def _validators(session: Session, article_ids: list[int]) -> dict[int, tuple[str | None, str | None]]:
    """ETag and Last-Modified of each article's last successful fetch."""
    found: dict[int, tuple[str | None, str | None]] = {}
    for chunk in range(0, len(article_ids), 500):
        ids = article_ids[chunk:chunk + 500]
        last = (select(Fetch.article_id, func.max(Fetch.id).label("id"))
                .where(Fetch.article_id.in_(ids), Fetch.outcome != "error").group_by(Fetch.article_id).subquery())
        for article_id, etag, modified in session.execute(
                select(Fetch.article_id, Fetch.etag, Fetch.last_modified).join(last, last.c.id == Fetch.id)):
            found[article_id] = (etag, modified)
    return found
