"""WARC (ISO 28500) out and in: captures that replay in pywb, and collections imported without re-crawling.

Export writes, for every stored capture (a fetch with its raw page) of the selected articles, a
request record, a response record (status line and headers, raw body, WARC-Date = fetch time,
payload digest) and a metadata record holding the extraction result of that capture.

Import reads response records (gzip multi-member, streamed) through the same extraction,
dedup and versioning as a crawl, with WARC-Date as the fetch time. A capture already in the
archive (same URL, time and bytes) is skipped, so importing a file twice adds nothing.
Revisit records ("identical payload") are recorded as fetches of unchanged content.

Imported records get the crawler's limits: a body over MAX_PAGE_BYTES (after HTTP decompression)
is recorded as too_large and skipped, read no further than the limit; a record whose WARC-Date is
unreadable or in the future is skipped alone. A file that is not a WARC (ARC, /dev/zero) is refused
before warcio reads it: warcio looks for a header line, and in a file without one read for ever.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date, iso_date_to_datetime
from warcio.warcwriter import WARCWriter

from archive.errors import ExtractionError, RefusedWrite
from archive.limits import MAX_CLOCK_SKEW, MAX_PAGE_BYTES
from archive.models import Article, Fetch, RawPage, Snapshot
from archive.query import Filters, filtered
from archive.records import row
from archive.store import ArchiveStore, Capture
from archive.urls import site_of, storable_url

log = logging.getLogger(__name__)
SOFTWARE = "commentary-archive"
REASONS = {200: "OK", 203: "Non-Authoritative Information", 301: "Moved Permanently", 302: "Found",
           304: "Not Modified", 404: "Not Found", 410: "Gone", 500: "Internal Server Error"}


# -- export ---------------------------------------------------------------------------------------

def captures(engine: Engine, filters: Filters) -> Iterator[tuple[Fetch, RawPage, Snapshot | None]]:
    """Every fetch with a stored raw page of the articles matching the filters, oldest first."""
    articles = filtered(select(Article.id).join(Snapshot, Snapshot.article_id == Article.id)
                        .where(Snapshot.version == Article.latest_version), filters)
    stmt = (select(Fetch, RawPage, Snapshot)
            .join(RawPage, RawPage.sha256 == Fetch.raw_sha256)
            .outerjoin(Snapshot, Snapshot.fetch_id == Fetch.id)
            .where(Fetch.article_id.in_(articles.scalar_subquery()))
            .order_by(Fetch.fetched_at, Fetch.id))
    with Session(engine) as session:
        for fetch, raw, snapshot in session.execute(stmt.execution_options(yield_per=200)):
            yield fetch, raw, snapshot


def export_warc(engine: Engine, filters: Filters, output: BinaryIO) -> int:
    """Write the captures as gzipped WARC; returns how many response records were written."""
    import zstandard
    writer = WARCWriter(output, gzip=True, warc_version="1.1")
    writer.write_record(writer.create_warcinfo_record("archive-export.warc.gz", {
        "software": SOFTWARE, "format": "WARC File Format 1.1",
        "description": "captures from a commentary archive; metadata records hold extraction results"}))
    decompressor = zstandard.ZstdDecompressor()
    written = 0
    with Session(engine) as session:
        for fetch, raw, snapshot in captures(engine, filters):
            body = decompressor.decompress(raw.zstd)
            date = datetime_to_iso_date(fetch.fetched_at.astimezone(timezone.utc).replace(tzinfo=None), use_micros=True)
            headers = _http_headers(fetch, raw, len(body))
            response = writer.create_warc_record(
                fetch.url, "response", payload=io.BytesIO(body), length=len(body), http_headers=headers,
                warc_headers_dict={"WARC-Date": date})
            request = writer.create_warc_record(
                fetch.url, "request", http_headers=_request_headers(fetch.url),
                warc_headers_dict={"WARC-Date": date,
                                   "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID")})
            writer.write_record(response)
            writer.write_record(request)
            writer.write_record(_metadata(writer, session, fetch, snapshot, response, date))
            written += 1
    return written


#: Headers that described the bytes on the wire, not the (decoded) body the archive keeps.
_WIRE = {"content-length", "content-encoding", "transfer-encoding"}


def _http_headers(fetch: Fetch, raw: RawPage, length: int) -> StatusAndHeaders:
    """The response's status line and its headers as served (recorded since migration 0004).

    The body is stored decoded, so Content-Encoding and Transfer-Encoding are left out and
    Content-Length is that of the stored body. Older fetches have only type and validators.
    """
    status = fetch.status or 200
    if fetch.headers:
        headers = [(name, value) for name, value in fetch.headers if name.lower() not in _WIRE]
    else:
        headers = [("Content-Type", raw.content_type or "text/html")]
        headers += [(n, v) for n, v in (("ETag", fetch.etag), ("Last-Modified", fetch.last_modified)) if v]
    headers.append(("Content-Length", str(length)))
    return StatusAndHeaders(f"{status} {REASONS.get(status, 'OK')}", headers, protocol="HTTP/1.1")


def _request_headers(url: str) -> StatusAndHeaders:
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return StatusAndHeaders(f"GET {target} HTTP/1.1", [("Host", parts.netloc), ("User-Agent", SOFTWARE)],
                            is_http_request=True)


def _metadata(writer: WARCWriter, session: Session, fetch: Fetch, snapshot: Snapshot | None,
              response, date: str):  # type: ignore[no-untyped-def]
    """The extraction result of this capture (the version it made, or how it was judged)."""
    content: dict[str, object] = {"outcome": fetch.outcome, "article_id": fetch.article_id}
    if snapshot is not None:
        article = session.get(Article, snapshot.article_id)
        assert article is not None
        content["version"] = {k: v for k, v in row(snapshot, article).items() if k != "body"}
    payload = json.dumps(content, ensure_ascii=False, default=str).encode()
    return writer.create_warc_record(
        fetch.url, "metadata", payload=io.BytesIO(payload), length=len(payload),
        warc_content_type="application/json",
        warc_headers_dict={"WARC-Date": date,
                           "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID")})


# -- import ---------------------------------------------------------------------------------------

@dataclass
class ImportReport:
    """What an import did, by outcome (new, changed, unchanged, same_raw, not_article, error, skipped...)."""

    counts: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


def import_warc(store: ArchiveStore, paths: list[Path], *, sites: tuple[str, ...] = (),
                since: datetime | None = None, extract: Callable | None = None,
                progress: Callable[[int], None] | None = None) -> ImportReport:
    """Import response and revisit records from WARC files; a broken file is reported, what came before kept."""
    if extract is None:
        from archive.extract import extract
    report = ImportReport()
    for path in paths:
        try:
            refusal = not_a_warc(path)
            if refusal is not None:
                report.counts["not_warc"] += 1
                report.errors.append(f"{path}: {refusal}")  # the caller says it: one line
                continue
            with open(path, "rb") as stream:
                for record in ArchiveIterator(stream):
                    outcome = _import_record(store, record, sites, since, extract)
                    report.counts[outcome] += 1
                    if progress and outcome != "ignored":
                        progress(sum(report.counts.values()) - report.counts["ignored"])
        except (ArchiveLoadFailed, EOFError, OSError, ValueError) as exc:
            report.counts["broken"] += 1
            report.errors.append(f"{path}: stopped at a broken record ({type(exc).__name__}: {exc}); "
                                 "everything before it was imported")
            log.warning("%s", report.errors[-1])
    return report


#: How a file begins: a WARC record, or an ARC file's first record (filedesc://...).
_WARC_START, _ARC_START = b"WARC/", b"filedesc://"


def not_a_warc(path: Path) -> str | None:
    """Why `path` is not read as a WARC (plain or gzip-compressed), from its first bytes; None if it is one."""
    with open(path, "rb") as stream:
        head = stream.read(4096)
    if head.startswith(b"\x1f\x8b"):
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 64)
        except zlib.error:
            return "not a WARC file (a gzip file that does not decompress)"
    if head.lstrip(b"\r\n").startswith(_WARC_START):
        return None
    if head.startswith(_ARC_START):
        return "an ARC file: ARC (the WARC's predecessor) is not supported; convert it to WARC first"
    return f"not a WARC file (it begins {head[:16]!r}, not with a WARC/1.x record)"


def warc_date(record) -> datetime:  # type: ignore[no-untyped-def]
    """The record's WARC-Date in UTC; ValueError when missing, unreadable or in the future."""
    value = record.rec_headers.get_header("WARC-Date")
    try:
        when = iso_date_to_datetime(value).replace(tzinfo=timezone.utc)
    except (ValueError, TypeError, AttributeError, IndexError, OverflowError):
        raise ValueError(f"unreadable WARC-Date {str(value)[:64]!r}") from None
    if when > datetime.now(timezone.utc) + MAX_CLOCK_SKEW:
        raise ValueError(f"WARC-Date {value} is in the future")
    return when


def _import_record(store: ArchiveStore, record, sites: tuple[str, ...], since: datetime | None,  # type: ignore[no-untyped-def]
                   extract: Callable) -> str:
    if record.rec_type not in ("response", "revisit") or record.http_headers is None:
        return "ignored"
    url = storable_url(record.rec_headers.get_header("WARC-Target-URI") or "")  # a NUL as %00, as a browser would
    if not url.startswith(("http://", "https://")):
        return "ignored"
    content_type = (record.http_headers.get_header("Content-Type") or "").lower()
    if "html" not in content_type:
        return "not_html"
    if sites and site_of(url) not in {s.lower().removeprefix("www.") for s in sites}:
        return "skipped_site"
    try:  # a bad value in one record's headers skips that record, not the rest of its file
        fetched_at = warc_date(record)
        status = int(record.http_headers.get_statuscode() or 0) or None
    except (ValueError, TypeError) as exc:
        log.warning("skipped the record for %s: %s", url[:300], exc)
        return "bad_record"
    if since and fetched_at < since:
        return "skipped_date"
    capture = dict(url=url, fetched_at=fetched_at, status=status, content_type=content_type,
                   etag=record.http_headers.get_header("ETag"),
                   last_modified=record.http_headers.get_header("Last-Modified"),
                   headers=tuple((name, value) for name, value in record.http_headers.headers))
    if record.rec_type == "revisit":
        return _import_revisit(store, Capture(**capture))
    body = record.content_stream().read(MAX_PAGE_BYTES + 1)  # no further: the rest is skipped in chunks
    if len(body) > MAX_PAGE_BYTES:
        if _already_recorded(store, url, fetched_at):
            return "already_imported"
        store.save_error(Capture(**capture), f"too_large: the record's body is over {MAX_PAGE_BYTES} bytes")
        log.warning("skipped the record for %s: its body is over %d bytes", url[:300], MAX_PAGE_BYTES)
        return "too_large"
    if getattr(record.raw_stream, "limit", 0) > 0:  # the file ended inside this record
        raise EOFError(f"record for {url} is cut short: {record.raw_stream.limit} of {record.length} bytes missing")
    sha = hashlib.sha256(body).hexdigest()
    if _already_imported(store, url, fetched_at, sha):
        return "already_imported"
    cap = Capture(raw=body, **capture)
    if status != 200:
        return store.save_error(cap, f"http_{status}: HTTP {status} in the WARC").outcome
    if (previous := store.seen_raw(url, sha)) is not None:
        return store.save_same_raw(cap, previous).outcome
    try:
        page = extract(body, url, content_type=content_type)
    except ExtractionError as exc:
        return store.save_error(cap, f"{exc.kind}: {exc}").outcome
    try:
        return store.save(page, cap).outcome
    except RefusedWrite as exc:  # one record's value the database cannot hold: that record only
        log.warning("the database refused the record for %s: %s", url, exc)
        return store.save_error(Capture(**capture), f"db_refused: {exc}").outcome


def _import_revisit(store: ArchiveStore, capture: Capture) -> str:
    """An identical-payload revisit: the URL served the same content as its last capture."""
    with Session(store.engine) as session:
        previous = session.scalars(select(Fetch).where(Fetch.url == capture.url, Fetch.outcome != "error")
                                   .order_by(Fetch.fetched_at.desc()).limit(1)).first()
        if previous is None:
            return "revisit_unresolved"
        done = session.scalar(select(Fetch.id).where(Fetch.url == capture.url, Fetch.fetched_at == capture.fetched_at,
                                                     Fetch.outcome == "same_raw"))
    if done is not None:
        return "already_imported"
    return store.save_same_raw(capture, previous).outcome


def _already_recorded(store: ArchiveStore, url: str, fetched_at: datetime) -> bool:
    """Whether a capture of `url` at `fetched_at` was already recorded as too large."""
    with Session(store.engine) as session:
        return session.scalar(select(Fetch.id).where(Fetch.url == url, Fetch.fetched_at == fetched_at,
                                                     Fetch.error.like("too_large:%")).limit(1)) is not None


def _already_imported(store: ArchiveStore, url: str, fetched_at: datetime, sha: str) -> bool:
    with Session(store.engine) as session:
        return session.scalar(select(Fetch.id).where(Fetch.url == url, Fetch.fetched_at == fetched_at,
                                                     Fetch.raw_sha256 == sha).limit(1)) is not None

