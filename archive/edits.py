"""Publisher edits: the versions after the first that the publisher served (not re-extractions).

What the web app's Edits page and its Atom feed list, and the Ticker page's most-edited articles.
Filters mean what they mean in search, applied to the edited version itself; `as_of` keeps the
edits fetched by then.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Engine, func, literal_column, select
from sqlalchemy.orm import Session

from archive.models import Article, Snapshot
from archive.query import Filters, filtered, latest_versions, newest_first, reading


def _edits(columns: list[Any], filters: Filters) -> Any:
    stmt = (select(*columns).select_from(Snapshot).join(Article, Article.id == Snapshot.article_id)
            .where(Snapshot.version >= literal_column("2"), Snapshot.origin == literal_column("'fetch'")))
    if filters.as_of is not None:
        stmt = stmt.where(Snapshot.fetched_at <= filters.as_of)
    return filtered(stmt, replace(filters, edited=False))


def newest_edits(engine: Engine, filters: Filters, *, limit: int = 50,
                 offset: int = 0) -> list[tuple[Snapshot, Article]]:
    """Edited versions, the most recently fetched first."""
    stmt = (_edits([Snapshot, Article], filters)
            .order_by(Snapshot.fetched_at.desc(), Snapshot.id.desc()).limit(limit).offset(offset))
    with Session(engine) as session:
        return [(s, a) for s, a in reading(session.execute, stmt)]


def count_edits(engine: Engine, filters: Filters) -> int:
    stmt = select(func.count()).select_from(_edits([Snapshot.id], filters).subquery())
    with Session(engine) as session:
        return int(reading(session.scalar, stmt) or 0)


def most_edited(engine: Engine, filters: Filters, *, limit: int = 10) -> list[tuple[Snapshot, Article, int]]:
    """Matching articles (their current version) with the most publisher edits, and how many."""
    edits = (select(Snapshot.article_id, func.count().label("edits"))
             .where(Snapshot.version >= literal_column("2"), Snapshot.origin == literal_column("'fetch'"))
             .group_by(Snapshot.article_id))
    if filters.as_of is not None:
        edits = edits.where(Snapshot.fetched_at <= filters.as_of)
    counted = edits.subquery()
    stmt = (newest_first(latest_versions(filters).add_columns(counted.c.edits)
                         .join(counted, counted.c.article_id == Snapshot.article_id))
            .order_by(None).order_by(counted.c.edits.desc(), Snapshot.published_at.desc().nulls_last(),
                                     Snapshot.article_id.desc()).limit(limit))
    with Session(engine) as session:
        return [(s, a, int(n)) for s, a, n in reading(session.execute, stmt)]
