"""When to look at an article again: commentary gets edited in its first days, then rarely.

An article is revisited at fixed ages after its publication (by default 1 h, 6 h, 24 h, 3 d,
7 d, then never). An article whose content changed is watched more closely: the schedule starts
again from the time the change was seen. The validators of the last fetch (ETag, Last-Modified)
travel with each due article so that the recrawl can ask "only if changed".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Sequence

from sqlalchemy import Engine, and_, func, or_, select
from sqlalchemy.orm import Session

from archive.errors import BadInput
from archive.models import Article, Fetch, Snapshot

DEFAULT_SCHEDULE: tuple[timedelta, ...] = (timedelta(hours=1), timedelta(hours=6), timedelta(hours=24),
                                            timedelta(days=3), timedelta(days=7))
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
    latest = (select(Snapshot.article_id, Snapshot.published_at, Snapshot.url)
              .join(Article, and_(Article.id == Snapshot.article_id, Snapshot.version == Article.latest_version))
              .subquery())
    last_change = (select(Snapshot.article_id, func.max(Snapshot.fetched_at).label("changed_at"))
                   .where(Snapshot.version > 1, Snapshot.origin == "fetch")
                   .group_by(Snapshot.article_id).subquery())
    stmt = (select(Article, latest.c.published_at, latest.c.url, last_change.c.changed_at)
            .join(latest, latest.c.article_id == Article.id)
            .outerjoin(last_change, last_change.c.article_id == Article.id)
            .where(Article.last_fetched_at < now,
                   or_(Article.first_seen_at >= horizon, latest.c.published_at >= horizon,
                       last_change.c.changed_at >= horizon)))
    if sites:
        stmt = stmt.where(Article.site.in_([s.lower().removeprefix("www.") for s in sites]))
    due: list[tuple[Article, str, datetime]] = []
    with Session(engine) as session:
        for article, published, url, changed_at in session.execute(stmt):
            anchor = max(d for d in (published, article.first_seen_at if published is None else None, changed_at) if d)
            when = next_due(anchor, article.last_fetched_at, schedule)
            if when is not None and when <= now:
                due.append((article, url, when))
        validators = _validators(session, [a.id for a, _, _ in due])
    return [Due(a.id, url, when, *validators.get(a.id, (None, None)))
            for a, url, when in sorted(due, key=lambda item: item[2])]


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
