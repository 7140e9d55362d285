"""Export rows: one JSON object per version, with a stable, documented schema (docs/export-schema.json)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator, TextIO

from sqlalchemy import Engine

from archive.models import Article, Snapshot
from archive.query import Filters, iter_versions

SCHEMA_VERSION = 1


def local_time(value: datetime | None, offset_min: int | None, precision: str | None) -> str | None:
    """The stored UTC time shown with the publisher's own offset; a bare date when no time was given."""
    if value is None:
        return None
    if precision == "date":
        return value.date().isoformat()
    zone = timezone(timedelta(minutes=offset_min)) if offset_min is not None else timezone.utc
    return value.astimezone(zone).isoformat()


def row(snapshot: Snapshot, article: Article) -> dict[str, Any]:
    """The export form of one version of one article."""
    return {
        "article_id": article.id,
        "version": snapshot.version,
        "url": snapshot.url,
        "canonical_url": article.canonical_url,
        "site": article.site,
        "site_name": snapshot.site_name,
        "fetched_at": snapshot.fetched_at.isoformat(),
        "first_seen_at": article.first_seen_at.isoformat(),
        "title": snapshot.title,
        "authors": list(snapshot.authors),
        "ai_generated": snapshot.ai_generated,
        "published_at": local_time(snapshot.published_at, snapshot.published_offset_min, snapshot.published_precision),
        "published_precision": snapshot.published_precision,
        "updated_at": local_time(snapshot.updated_at, snapshot.updated_offset_min, snapshot.updated_precision),
        "tickers": list(snapshot.tickers),
        "language": snapshot.language,
        "description": snapshot.description,
        "body": snapshot.body,
        "word_count": snapshot.word_count,
        "paywalled": snapshot.paywalled,
        "content_sha256": snapshot.content_sha256,
        "raw_sha256": snapshot.raw_sha256,
        "changed_fields": list(snapshot.changed_fields),
        "duplicate_of": article.duplicate_of_id,
        "extractor_version": snapshot.extractor_version,
        "schema_version": SCHEMA_VERSION,
    }


def export_rows(engine: Engine, filters: Filters, *, all_versions: bool = False) -> Iterator[dict[str, Any]]:
    for snapshot, article in iter_versions(engine, filters, all_versions=all_versions):
        yield row(snapshot, article)


def write_jsonl(rows: Iterator[dict[str, Any]], output: TextIO) -> int:
    """Write rows as JSON lines; returns how many were written."""
    written = 0
    for item in rows:
        output.write(json.dumps(item, ensure_ascii=False) + "\n")
        written += 1
    return written
