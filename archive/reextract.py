"""Re-extraction: read stored raw pages again after the extractor improves, without re-crawling.

The work is the store's (`ArchiveStore.reextract_article`); this module picks the articles and
counts what happened, so that the CLI and notebooks share one loop.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.errors import ArchiveError
from archive.models import Article, Snapshot
from archive.query import Filters, filtered
from archive.store import ArchiveStore


def article_ids(store: ArchiveStore, filters: Filters) -> list[int]:
    """Ids of the articles whose latest version matches the filters, oldest first."""
    stmt = filtered(select(Article.id).join(Snapshot, Snapshot.article_id == Article.id)
                    .where(Snapshot.version == Article.latest_version), filters).order_by(Article.id)
    with Session(store.engine) as session:
        return list(session.scalars(stmt))


def reextract(store: ArchiveStore, filters: Filters,
              progress: Callable[[int, int], None] | None = None) -> Counter[str]:
    """Re-extract every matching article; returns counts by outcome (reextracted, unchanged, failed)."""
    ids = article_ids(store, filters)
    outcomes: Counter[str] = Counter()
    for done, article_id in enumerate(ids, 1):
        try:
            outcomes[store.reextract_article(article_id).outcome] += 1
        except ArchiveError:
            outcomes["failed"] += 1
        if progress:
            progress(done, len(ids))
    return outcomes
