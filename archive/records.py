"""The export record: one version of one article as every export format and the API give it.

FIELDS is the one list of its fields (docs/export-schema.json documents each): the JSON lines
keys, the CSV columns and the Parquet schema all come from it (archive/export.py), and `record`
is the one place a record is built, from ORM objects (`row`) or from streamed columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from archive.urls import publisher_day

__all__ = ["SCHEMA_VERSION", "Field", "FIELDS", "FIELD_NAMES", "local_time", "record", "row"]

SCHEMA_VERSION = 5  # 2: adds `origin`; 3: adds `notes`; 4: adds `published_day`; 5: adds `removed_at`


@dataclass(frozen=True)
class Field:
    """One field of an export record: its name, its Parquet type, whether CSV has it as a column."""

    name: str
    kind: str  # int64, int32, string, bool, utc (time of capture), strings (a list), tickers
    csv: bool = True


#: Every field of an export record, in order: the one list the JSONL keys, the CSV columns and the
#: Parquet schema come from (docs/export-schema.json documents each; a test checks they agree).
FIELDS = (
    Field("article_id", "int64"), Field("version", "int32"), Field("url", "string"),
    Field("canonical_url", "string"), Field("site", "string"), Field("site_name", "string"),
    Field("fetched_at", "utc"), Field("first_seen_at", "utc"), Field("title", "string"),
    Field("authors", "strings"), Field("ai_generated", "bool"), Field("published_at", "string"),
    Field("published_precision", "string"), Field("published_day", "string"), Field("updated_at", "string"), Field("tickers", "tickers"),
    Field("language", "string"), Field("description", "string"),
    Field("body", "string", csv=False),  # long: a CSV column only on request, then last
    Field("word_count", "int32"), Field("paywalled", "bool"), Field("content_sha256", "string"),
    Field("raw_sha256", "string"), Field("changed_fields", "strings"), Field("notes", "strings"),
    Field("duplicate_of", "int64"), Field("removed_at", "utc"),
    Field("origin", "string"), Field("extractor_version", "string"), Field("schema_version", "int32"),
)
FIELD_NAMES = tuple(f.name for f in FIELDS)

def local_time(value: datetime | None, offset_min: int | None = None, precision: str | None = None) -> str | None:
    """The stored UTC time shown with the publisher's own offset; the UTC date alone when no time was given.

    `value` is aware (the models') or naive UTC (as SQLite's driver reads it for export_rows,
    which skips the models' per-field time-zone conversion: it was costly at export volumes).
    """
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    if precision == "date":
        return value.date().isoformat()
    if not offset_min:
        return value.isoformat() + _UTC_SUFFIX
    sign = "-" if offset_min < 0 else "+"
    hours, minutes = divmod(abs(offset_min), 60)
    return (value + timedelta(minutes=offset_min)).isoformat() + f"{sign}{hours:02d}:{minutes:02d}"


_UTC_SUFFIX = "+00:00"


def _day(value: datetime | None, offset_min: int | None, precision: str | None, url: str) -> str | None:
    day = publisher_day(value, offset_min, precision, url)
    return day.isoformat() if day else None


def record(article_id: int, canonical_url: str, site: str, first_seen_at: datetime, duplicate_of_id: int | None,
           removed_at: datetime | None, version: int, url: str, site_name: str | None, fetched_at: datetime,
           title: str | None, authors: list[str], ai_generated: bool, published_at: datetime | None, published_offset_min: int | None,
           published_precision: str | None, updated_at: datetime | None, updated_offset_min: int | None,
           updated_precision: str | None, tickers: list[dict[str, Any]], language: str | None,
           description: str | None, word_count: int | None, paywalled: bool, content_sha256: str,
           raw_sha256: str | None, changed_fields: list[str], origin: str, extractor_version: str | None,
           notes: list[str] | None, body: str | None) -> dict[str, Any]:
    """The export record (keys: FIELD_NAMES) from stored values: the one place it is built."""
    return {
        "article_id": article_id,
        "version": version,
        "url": url,
        "canonical_url": canonical_url,
        "site": site,
        "site_name": site_name,
        "fetched_at": local_time(fetched_at),
        "first_seen_at": local_time(first_seen_at),
        "title": title,
        "authors": authors,
        "ai_generated": ai_generated,
        "published_at": local_time(published_at, published_offset_min, published_precision),
        "published_precision": published_precision,
        "published_day": _day(published_at, published_offset_min, published_precision, url),
        "updated_at": local_time(updated_at, updated_offset_min, updated_precision),
        "tickers": tickers,
        "language": language,
        "description": description,
        "body": body,
        "word_count": word_count,
        "paywalled": paywalled,
        "content_sha256": content_sha256,
        "raw_sha256": raw_sha256,
        "changed_fields": changed_fields,
        "notes": notes or [],
        "duplicate_of": duplicate_of_id,
        "removed_at": local_time(removed_at),
        "origin": origin,
        "extractor_version": extractor_version,
        "schema_version": SCHEMA_VERSION,
    }


def row(snapshot: Any, article: Any) -> dict[str, Any]:
    """The export form of one version of one article (ORM objects)."""
    s = snapshot
    return record(article.id, article.canonical_url, article.site, article.first_seen_at, article.duplicate_of_id,
                  article.removed_at, s.version, s.url, s.site_name, s.fetched_at, s.title, list(s.authors),
                  s.ai_generated, s.published_at, s.published_offset_min, s.published_precision, s.updated_at,
                  s.updated_offset_min, s.updated_precision, list(s.tickers), s.language, s.description,
                  s.word_count, s.paywalled, s.content_sha256, s.raw_sha256, list(s.changed_fields), s.origin,
                  s.extractor_version, s.notes, s.body)
