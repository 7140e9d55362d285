"""Reading the archive: filters shared by search, export and the Python API, and article history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any, Iterator

from dateutil import parser as dateparser
from sqlalchemy import Engine, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from archive.errors import BadInput, NotFound
from archive.models import Article, Fetch, RawPage, Snapshot, SnapshotTicker
from archive.urls import canonical_url


@dataclass(frozen=True)
class Filters:
    """What a researcher narrows the archive to. Dates bound `published_at`; `until` is inclusive."""

    text: str | None = None
    tickers: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None


def parse_bound(value: str | None, *, end: bool = False) -> datetime | None:
    """'2025-01-31' or an ISO datetime; a bare date as an end bound means the end of that day (UTC)."""
    if not value:
        return None
    try:
        parsed = dateparser.isoparse(value)
    except (ValueError, OverflowError) as exc:
        raise BadInput(f"not a date: {value!r} (use YYYY-MM-DD or an ISO 8601 time)") from exc
    if len(value.strip()) <= 10:  # a date only
        day = datetime.combine(parsed.date(), time(), tzinfo=timezone.utc)
        return day + timedelta(days=1) - timedelta(microseconds=1) if end else day
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def filtered(stmt: Select[Any], filters: Filters) -> Select[Any]:
    """Apply the filters to a statement that selects from Snapshot joined to Article."""
    conditions = []
    for term in (filters.text or "").split():
        pattern = _like(term)
        conditions.append(or_(Snapshot.title.ilike(pattern, escape="\\"), Snapshot.body.ilike(pattern, escape="\\")))
    if filters.tickers:
        symbols = [t.upper().lstrip("$") for t in filters.tickers]
        conditions.append(Snapshot.id.in_(select(SnapshotTicker.snapshot_id).where(SnapshotTicker.symbol.in_(symbols))))
    if filters.sites:
        conditions.append(Article.site.in_([s.lower().removeprefix("www.") for s in filters.sites]))
    if filters.since:
        conditions.append(Snapshot.published_at >= filters.since)
    if filters.until:
        conditions.append(Snapshot.published_at <= filters.until)
    return stmt.where(and_(*conditions)) if conditions else stmt


def latest_versions(filters: Filters, *, all_versions: bool = False) -> Select[Any]:
    """Snapshots matching the filters: each article's latest, or every version."""
    stmt = select(Snapshot, Article).join(Article, Article.id == Snapshot.article_id)
    if not all_versions:
        stmt = stmt.where(Snapshot.version == Article.latest_version)
    return filtered(stmt, filters)


def search(engine: Engine, filters: Filters, *, limit: int = 20, offset: int = 0) -> list[tuple[Snapshot, Article]]:
    """Latest versions of matching articles, newest publication first."""
    stmt = (latest_versions(filters)
            .order_by(Snapshot.published_at.desc().nulls_last(), Article.id.desc())
            .limit(limit).offset(offset))
    with Session(engine) as session:
        return [tuple(row) for row in session.execute(stmt)]  # type: ignore[misc]


def iter_versions(engine: Engine, filters: Filters, *, all_versions: bool = False,
                  batch: int = 500) -> Iterator[tuple[Snapshot, Article]]:
    """Stream matching snapshots in article then version order, a batch at a time.

    The session's identity map holds objects weakly, so rows already yielded are freed.
    """
    stmt = latest_versions(filters, all_versions=all_versions).order_by(Article.id, Snapshot.version)
    with Session(engine) as session:
        for snapshot, article in session.execute(stmt.execution_options(yield_per=batch)):
            yield snapshot, article


@dataclass
class History:
    """An article with every version and how many times it was fetched."""

    article: Article
    versions: list[Snapshot]
    fetches: int
    duplicate_of_url: str | None = None


def find_article(engine: Engine, key: str) -> History:
    """An article by numeric id or by any URL that normalises to its canonical URL."""
    with Session(engine) as session:
        if key.isdigit():
            article = session.get(Article, int(key))
        else:
            article = session.scalars(select(Article).where(Article.canonical_url == canonical_url(key))).first()
            if article is None:  # a URL that redirected or declared another canonical
                article = session.scalars(select(Article).join(Snapshot).where(Snapshot.url == key).limit(1)).first()
        if article is None:
            raise NotFound(f"no article {key!r} in the archive")
        versions = list(session.scalars(select(Snapshot).where(Snapshot.article_id == article.id)
                                         .order_by(Snapshot.version)))
        fetches = session.scalar(select(func.count()).select_from(Fetch).where(Fetch.article_id == article.id)) or 0
        duplicate = session.get(Article, article.duplicate_of_id) if article.duplicate_of_id else None
        return History(article, versions, fetches, duplicate.canonical_url if duplicate else None)


def counts(engine: Engine) -> dict[str, int]:
    """The archive's size: articles, versions, fetches, failed fetches, raw pages."""
    with Session(engine) as session:
        def count(model: Any, *where: Any) -> int:
            return session.scalar(select(func.count()).select_from(model).where(*where)) or 0
        return {"articles": count(Article), "versions": count(Snapshot), "fetches": count(Fetch),
                "errors": count(Fetch, Fetch.outcome == "error"), "raw_pages": count(RawPage),
                "duplicates": count(Article, Article.duplicate_of_id.is_not(None))}
