"""The versioning and dedup rules, in one place: fetches, raw pages, articles, versions.

`ArchiveStore.save` is the one function that decides whether a page is a new article, a new
version of a known one, or the same content seen again. It is idempotent: saving the same
content twice writes a fetch record, never a second version.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from dataclasses import dataclass
from functools import cached_property, lru_cache
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Collection, Mapping, Sequence, TypeVar

import zstandard
from sqlalchemy import (Connection, Engine, Insert, Row, Select, Table, and_, bindparam, delete, func, insert, or_,
                        select, text, update)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError, SQLAlchemyError, StatementError
from sqlalchemy.orm import Session

from archive import day_counts, duplicates, fingerprint, recrawl, removals
from archive.db import make_engine, upgrade, writer
from archive.errors import ArchiveError, ExtractionError, NotFound, RefusedWrite
from archive.extract.declared import carry_declared
from archive.extract.model import Extracted
from archive.models import Article, Crawl, Fetch, MinhashBand, RawPage, Snapshot, SnapshotTicker
from archive.urls import MAX_URL_BYTES, canonical_url, site_of, too_long

# The write path works on the tables through Core statements, built once: the ORM's unit of work
# (an autoflush before each query, an UPDATE of the article per flush) cost more than the inserts
# themselves.
ARTICLE, FETCH, SNAPSHOT = Article.__table__, Fetch.__table__, Snapshot.__table__
TICKER, BAND, RAW = SnapshotTicker.__table__, MinhashBand.__table__, RawPage.__table__

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Called as reextract(raw, url, content_type=...): the page's bytes and the Content-Type it was served with.
Reextractor = Callable[..., Extracted]
#: One write of the crawler's, run inside a transaction (see ArchiveStore.save_many).
Write = Callable[[Session], "SaveResult"]

@dataclass(frozen=True)
class Capture:
    """What the crawler fetched: the response as served, before any extraction."""

    url: str
    fetched_at: datetime
    status: int | None = 200
    raw: bytes | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    headers: tuple[tuple[str, str], ...] | None = None  # response headers as served (for WARC export)
    crawl_id: int | None = None
    #: The URLs that redirected to this one, first asked first: a canonical claim naming one of
    #: them comes from the canonical URL itself (`_identity`).
    redirected_from: tuple[str, ...] = ()

    @cached_property  # asked for by the fetch and by its version: a 140 KB page is hashed once
    def raw_sha256(self) -> str | None:
        return hashlib.sha256(self.raw).hexdigest() if self.raw is not None else None


@dataclass(frozen=True)
class Validators:
    """What the last fetch of an article's URL said about its version: ETag and Last-Modified."""

    article_id: int
    etag: str | None
    last_modified: str | None
    fetched_at: datetime | None = None


@dataclass(frozen=True)
class SeenFetch:
    """An earlier fetch that served the same bytes (ArchiveStore.seen_raw)."""

    id: int
    article_id: int | None


@dataclass(frozen=True)
class SaveResult:
    """What save() did: `created` is True only when a new version was written."""

    outcome: str                      # new | changed | unchanged | same_raw | not_modified | not_article | error
    article_id: int | None = None
    version: int | None = None
    created: bool = False
    changed_fields: tuple[str, ...] = ()
    duplicate_of: int | None = None
    error: str | None = None          # the kind of an "error" outcome ("url_too_long", "http_404"...)


def content_fields(page: Extracted) -> dict[str, Any]:
    """The versioned content of a page in a canonical, comparable form."""
    return {
        "title": " ".join((page.title or "").split()) or None,
        "authors": list(page.authors),
        "published_at": page.published.value.astimezone(timezone.utc).isoformat() if page.published else None,
        "updated_at": page.updated.value.astimezone(timezone.utc).isoformat() if page.updated else None,
        "tickers": sorted({t.symbol for t in page.tickers}),
        "body": "\n\n".join(" ".join(p.split()) for p in page.body.split("\n\n") if p.strip()),
        # Only when there are some: the digest of a version without notes stays what it was before
        # notes were extracted, so that re-extraction finds such versions unchanged.
        **({"notes": list(page.notes)} if page.notes else {}),
    }


def snapshot_fields(snap: Snapshot) -> dict[str, Any]:
    """The same canonical form, read back from a stored version."""
    def iso(value: datetime | None) -> str | None:
        return value.astimezone(timezone.utc).isoformat() if value else None
    return {"title": snap.title, "authors": list(snap.authors), "published_at": iso(snap.published_at),
            "updated_at": iso(snap.updated_at), "tickers": sorted({t["symbol"] for t in snap.tickers}),
            "body": snap.body, **({"notes": list(snap.notes)} if snap.notes else {})}


def content_sha256(fields: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class ArchiveStore:
    """The archive's write side (and the few reads the crawler needs), over one engine."""

    def __init__(self, engine: Engine, reextract: Reextractor | None = None) -> None:
        """`reextract` reads a stored raw page again with the current extractor (see `_attribute`)."""
        self.engine = engine
        self.writer = writer(engine)  # write transactions take SQLite's write lock first
        self.reextract = reextract
        # Level 3: higher levels gain little space for much more time, in the crawl's busiest thread
        # (docs/performance.md).
        self._compressor = zstandard.ZstdCompressor(level=3)

    @classmethod
    def open(cls, url: str, reextract: Reextractor | None = None) -> "ArchiveStore":
        """Open (and create or migrate) the archive at a database URL.

        By default versions are attributed with the project's own extractor (archive.extract).
        """
        if reextract is None:
            from archive.extract import extract as reextract  # noqa: PLC0415 - heavy import, once
        engine = make_engine(url)
        try:
            upgrade(engine)
        except ArchiveError:
            engine.dispose()
            raise
        return cls(engine, reextract)

    def close(self) -> None:
        self.engine.dispose()

    # -- crawl runs -------------------------------------------------------------------------
    def begin_crawl(self, command: dict[str, Any]) -> int:
        def write(session: Session) -> int:
            crawl = Crawl(started_at=_now(), command=command, stats={})
            session.add(crawl)
            session.flush()
            return crawl.id
        return self._retrying(write)

    def finish_crawl(self, crawl_id: int, stats: dict[str, Any]) -> None:
        self._retrying(lambda session: session.execute(
            update(Crawl).where(Crawl.id == crawl_id).values(finished_at=_now(), stats=stats)))

    # -- the crawler's shortcut ------------------------------------------------------------
    def seen_raw(self, url: str, raw_sha256: str) -> "SeenFetch | None":
        """The last successful fetch of `url` when it served exactly these bytes: skip extraction."""
        last = self._read(_LAST_RAW, url)
        return SeenFetch(last.id, last.article_id) if last is not None and last.raw_sha256 == raw_sha256 else None

    def site_offsets(self, site: str) -> list[int]:
        """The UTC offsets (minutes) of the publication times of the site's newest stored versions:
        what archive.site_zones learns the site's zone from."""
        try:
            with self.engine.connect() as connection:
                return [row[0] for row in connection.execute(_SITE_OFFSETS, {"site": site})]
        except SQLAlchemyError as exc:
            raise ArchiveError(f"database read failed: {getattr(exc, 'orig', exc)}") from exc

    def validators(self, url: str) -> Validators | None:
        """ETag, Last-Modified and time of the last successful fetch of `url`, when it was an
        article's: what a refetch sends as If-None-Match / If-Modified-Since (None: not an article)."""
        row = self._read(_LAST_VALIDATORS, url)
        if row is None or row.article_id is None:
            return None
        return Validators(row.article_id, row.etag, row.last_modified, row.fetched_at)

    def _read(self, statement: Select[Any], url: str) -> Row[Any] | None:
        """One row of a lookup by URL (the crawler asks one or two per page: Core, no ORM objects)."""
        try:
            with self.engine.connect() as connection:
                return connection.execute(statement, {"url": url}).first()
        except SQLAlchemyError as exc:
            raise ArchiveError(f"database read failed: {getattr(exc, 'orig', exc)}") from exc

    def last_fetches(self, urls: Collection[str]) -> dict[str, Validators | None]:
        """What `validators` tells of one URL, for a page's worth of links in one query: for each of
        `urls` fetched successfully before, the validators of its last fetch when that was an
        article's, None when it was not (a listing). URLs never fetched successfully are absent."""
        if not urls:
            return {}
        latest = select(func.max(Fetch.id)).where(Fetch.url.in_(list(urls)), Fetch.outcome != "error") \
            .group_by(Fetch.url).scalar_subquery()
        try:
            with self.engine.connect() as connection:
                rows = connection.execute(select(Fetch.url, Fetch.article_id, Fetch.etag, Fetch.last_modified,
                                                 Fetch.fetched_at).where(Fetch.id.in_(latest))).all()
        except SQLAlchemyError as exc:
            raise ArchiveError(f"database read failed: {getattr(exc, 'orig', exc)}") from exc
        return {url: Validators(article_id, etag, modified, at) if article_id is not None else None
                for url, article_id, etag, modified, at in rows}

    def stored_pages(self, urls: Collection[str]) -> dict[str, tuple[bytes, str | None]]:
        """The body (and Content-Type) last stored for each of `urls` that has one: what a crawl reads
        a skipped page's links from."""
        if not urls:
            return {}
        latest = select(func.max(Fetch.id)).where(Fetch.url.in_(list(urls)), Fetch.raw_sha256.is_not(None)) \
            .group_by(Fetch.url).scalar_subquery()
        try:
            with self.engine.connect() as connection:
                rows = connection.execute(select(Fetch.url, RawPage.zstd, RawPage.content_type)
                                          .join(RawPage, RawPage.sha256 == Fetch.raw_sha256)
                                          .where(Fetch.id.in_(latest))).all()
        except SQLAlchemyError as exc:
            raise ArchiveError(f"database read failed: {getattr(exc, 'orig', exc)}") from exc
        decompressor = zstandard.ZstdDecompressor()
        return {url: (decompressor.decompress(blob), content_type) for url, blob, content_type in rows}

    def not_due(self, articles: Mapping[str, int], schedule: Sequence[timedelta]) -> set[str]:
        """Those of the URLs of `articles` (URL -> article id) whose article is not due for a revisit
        by `schedule` (archive.recrawl.not_due): what a crawl that finds links to them need not request."""
        try:
            return recrawl.not_due(self.engine, articles, schedule=schedule)
        except SQLAlchemyError as exc:
            raise ArchiveError(f"database read failed: {getattr(exc, 'orig', exc)}") from exc

    # -- writes ------------------------------------------------------------------------------
    # Each kind of write is a function of a session (a Write), so that the crawler can put many
    # pages in one transaction (save_many) and everything else can write one (save_*).
    def error_write(self, capture: Capture, error: str) -> Write:
        """A failed fetch or a page that could not be extracted; nothing else is touched."""
        def write(session: Session) -> SaveResult:
            connection = session.connection()
            fetch_id = self._add_fetch(connection, capture, outcome="error", error=error[:2000])
            kind = error.split(":", 1)[0]
            if capture.status in removals.GONE_STATUSES:  # gone, not failing: the article may have been removed
                removals.absent(connection, capture.url, capture.fetched_at, kind, fetch_id)
            return SaveResult("error", error=kind)
        return write

    def same_raw_write(self, capture: Capture, previous: "SeenFetch | Fetch") -> Write:
        """A fetch whose bytes equal the previous fetch's: seen unchanged, no extraction."""
        def write(session: Session) -> SaveResult:
            connection = session.connection()
            article_id = previous.article_id
            # Reached through a redirect from another URL: a removal (to a page that is no article)
            # or a move (to the same story) of the article kept there, as for an extracted page.
            away = [url for url in capture.redirected_from if canonical_url(url) != canonical_url(capture.url)]
            if article_id is not None:
                article_id = self._seen_at(connection, article_id, capture)
            if away and article_id is not None:
                article_id = removals.followed(connection, away, article_id, capture.fetched_at, snapshot_fields)
            fetch_id = self._add_fetch(connection, capture, outcome="same_raw", article_id=article_id,
                                       store_raw=False)
            if article_id is not None:
                removals.seen(connection, article_id, capture.fetched_at, capture.url, fetch_id)
            for url in away if article_id is None else ():
                removals.absent(connection, url, capture.fetched_at, f"redirect to {capture.url}", fetch_id)
            # Counted as what the page is: an unchanged article, or a listing seen again.
            return SaveResult("same_raw" if article_id is not None else "not_article", article_id=article_id)
        return write

    def not_modified_write(self, capture: Capture, article_id: int | None) -> Write:
        """A 304 answer to a conditional refetch: seen unchanged, nothing downloaded or extracted.

        The validators the server sent back (or, when it sent none, those the request carried)
        are kept on the fetch, so that the next refetch can ask "only if changed" again.
        """
        def write(session: Session) -> SaveResult:
            connection = session.connection()
            seen = self._seen_at(connection, article_id, capture) if article_id is not None else None
            away = [url for url in capture.redirected_from if canonical_url(url) != canonical_url(capture.url)]
            if away and seen is not None:  # reached through a redirect: a move, as for a same-bytes page
                seen = removals.followed(connection, away, seen, capture.fetched_at, snapshot_fields)
            fetch_id = self._add_fetch(connection, capture, outcome="not_modified", article_id=seen,
                                       store_raw=False)
            if seen is not None:
                removals.seen(connection, seen, capture.fetched_at, capture.url, fetch_id)
            return SaveResult("not_modified", article_id=seen)
        return write

    @staticmethod
    def _seen_at(connection: Connection, article_id: int, capture: Capture) -> int | None:
        """Mark article `article_id` seen at the capture's time; returns its id, or, when it is no
        longer there (merged into another by a move found since it was looked up,
        archive.removals), the id of the article now at the capture's URL (None: none is)."""
        if connection.execute(_SEEN_AT, {"article_id": article_id, "at": capture.fetched_at}).rowcount:
            return article_id
        known = removals.article_at(connection, capture.url)
        if known is None:
            return None
        connection.execute(_SEEN_AT, {"article_id": known.id, "at": capture.fetched_at})
        return known.id

    def page_write(self, page: Extracted, capture: Capture) -> Write:
        """An extracted page: a new article, a new version, or a fetch of unchanged content.
        A page at a URL too long to keep is one url_too_long error (see archive.urls.MAX_URL_BYTES)."""
        if too_long(capture.url):
            return self.error_write(capture, url_too_long(capture.url))
        return lambda session: self._save(session, page, capture)

    def save_many(self, writes: list[Write]) -> list[SaveResult]:
        """Several writes in one transaction: all are kept, or (ArchiveError) none."""
        return self._retrying(lambda session: [write(session) for write in writes])

    def save_error(self, capture: Capture, error: str) -> SaveResult:
        return self._retrying(self.error_write(capture, error))

    def save_same_raw(self, capture: Capture, previous: "SeenFetch | Fetch") -> SaveResult:
        return self._retrying(self.same_raw_write(capture, previous))

    def save(self, page: Extracted, capture: Capture | None = None) -> SaveResult:
        """Keep one extracted page: a new article, a new version, or a fetch of unchanged content."""
        capture = capture or Capture(url=page.url, fetched_at=_now())
        return self._retrying(self.page_write(page, capture))

    def _save(self, session: Session, page: Extracted, capture: Capture) -> SaveResult:
        connection = session.connection()
        if not page.is_article:
            fetch_id = self._add_fetch(connection, capture, outcome="not_article")
            for url in capture.redirected_from:  # an article's URL now sends readers elsewhere: maybe removed
                if canonical_url(url) != canonical_url(capture.url):
                    removals.absent(connection, url, capture.fetched_at, f"redirect to {capture.url}", fetch_id)
            return SaveResult("not_article")
        identity, claim = self._identity(connection, page, capture)
        moved = [url for url in (*capture.redirected_from, capture.url) if canonical_url(url) != identity]
        if moved:  # a redirect, or a canonical link naming another URL: did an archived article move?
            known = removals.moved_from(connection, moved, identity, page.title, fingerprint.signature(page.body))
            if known is not None:
                removals.move(connection, known, identity, capture.fetched_at, snapshot_fields)
        article = self._article_for(connection, identity, capture.fetched_at)
        if article.latest_version == 0 and claim is None:  # a new article: did a copy claim it first?
            article = self._adopt_claimant(connection, article, page, capture.fetched_at)
        latest = session.scalars(select(Snapshot).where(  # none yet for an article just inserted
            Snapshot.article_id == article.id, Snapshot.version == article.latest_version)).first() \
            if article.latest_version else None
        if latest is not None:
            page = carry_declared(page, latest.tickers)
        fields = content_fields(page)
        digest = content_sha256(fields)
        if latest is not None and latest.content_sha256 != digest:
            latest = self._attribute(session, article, latest, page.extractor_version)
        article.last_fetched_at = max(article.last_fetched_at, capture.fetched_at)
        if latest is not None and latest.content_sha256 == digest:
            if claim is not None and latest.unverified_canonical != claim:
                # The same content now names another canonical URL (a move announced by the page):
                # kept, so that the claimed page adopts this article when it arrives (_adopt_claimant).
                connection.execute(update(SNAPSHOT).where(SNAPSHOT.c.id == latest.id)
                                   .values(unverified_canonical=claim))
            fetch_id = self._add_fetch(connection, capture, outcome="unchanged", article_id=article.id)
            removals.seen(connection, article.id, capture.fetched_at, capture.url, fetch_id,
                          alias=canonical_url(capture.url) != identity)
            article.write(connection)
            return SaveResult("unchanged", article.id, latest.version, False, (), article.duplicate_of_id)
        fetch_id = self._add_fetch(connection, capture, outcome="new" if latest is None else "changed",
                                   article_id=article.id)
        version = self._add_version(connection, article, latest, page, fields, capture.fetched_at, fetch_id,
                                    raw_sha256=capture.raw_sha256, unverified_canonical=claim)
        if latest is not None:
            removals.seen(connection, article.id, capture.fetched_at, capture.url, fetch_id,
                          alias=canonical_url(capture.url) != identity)
        else:
            self._link_duplicate(connection, article, page, fields)
        article.write(connection)
        return SaveResult("new" if latest is None else "changed", article.id, version["version"], True,
                          tuple(version["changed_fields"]), article.duplicate_of_id)

    def _add_version(self, connection: Connection, article: "_ArticleRow", latest: Snapshot | None,
                     page: Extracted, fields: dict[str, Any], fetched_at: datetime, fetch_id: int | None,
                     origin: str = "fetch", raw_sha256: str | None = None,
                     unverified_canonical: str | None = None) -> dict[str, Any]:
        """Append version n+1 (`fields` = content_fields(page)) with what differs from `latest`;
        returns the row written, with its id. The article's row is written by the caller."""
        before = snapshot_fields(latest) if latest is not None else {}
        changed = () if latest is None else tuple(  # "notes" is there only when a version has some
            name for name in [*before, *(name for name in fields if name not in before)]
            if fields.get(name) != before.get(name))
        row = _snapshot(page, fields, content_sha256(fields), changed, article.id,
                        article.latest_version + 1, fetched_at, fetch_id, origin, raw_sha256)
        row["unverified_canonical"] = unverified_canonical
        row["id"] = connection.execute(_INSERT_SNAPSHOT, fitted(SNAPSHOT, row)).scalar_one()
        if fields["tickers"]:
            connection.execute(_INSERT_TICKERS, ticker_rows(row, fields["tickers"]))
        article.latest_version = row["version"]
        article.latest_counts = day_counts.keys_of(article.site, row["published_at"], fields["tickers"])
        return row

    def _attribute(self, session: Session, article: "_ArticleRow", latest: Snapshot,
                   extractor_version: str) -> Snapshot:
        """Separate what the extractor changed from what the publisher changed.

        When the latest version came from an older extractor, its raw page is read again with
        the current one; if that alone gives different content, the difference is recorded first
        as a version with origin "reextract" (same capture, same fetch time), so that the next
        version's changed_fields hold only the publisher's edits. Returns the version to compare with.
        """
        if self.reextract is None or latest.extractor_version == extractor_version or not latest.raw_sha256:
            return latest
        blob = session.get(RawPage, latest.raw_sha256)
        try:  # read as it was served: the header's charset counts (archive.extract.page.decode)
            again = self.reextract(_decompressed(blob), latest.url, content_type=blob.content_type) \
                if blob is not None else None
        except ExtractionError:
            again = None
        if again is None or not again.is_article:
            return latest
        again = carry_declared(again, latest.tickers)
        fields = content_fields(again)
        if content_sha256(fields) == latest.content_sha256:
            return latest
        row = self._add_version(session.connection(), article, latest, again, fields, latest.fetched_at, None,
                                "reextract", latest.raw_sha256)
        return session.get_one(Snapshot, row["id"])

    def reextract_article(self, article_id: int) -> SaveResult:
        """Read the latest version's raw page again with the current extractor (`archive reextract`).

        Writes a version with origin "reextract" only when the content comes out different;
        the publisher's history (origin "fetch") is never touched.
        """
        def write(session: Session) -> SaveResult:
            found = session.connection().execute(_ARTICLE_BY_ID, {"id": article_id}).first()
            if found is None:
                raise NotFound(f"no article {article_id} in the archive")
            article = _ArticleRow(*found)
            latest = session.scalars(select(Snapshot).where(
                Snapshot.article_id == article.id, Snapshot.version == article.latest_version)).one()
            current = self._attribute(session, article, latest, "")
            if current is latest:
                return SaveResult("unchanged", article.id, latest.version)
            article.write(session.connection())
            return SaveResult("reextracted", article.id, current.version, True, tuple(current.changed_fields))
        return self._retrying(write)

    def _identity(self, connection: Connection, page: Extracted, capture: Capture) -> tuple[str, str | None]:
        """The canonical URL the page is kept under, and its canonical claim when that was not accepted.

        A same-site rel=canonical is a claim, not proof: any page of the site (a comments page, a
        user's post) can name another article's URL, and taking it at its word would store that page
        as a new version of the article, as if its publisher had edited it. The claim is accepted
        when it comes from the canonical URL itself (this is its fetch, or it redirected here) or
        when the claimed article agrees: the same title, or a near-duplicate body (MinHash). A claim
        on an article not in the archive yet cannot be checked: the page keeps its own URL.
        """
        own, claimed = canonical_url(page.url), canonical_url(page.canonical_url)
        if claimed == own or claimed in {canonical_url(url) for url in capture.redirected_from}:
            return claimed, None
        _lock_claim(connection, claimed)
        found = connection.execute(_CLAIMED, {"url": claimed}).first()
        if found is not None and _agrees(page, found.title, found.minhash):
            return claimed, None
        log.info("%s claims canonical %s, which does not agree: kept under its own URL", page.url, claimed)
        return own, claimed

    def _article_for(self, connection: Connection, url: str, seen_at: datetime) -> "_ArticleRow":
        """The article for this canonical URL, inserted if new (safe against a concurrent insert)."""
        row = fitted(ARTICLE, {"canonical_url": url, "site": site_of(url), "first_seen_at": seen_at,
                               "last_fetched_at": seen_at, "latest_version": 0})
        connection.execute(_insert_or_skip(connection.dialect.name, ARTICLE, "canonical_url"), row)
        return _ArticleRow(*connection.execute(_ARTICLE_BY_URL, {"url": row["canonical_url"]}).one())

    def _adopt_claimant(self, connection: Connection, article: "_ArticleRow", page: Extracted,
                        seen_at: datetime) -> "_ArticleRow":
        """The article kept so far under another URL whose page claimed this new article's URL as its
        canonical before this URL was in the archive, when this page agrees with it (a near-duplicate
        body: a title alone could be copied): that article takes this URL, instead of a second one
        starting. `article` (just inserted, no version yet) is removed then. Else `article`."""
        _lock_claim(connection, article.canonical_url)
        claimants = connection.execute(_CLAIMANTS, {"url": article.canonical_url}).all()
        sig = fingerprint.signature(page.body) if claimants else None
        for claimant_id, minhash in claimants:
            if sig is None or minhash is None \
                    or fingerprint.similarity(sig, fingerprint.from_bytes(minhash)) < fingerprint.THRESHOLD:
                continue
            log.info("article %s, kept under another URL, claimed %s, which agrees: it takes that URL",
                     claimant_id, article.canonical_url)
            connection.execute(delete(ARTICLE).where(ARTICLE.c.id == article.id))
            old = connection.execute(select(ARTICLE.c.canonical_url, ARTICLE.c.first_seen_at, ARTICLE.c.last_fetched_at)
                                     .where(ARTICLE.c.id == claimant_id)).one()
            removals.moved(connection, claimant_id, old.canonical_url, article.canonical_url, seen_at,
                           first=old.first_seen_at, last=old.last_fetched_at, first_new=seen_at)
            connection.execute(update(SNAPSHOT).where(SNAPSHOT.c.article_id == claimant_id,
                                                      SNAPSHOT.c.unverified_canonical == article.canonical_url)
                               .values(unverified_canonical=None))  # the claim is verified now
            return _ArticleRow(*connection.execute(_ARTICLE_BY_URL, {"url": article.canonical_url}).one())
        return article

    def _link_duplicate(self, connection: Connection, article: "_ArticleRow", page: Extracted,
                        fields: dict[str, Any]) -> None:
        """Fingerprint a new article's body and link it with its near-duplicates, if any: an
        article whose body matches (MinHash) and that is the same story (archive.duplicates: the
        names and figures agree, and so does the title, the tickers, the canonical or the time).

        The original is the one published first (first seen when the times tie): a copy found
        before its original is re-linked when the original arrives.
        """
        sig = fingerprint.signature(page.body)
        if sig is None:
            return
        bands = fingerprint.band_hashes(sig)
        candidates = connection.execute(_NEAR_DUPLICATES, {"article_id": article.id, **{
            f"hash{i}": h for i, h in enumerate(bands)}}).all()
        story = duplicates.Story(page.url, article.canonical_url, fields["title"], frozenset(fields["tickers"]),
                                 page.published_at, fields["body"])
        for other_id, other_minhash, other_original in candidates:
            if other_minhash and fingerprint.similarity(sig, fingerprint.from_bytes(other_minhash)) >= fingerprint.THRESHOLD \
                    and duplicates.same_story(story, self._story(connection, other_id)):
                original = other_original or other_id
                published = connection.execute(_PUBLISHED, {"id": original}).scalar()
                if _published_before(page.published_at, published):
                    connection.execute(update(ARTICLE).where(or_(ARTICLE.c.duplicate_of_id == original,
                                                                 ARTICLE.c.id == original))
                                       .values(duplicate_of_id=article.id))
                else:
                    article.duplicate_of_id = original
                break
        article.minhash = fingerprint.to_bytes(sig)
        connection.execute(_INSERT_BANDS, [{"article_id": article.id, "band": i, "hash": h} for i, h in enumerate(bands)])

    @staticmethod
    def _story(connection: Connection, article_id: int) -> duplicates.Story:
        """What archive.duplicates compares of a stored article: its latest version's facts."""
        found = connection.execute(_STORY, {"id": article_id}).one()
        return duplicates.Story(found.url, found.canonical_url, found.title,
                                frozenset(t["symbol"] for t in found.tickers or ()), found.published_at, found.body)

    def _add_fetch(self, connection: Connection, capture: Capture, *, outcome: str, article_id: int | None = None,
                   error: str | None = None, store_raw: bool = True) -> int:
        """Record one fetch (and keep its raw page, once per distinct body); returns the fetch's id."""
        sha = capture.raw_sha256
        if sha is not None and store_raw:
            self._keep_raw(connection, sha, capture)
        return connection.execute(_INSERT_FETCH, fitted(FETCH, {
            "crawl_id": capture.crawl_id, "url": capture.url, "fetched_at": capture.fetched_at,
            "status": capture.status, "etag": capture.etag, "last_modified": capture.last_modified,
            "raw_sha256": sha, "article_id": article_id, "outcome": outcome, "error": error,
            "headers": [list(pair) for pair in capture.headers] if capture.headers else None})).scalar_one()

    def _keep_raw(self, connection: Connection, sha: str, capture: Capture) -> None:
        assert capture.raw is not None
        connection.execute(_insert_or_skip(connection.dialect.name, RAW, "sha256"),
                           fitted(RAW, {"sha256": sha, "size": len(capture.raw), "content_type": capture.content_type,
                                        "zstd": self._compressor.compress(capture.raw)}))

    def raw(self, sha256: str) -> bytes | None:
        """The bytes of a stored page, decompressed."""
        with Session(self.engine) as session:
            blob = session.get(RawPage, sha256)
            return _decompressed(blob) if blob is not None else None

    def _retrying(self, write: Callable[[Session], T], attempts: int = 5) -> T:
        """Run one write transaction, retrying when a concurrent writer won a race or held a lock.

        Every database failure leaves as ArchiveError (the transaction rolled back, nothing half
        written): a full disk, a lock held longer than the busy timeout, a lost connection.
        """
        for attempt in range(1, attempts + 1):
            try:
                with Session(self.writer, expire_on_commit=False) as session, session.begin(), \
                        day_counts.deferred(session.connection()):
                    return write(session)
            except SQLAlchemyError as exc:
                if _refused(exc):
                    raise RefusedWrite(f"database refused a value: {_reason(exc)}") from exc
                if not isinstance(exc, (IntegrityError, OperationalError)):
                    raise ArchiveError(f"database write failed: {_reason(exc)}") from exc
                if attempt == attempts or not _retryable(exc) or (attempt >= 2 and _waited_for_lock(exc)):
                    raise ArchiveError(f"database write failed: {_reason(exc)}") from exc
                log.warning("write conflict (%s), retrying %d/%d", _reason(exc), attempt, attempts)
                time.sleep(0.05 * attempt)
            except UnicodeError as exc:  # text the driver cannot encode (a lone surrogate): not wrapped by SQLAlchemy
                raise RefusedWrite(f"database refused a value: {exc}") from exc
        raise AssertionError("unreachable")


def _refused(exc: SQLAlchemyError) -> bool:
    """Whether the database refused a value of the write (it would refuse it again), rather than
    failing as a whole (locked, full, gone): SQLSTATE class 22 (data exception: a value too long, a
    NUL), 54 (program limit: an index row too large), or a value the driver could not send."""
    if isinstance(exc, DataError):
        return True
    if isinstance(exc, StatementError) and not isinstance(exc, DBAPIError):
        return True  # raised while binding parameters, before the database saw the statement
    state = getattr(getattr(exc, "orig", None), "sqlstate", None) or ""
    return state.startswith(("22", "54"))


def url_too_long(url: str) -> str:
    """The error recorded for a page at a URL the archive cannot keep (its fetch row holds the URL cut)."""
    return (f"url_too_long: a URL of {len(url.encode('utf-8', 'surrogatepass')):,} bytes; "
            f"the archive keeps URLs up to {MAX_URL_BYTES:,}")


#: Columns whose value is dropped, not cut, when it is too long: a validator cut short is a wrong one
#: (the next fetch of the page is then unconditional, which is harmless).
_DROPPED_WHEN_TOO_LONG = frozenset({"etag", "last_modified"})
_URL_COLUMNS = frozenset({"url", "canonical_url"})


@lru_cache(maxsize=None)
def _limits(table: Table) -> dict[str, int]:
    """The length limit of each bounded text column of `table` (VARCHAR(n): PostgreSQL enforces it)."""
    return {column.name: column.type.length for column in table.columns
            if isinstance(getattr(column.type, "length", None), int)}


def fitted(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """`row` made storable the same way on SQLite and PostgreSQL: text without NUL characters
    (PostgreSQL refuses them) and no longer than its column (SQLite would keep it, PostgreSQL refuse
    it). Over-long values come from other people's servers (a 40-character <html lang>, a 1,000-
    character ETag) and are cut at the column's length, or dropped for validators. URLs are never
    cut here for identity: a page at an over-long URL is refused first (`url_too_long`)."""
    limits = _limits(table)
    for name, value in row.items():
        if not isinstance(value, str):
            continue
        if "\x00" in value:
            value = row[name] = value.replace("\x00", "")
        limit = limits.get(name)
        if limit is not None and (len(value) > limit or (name in _URL_COLUMNS and too_long(value))):
            row[name] = None if name in _DROPPED_WHEN_TOO_LONG else _cut(value, limit, name)
    return row


def _cut(value: str, limit: int, name: str) -> str:
    """`value` cut to `limit` characters; a URL also to MAX_URL_BYTES bytes of UTF-8 (its index's bound)."""
    value = value[:limit]
    if name in _URL_COLUMNS:
        value = value.encode("utf-8", "surrogatepass")[:MAX_URL_BYTES].decode("utf-8", "ignore")
    return value


def _reason(exc: SQLAlchemyError) -> str:
    return " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]


def ticker_rows(row: dict[str, Any], symbols: Sequence[str]) -> list[dict[str, Any]]:
    """snapshot_ticker's rows for a version's row: each symbol, with the version's date beside it
    (the ticker index answers a ticker in a date window)."""
    return [{"snapshot_id": row["id"], "symbol": s, "published_at": row["published_at"]} for s in symbols]


def _agrees(page: Extracted, title: str | None, minhash: bytes | None) -> bool:
    """Whether `page` is the same story as an article whose latest title is `title` and whose body
    fingerprint is `minhash`: the same title (case and spacing aside), or a near-duplicate body."""
    if title and page.title and " ".join(title.split()).casefold() == " ".join(page.title.split()).casefold():
        return True
    if minhash is None:
        return False
    sig = fingerprint.signature(page.body)
    return sig is not None and fingerprint.similarity(sig, fingerprint.from_bytes(minhash)) >= fingerprint.THRESHOLD


def _lock_claim(connection: Connection, url: str) -> None:
    """On PostgreSQL, hold a lock on claims to `url` until the transaction ends: a page claiming it
    (`_identity`) and the page at it starting its article (`_adopt_claimant`) must each see the
    other's write, or two concurrent crawls keep the copy and the original as two articles. Each
    statement after the lock reads what the other committed. SQLite has one writer at a time."""
    if connection.dialect.name == "postgresql":
        connection.execute(_CLAIM_LOCK, {"url": url})


def _published_before(new: datetime | None, existing: datetime | None) -> bool:
    return new is not None and existing is not None and new < existing


#: Articles sharing a band hash with the new one (band i's hash bound as :hash{i}): built once,
#: since building sixteen (band, hash) conditions for every new article cost more than running them.
_NEAR_DUPLICATES = (
    select(ARTICLE.c.id, ARTICLE.c.minhash, ARTICLE.c.duplicate_of_id).join(BAND, BAND.c.article_id == ARTICLE.c.id)
    .where(ARTICLE.c.id != bindparam("article_id"), or_(*(
        and_(BAND.c.band == i, BAND.c.hash == bindparam(f"hash{i}")) for i in range(fingerprint.BANDS))))
    .distinct().order_by(ARTICLE.c.id))
#: The publication time of an article's latest version (bound as :id).
_PUBLISHED = select(SNAPSHOT.c.published_at).join(ARTICLE, and_(
    ARTICLE.c.id == SNAPSHOT.c.article_id, ARTICLE.c.latest_version == SNAPSHOT.c.version)).where(
    ARTICLE.c.id == bindparam("id"))
#: The facts of an article's latest version that archive.duplicates compares (bound as :id).
_STORY = select(SNAPSHOT.c.url, ARTICLE.c.canonical_url, SNAPSHOT.c.title, SNAPSHOT.c.tickers, SNAPSHOT.c.published_at,
                SNAPSHOT.c.body).join(ARTICLE, and_(ARTICLE.c.id == SNAPSHOT.c.article_id,
                                                    ARTICLE.c.latest_version == SNAPSHOT.c.version)).where(
    ARTICLE.c.id == bindparam("id"))
#: The latest title and the body fingerprint of the article at a canonical URL (bound as :url).
_CLAIMED = select(ARTICLE.c.minhash, SNAPSHOT.c.title).outerjoin(SNAPSHOT, and_(
    ARTICLE.c.id == SNAPSHOT.c.article_id, ARTICLE.c.latest_version == SNAPSHOT.c.version)).where(
    ARTICLE.c.canonical_url == bindparam("url"))
#: A transaction-scoped PostgreSQL advisory lock per claimed URL (a key space of its own: two int4 keys).
_CLAIM_LOCK = text("SELECT pg_advisory_xact_lock(1634890601, hashtext(:url))")
#: Articles with a version that claimed the canonical URL bound as :url without it being accepted.
_CLAIMANTS = select(ARTICLE.c.id, ARTICLE.c.minhash).join(SNAPSHOT, SNAPSHOT.c.article_id == ARTICLE.c.id).where(
    SNAPSHOT.c.unverified_canonical == bindparam("url")).distinct().order_by(ARTICLE.c.id)
_ARTICLE_ROW = select(ARTICLE.c.id, ARTICLE.c.latest_version, ARTICLE.c.last_fetched_at, ARTICLE.c.duplicate_of_id,
                      ARTICLE.c.canonical_url, ARTICLE.c.site)
_ARTICLE_BY_URL = _ARTICLE_ROW.where(ARTICLE.c.canonical_url == bindparam("url")).with_for_update()
_ARTICLE_BY_ID = _ARTICLE_ROW.where(ARTICLE.c.id == bindparam("id")).with_for_update()
_SEEN_AT = update(ARTICLE).where(ARTICLE.c.id == bindparam("article_id")).values(last_fetched_at=bindparam("at"))
_INSERT_FETCH = insert(FETCH).returning(FETCH.c.id)
#: The last successful fetch of a URL (bound as :url) that kept its bytes / that any validators came from.
_LAST_RAW = select(FETCH.c.id, FETCH.c.article_id, FETCH.c.raw_sha256).where(
    FETCH.c.url == bindparam("url"), FETCH.c.outcome != "error", FETCH.c.raw_sha256.is_not(None)) \
    .order_by(FETCH.c.id.desc()).limit(1)
_SITE_OFFSETS = select(SNAPSHOT.c.published_offset_min).join(ARTICLE, ARTICLE.c.id == SNAPSHOT.c.article_id).where(
    ARTICLE.c.site == bindparam("site"), SNAPSHOT.c.published_precision == "datetime",
    SNAPSHOT.c.published_offset_min.is_not(None)).order_by(SNAPSHOT.c.id.desc()).limit(200)
_LAST_VALIDATORS = select(FETCH.c.article_id, FETCH.c.etag, FETCH.c.last_modified, FETCH.c.fetched_at).where(
    FETCH.c.url == bindparam("url"), FETCH.c.outcome != "error").order_by(FETCH.c.id.desc()).limit(1)
_INSERT_SNAPSHOT = insert(SNAPSHOT).returning(SNAPSHOT.c.id)
_INSERT_TICKERS, _INSERT_BANDS = insert(TICKER), insert(BAND)
_UPDATE_ARTICLE = update(ARTICLE).where(ARTICLE.c.id == bindparam("article_id")).values(
    latest_version=bindparam("latest_version"), last_fetched_at=bindparam("last_fetched_at"),
    duplicate_of_id=bindparam("duplicate_of_id"))
_UPDATE_ARTICLE_AND_MINHASH = _UPDATE_ARTICLE.values(minhash=bindparam("minhash"))


@dataclass
class _ArticleRow:
    """An article's row as one write reads and changes it, written back once at the end (`write`)."""

    id: int
    latest_version: int
    last_fetched_at: datetime
    duplicate_of_id: int | None
    canonical_url: str
    site: str
    minhash: bytes | None = None  # set when the write fingerprinted the body
    #: What the version written last adds to the day counts (day_counts.keys_of), set with it.
    latest_counts: Counter[day_counts.Key] | None = None

    def __post_init__(self) -> None:
        self.read_version = self.latest_version  # the current version as read: day_counts moves from it

    def write(self, connection: Connection) -> None:
        day_counts.switched(connection, self.id, self.read_version, self.latest_version, self.latest_counts)
        self.read_version = self.latest_version
        values = {"article_id": self.id, "latest_version": self.latest_version,
                  "last_fetched_at": self.last_fetched_at, "duplicate_of_id": self.duplicate_of_id}
        if self.minhash is None:
            connection.execute(_UPDATE_ARTICLE, values)
        else:
            connection.execute(_UPDATE_ARTICLE_AND_MINHASH, {**values, "minhash": self.minhash})


def _waited_for_lock(exc: Exception) -> bool:
    """SQLite's "database is locked" comes after the whole busy timeout was spent waiting (writes
    begin IMMEDIATE): one more try is worth it, five are not; the caller may retry later."""
    return "database is locked" in str(getattr(exc, "orig", exc))


def _retryable(exc: Exception) -> bool:
    text = str(exc.orig if hasattr(exc, "orig") else exc).lower()
    return isinstance(exc, IntegrityError) or any(
        word in text for word in ("locked", "busy", "serializ", "deadlock"))


def _snapshot(page: Extracted, fields: dict[str, Any], digest: str, changed: tuple[str, ...], article_id: int,
              version: int, fetched_at: datetime, fetch_id: int | None, origin: str,
              raw_sha256: str | None) -> dict[str, Any]:
    """The snapshot row of a version (without its id)."""
    def offset(value: datetime | None) -> int | None:
        delta = value.utcoffset() if value else None
        return int(delta.total_seconds() // 60) if delta is not None else None
    return dict(
        article_id=article_id, version=version, fetched_at=fetched_at, fetch_id=fetch_id,
        raw_sha256=raw_sha256, url=page.url, origin=origin, content_sha256=digest, changed_fields=list(changed),
        title=fields["title"], authors=fields["authors"], ai_generated=page.ai_generated,
        published_at=page.published_at, published_offset_min=offset(page.published_at),
        published_precision=page.published.precision if page.published else None,
        updated_at=page.updated_at, updated_offset_min=offset(page.updated_at),
        updated_precision=page.updated.precision if page.updated else None,
        site_name=page.site_name, language=page.language, description=page.description,
        tickers=[t.as_dict() for t in page.tickers], body=fields["body"], word_count=page.word_count,
        paywalled=page.paywalled, extractor_version=page.extractor_version, notes=fields.get("notes"))


@lru_cache(maxsize=None)
def _insert_or_skip(dialect: str, table: Table, key: str) -> Insert:
    """INSERT ... ON CONFLICT (key) DO NOTHING, in the dialect's words, built once per table."""
    insert_of = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert_of(table).on_conflict_do_nothing(index_elements=[key])


def _decompressed(blob: RawPage) -> bytes:
    return zstandard.ZstdDecompressor().decompress(blob.zstd)


def _now() -> datetime:
    return datetime.now(timezone.utc)
