"""The archive's tables: articles, their versions (snapshots), every fetch, raw pages, crawl runs.

Times are stored in UTC (`UTCDateTime`); the publisher's own offset is kept beside a
published/updated time so that "11:57 pm ET" can be shown as the page showed it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import (JSON, BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary,
                        MetaData, String, Text, UniqueConstraint, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which has no zones) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


JSONType = JSON().with_variant(JSON(none_as_null=True), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSONType, list[Any]: JSONType}


class Crawl(Base):
    """One run of the crawler: what it was asked and what it did."""

    __tablename__ = "crawl"
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[Optional[datetime]]
    command: Mapped[dict[str, Any]] = mapped_column(default=dict)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)


class RawPage(Base):
    """A fetched body exactly as served, zstd-compressed, stored once per distinct sha256."""

    __tablename__ = "raw_page"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int]
    content_type: Mapped[Optional[str]] = mapped_column(String(200))
    zstd: Mapped[bytes] = mapped_column(LargeBinary)


class Article(Base):
    """One article identity: one canonical URL. Its content lives in its snapshots."""

    __tablename__ = "article"
    id: Mapped[int] = mapped_column(primary_key=True)
    canonical_url: Mapped[str] = mapped_column(String(2048), unique=True)
    site: Mapped[str] = mapped_column(String(255), index=True)
    first_seen_at: Mapped[datetime]
    last_fetched_at: Mapped[datetime]
    latest_version: Mapped[int] = mapped_column(default=0)
    duplicate_of_id: Mapped[Optional[int]] = mapped_column(ForeignKey("article.id", ondelete="SET NULL"), index=True)
    minhash: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    #: When the publisher took the article down (the first of two 404/410 answers, or redirects to a
    #: page that is no article, at least an hour apart); None while it is there (archive.removals).
    removed_at: Mapped[Optional[datetime]]
    snapshots: Mapped[list["Snapshot"]] = relationship(back_populates="article", lazy="raise",
                                                       order_by="Snapshot.version")


class Snapshot(Base):
    """One version of an article as the publisher served it; append-only."""

    __tablename__ = "snapshot"
    #: (published_at, fetched_at): newest-first reading, and --as-of skips versions fetched later
    #: from the index alone, without reading their rows.
    #: Versions the publisher served (not re-extractions), by article: "--edited" and the edited
    #: count of `archive stats` from this index alone (origin lies after the body in each row).
    __table_args__ = (UniqueConstraint("article_id", "version"),
                      Index("ix_snapshot_published_at_fetched_at", "published_at", "fetched_at"),
                      Index("ix_snapshot_publisher_edits", "article_id", "version", "fetched_at",
                            sqlite_where=text("origin = 'fetch'"), postgresql_where=text("origin = 'fetch'")),
                      # Versions fetched before the time they say they were published (a wrong date, a
                      # scheduled post): the few that --as-of must read beyond its instant (archive.query).
                      Index("ix_snapshot_fetched_before_published", "fetched_at",
                            sqlite_where=text("published_at > fetched_at"),
                            postgresql_where=text("published_at > fetched_at")),
                      # Versions kept under their own URL whose canonical claim could not be checked
                      # yet: adopted by the claimed article when its own page arrives and agrees.
                      Index("ix_snapshot_unverified_canonical", "unverified_canonical",
                            sqlite_where=text("unverified_canonical IS NOT NULL"),
                            postgresql_where=text("unverified_canonical IS NOT NULL")),
                      # Versions carrying a correction or update notice: --has-notes.
                      Index("ix_snapshot_notes", "article_id", "version",
                            sqlite_where=text("notes IS NOT NULL"), postgresql_where=text("notes IS NOT NULL")),
                      # Counting matches (attention, facets) by day and article from the index alone,
                      # never reading the wide rows (migration 0012; archive.query.counting).
                      Index("ix_snapshot_reading", "id", "article_id", "version", "published_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    fetched_at: Mapped[datetime]
    fetch_id: Mapped[Optional[int]] = mapped_column(ForeignKey("fetch.id", ondelete="SET NULL"))
    raw_sha256: Mapped[Optional[str]] = mapped_column(ForeignKey("raw_page.sha256"))
    url: Mapped[str] = mapped_column(String(2048))
    content_sha256: Mapped[str] = mapped_column(String(64))
    changed_fields: Mapped[list[Any]] = mapped_column(default=list)
    title: Mapped[Optional[str]] = mapped_column(Text)
    authors: Mapped[list[Any]] = mapped_column(default=list)
    ai_generated: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[Optional[datetime]]
    published_offset_min: Mapped[Optional[int]] = mapped_column(Integer)
    published_precision: Mapped[Optional[str]] = mapped_column(String(8))
    updated_at: Mapped[Optional[datetime]]
    updated_offset_min: Mapped[Optional[int]] = mapped_column(Integer)
    updated_precision: Mapped[Optional[str]] = mapped_column(String(8))
    site_name: Mapped[Optional[str]] = mapped_column(String(255))
    language: Mapped[Optional[str]] = mapped_column(String(16))
    description: Mapped[Optional[str]] = mapped_column(Text)
    tickers: Mapped[list[Any]] = mapped_column(default=list)
    body: Mapped[str] = mapped_column(Text)
    word_count: Mapped[int] = mapped_column(default=0)
    paywalled: Mapped[bool] = mapped_column(Boolean, default=False)
    extractor_version: Mapped[str] = mapped_column(String(32))
    #: "fetch": the publisher served this content; "reextract": the same raw page, read again by a
    #: newer extractor. Only "fetch" versions are edits by the publisher.
    origin: Mapped[str] = mapped_column(String(16), default="fetch", server_default="fetch")
    #: The page's rel=canonical (or og:url) when the archive did not accept it as the page's identity:
    #: a claim the claimed page did not confirm (archive.store, `_identity`), kept for the record.
    unverified_canonical: Mapped[Optional[str]] = mapped_column(String(2048))
    #: The correction and update notices in the body (archive.extract.notes); NULL, never [], when
    #: there are none, so that "versions carrying a notice" is `notes IS NOT NULL` on every database.
    notes: Mapped[Optional[list[Any]]] = mapped_column(JSON(none_as_null=True), nullable=True)
    article: Mapped[Article] = relationship(back_populates="snapshots", lazy="raise")


class SnapshotTicker(Base):
    """Ticker symbols of a snapshot, one row each, so that --ticker filters use an index."""

    __tablename__ = "snapshot_ticker"
    #: (symbol, published_at, snapshot_id) answers "which versions mention NVDA", and "... published
    #: in January", from the index alone: a popular ticker's versions in a window are a range of it,
    #: not every version of the ticker looked up for its date (migration 0015).
    __table_args__ = (Index("ix_snapshot_ticker_symbol_published_at", "symbol", "published_at", "snapshot_id"),)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshot.id", ondelete="CASCADE"), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(16), primary_key=True)
    #: The version's published_at, copied: a version's fields never change once written.
    published_at: Mapped[Optional[datetime]]


class Fetch(Base):
    """Every fetch of every URL, successful or not: how "seen unchanged at T" is known."""

    __tablename__ = "fetch"
    id: Mapped[int] = mapped_column(primary_key=True)
    crawl_id: Mapped[Optional[int]] = mapped_column(ForeignKey("crawl.id", ondelete="SET NULL"), index=True)
    url: Mapped[str] = mapped_column(String(2048), index=True)
    fetched_at: Mapped[datetime]
    status: Mapped[Optional[int]]
    etag: Mapped[Optional[str]] = mapped_column(String(512))
    last_modified: Mapped[Optional[str]] = mapped_column(String(64))
    raw_sha256: Mapped[Optional[str]] = mapped_column(ForeignKey("raw_page.sha256"))
    article_id: Mapped[Optional[int]] = mapped_column(ForeignKey("article.id", ondelete="SET NULL"), index=True)
    outcome: Mapped[str] = mapped_column(String(32))
    error: Mapped[Optional[str]] = mapped_column(Text)
    #: The response headers as served ([name, value] pairs), so that a WARC export shows them.
    headers: Mapped[Optional[list[Any]]] = mapped_column(JSONType, nullable=True)


class MinhashBand(Base):
    """LSH bands of an article's body MinHash: equal band hashes find near-duplicate candidates."""

    __tablename__ = "minhash_band"
    __table_args__ = (Index("ix_minhash_band_lookup", "band", "hash"),)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), primary_key=True)
    band: Mapped[int] = mapped_column(Integer, primary_key=True)
    hash: Mapped[int] = mapped_column(BigInteger)


class ArticleEvent(Base):
    """What happened to an article besides new versions: removed, restored, moved to another URL.

    Also `absent` observations (one 404/410 or redirect away): not events yet, kept so that a
    second one an hour later can confirm a removal (archive.removals)."""

    __tablename__ = "article_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # absent | removed | restored | moved
    at: Mapped[datetime]
    url: Mapped[Optional[str]] = mapped_column(String(2048))
    #: Why: the error kind (http_404), "redirect to URL", or the URL the article moved from.
    detail: Mapped[Optional[str]] = mapped_column(Text)
    fetch_id: Mapped[Optional[int]] = mapped_column(ForeignKey("fetch.id", ondelete="SET NULL"))


class ArticleUrl(Base):
    """Every URL an article was kept under once it moved (archive.removals): lookups by an old URL
    find it, and `archive show` lists them with when each was first and last seen."""

    __tablename__ = "article_url"
    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), index=True)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class DayCount(Base):
    """How many articles were published on each day (UTC), overall, per site, per ticker and per
    ticker and site, counting each article once by its current (latest) version, as attention over
    time and the facets count them. Kept by the store in the transaction of each write that changes
    an article's current version (archive.day_counts), so that the unfiltered totals, a ticker's or a
    site's attention and their facets are read from a few hundred rows instead of counted from
    every version (docs/performance.md, "The web app at scale").

    `site` and `ticker` are '' in the rows that count every site or every ticker (an article with
    no ticker counts only there); `day` is '' for undated articles."""

    __tablename__ = "day_count"
    ticker: Mapped[str] = mapped_column(String(16), primary_key=True)
    site: Mapped[str] = mapped_column(String(255), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    articles: Mapped[int] = mapped_column(Integer)
