"""Export: one record per version with a stable, documented schema (docs/export-schema.json).

Rows stream from the database in batches (plain columns, not ORM objects) and are written as
they come, so an export of millions of versions runs in constant memory. Three formats:
JSON lines (the reference form), CSV (flat: lists joined with "; ", tickers as symbols, no body
unless asked for) and Parquet (needs the optional `parquet` extra, pyarrow).
"""

from __future__ import annotations

import csv
import queue
import threading
from datetime import datetime, timedelta, timezone
from typing import IO, Any, Callable, Iterable, Iterator, TextIO, TypeVar

import orjson
from sqlalchemy import DateTime, Engine, Text, cast, func, null, type_coerce

from archive.errors import BadInput
from archive.models import Article, Snapshot
from archive.query import Filters, reading, select_versions

__all__ = ["SCHEMA_VERSION", "FORMATS", "CSV_COLUMNS", "row", "local_time", "export_rows", "write_jsonl",
           "write_csv", "write_parquet", "write", "format_for", "csv_columns"]

SCHEMA_VERSION = 2  # 2: adds `origin`
FORMATS = ("jsonl", "csv", "parquet", "warc")

#: CSV columns, in order: every JSONL field except the nested or long ones (body comes last, on request).
CSV_COLUMNS = ("article_id", "version", "url", "canonical_url", "site", "site_name", "fetched_at", "first_seen_at",
               "title", "authors", "ai_generated", "published_at", "published_precision", "updated_at", "tickers",
               "language", "description", "word_count", "paywalled", "content_sha256", "raw_sha256",
               "changed_fields", "duplicate_of", "origin", "extractor_version", "schema_version")
CSV_LIST_SEPARATOR = "; "


def local_time(value: datetime | None, offset_min: int | None = None, precision: str | None = None) -> str | None:
    """The stored UTC time shown with the publisher's own offset; the UTC date alone when no time was given.

    `value` is aware (the models') or naive UTC (as SQLite's driver reads it for export_rows,
    which skips the models' conversion: with astimezone per field, a fifth of an export's time).
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


def row(snapshot: Any, article: Any) -> dict[str, Any]:
    """The export form of one version of one article (ORM objects, or one plain row given twice)."""
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
        "origin": snapshot.origin,
        "extractor_version": snapshot.extractor_version,
        "schema_version": SCHEMA_VERSION,
    }


_SNAPSHOT_COLUMNS = ("version", "url", "site_name", "fetched_at", "title", "authors", "ai_generated",
                     "published_at", "published_offset_min", "published_precision", "updated_at",
                     "updated_offset_min", "updated_precision", "tickers", "language", "description",
                     "word_count", "paywalled", "content_sha256", "raw_sha256", "changed_fields", "origin",
                     "extractor_version")


#: Read as JSON text and decoded with orjson: json.loads was a fifth of an export's time.
_JSON_COLUMNS = ("authors", "tickers", "changed_fields")


#: Read as naive UTC (as SQLite's driver gives them; PostgreSQL is asked for them so) and written by
#: local_time: the models' aware-UTC conversion and astimezone were a fifth of an export's time.
_TIME_COLUMNS = ("fetched_at", "published_at", "updated_at")


def _columns(with_body: bool, dialect: str) -> list[Any]:
    columns = [Article.id, Article.canonical_url, Article.site, _naive_utc(Article.first_seen_at, dialect),
               Article.duplicate_of_id]
    columns += [_snapshot_column(name, dialect) for name in _SNAPSHOT_COLUMNS]
    return columns + [Snapshot.body if with_body else null().label("body")]


def _snapshot_column(name: str, dialect: str) -> Any:
    column = getattr(Snapshot, name)
    if name in _JSON_COLUMNS:
        return cast(column, Text).label(name)
    if name in _TIME_COLUMNS:
        return _naive_utc(column, dialect).label(name)
    return column


def _naive_utc(column: Any, dialect: str) -> Any:
    """The time as a naive UTC datetime: SQLite stores it so; PostgreSQL converts its timestamptz."""
    if dialect == "postgresql":
        return type_coerce(func.timezone("UTC", column), DateTime())
    return type_coerce(column, DateTime())


def export_rows(engine: Engine, filters: Filters, *, all_versions: bool = False, with_body: bool = True,
                batch: int = 2000) -> Iterator[dict[str, Any]]:
    """Matching versions in article then version order, streamed a batch at a time.

    Without `with_body` the body is not read at all (it is most of the bytes) and rows carry None.
    The same records as `row` gives for ORM objects, built straight from plain tuples (no ORM
    loading, no per-row namespace): at a few microseconds per version this is what lets an
    export of every version run at well over 20,000 lines/s on PostgreSQL as on SQLite.
    """
    stmt = (select_versions(_columns(with_body, engine.dialect.name), filters, all_versions=all_versions)
            .order_by(Article.id, Snapshot.version))
    loads = orjson.loads
    with engine.connect() as connection:
        result = reading(connection.execution_options(stream_results=True, yield_per=batch).execute, stmt)
        if engine.dialect.name == "postgresql":
            result = read_ahead(result, batch)
        for (article_id, canonical_url, site, first_seen_at, duplicate_of_id, version, url, site_name, fetched_at,
             title, authors, ai_generated, published_at, published_offset_min, published_precision, updated_at,
             updated_offset_min, updated_precision, tickers, language, description, word_count, paywalled,
             content_sha256, raw_sha256, changed_fields, origin, extractor_version, body) in result:
            yield {  # the keys and order of `row`
                "article_id": article_id,
                "version": version,
                "url": url,
                "canonical_url": canonical_url,
                "site": site,
                "site_name": site_name,
                "fetched_at": local_time(fetched_at),
                "first_seen_at": local_time(first_seen_at),
                "title": title,
                "authors": loads(authors),
                "ai_generated": ai_generated,
                "published_at": local_time(published_at, published_offset_min, published_precision),
                "published_precision": published_precision,
                "updated_at": local_time(updated_at, updated_offset_min, updated_precision),
                "tickers": loads(tickers),
                "language": language,
                "description": description,
                "body": body,
                "word_count": word_count,
                "paywalled": paywalled,
                "content_sha256": content_sha256,
                "raw_sha256": raw_sha256,
                "changed_fields": loads(changed_fields),
                "duplicate_of": duplicate_of_id,
                "origin": origin,
                "extractor_version": extractor_version,
                "schema_version": SCHEMA_VERSION,
            }


T = TypeVar("T")


def read_ahead(rows: Iterable[T], batch: int, depth: int = 2) -> Iterator[T]:
    """The rows, read by a thread up to `depth` batches ahead of the caller.

    PostgreSQL streams an export through a server-side cursor, one batch per round trip: the
    server waited while this process formatted a batch, and this process waited while the server
    read the next one (half an export's time). A thread that fetches the next batch meanwhile
    (the driver waits for the network without the GIL) overlaps the two; memory stays bounded by
    `depth` batches. Stopping early (the caller closes this generator) stops the thread.
    """
    batches: queue.Queue[list[T] | BaseException | None] = queue.Queue(maxsize=depth)
    stopped = threading.Event()

    def put(item: list[T] | BaseException | None) -> bool:
        while not stopped.is_set():
            try:
                batches.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def fetch() -> None:
        try:
            pending: list[T] = []
            for item in rows:
                pending.append(item)
                if len(pending) >= batch:
                    if not put(pending):
                        return
                    pending = []
            if put(pending):
                put(None)
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            put(exc)

    reader = threading.Thread(target=fetch, name="export-read-ahead", daemon=True)
    reader.start()
    try:
        while (got := batches.get()) is not None:
            if isinstance(got, BaseException):
                raise got
            yield from got
    finally:
        stopped.set()
        reader.join()


# -- writers --------------------------------------------------------------------------------------
def write_jsonl(rows: Iterator[dict[str, Any]], output: TextIO) -> int:
    """Write rows as JSON lines (UTF-8, compact); returns how many were written.

    orjson rather than json: on article bodies it is what lets an export exceed 20,000 lines/s.
    Its UTF-8 bytes go straight to a text file's binary buffer when it has one (after flushing
    what was written as text before), rather than decoded to be encoded again.
    """
    dumps, option = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    binary = getattr(output, "buffer", None)
    if binary is not None and (getattr(output, "encoding", "") or "").lower().replace("-", "") == "utf8":
        output.flush()
        write: Callable[[bytes], Any] = binary.write
    else:
        def write(data: bytes) -> None:
            output.write(data.decode())
    # Lines are written a megabyte at a time: a line is a few kilobytes, about a file buffer's
    # size, so written one by one nearly every line cost a system call (half an export's time).
    written, pending, size = 0, [], 0
    for item in rows:
        line = dumps(item, option=option)
        pending.append(line)
        size += len(line)
        written += 1
        if size >= _WRITE_CHUNK:
            write(b"".join(pending))
            pending, size = [], 0
    if pending:
        write(b"".join(pending))
    return written


_WRITE_CHUNK = 1 << 20


def csv_columns(with_body: bool) -> tuple[str, ...]:
    return CSV_COLUMNS + (("body",) if with_body else ())


def csv_cell(name: str, value: Any) -> Any:
    """One flat CSV value: lists joined, tickers by symbol, booleans as true/false, None as empty."""
    if value is None:
        return ""
    if name == "tickers":
        return CSV_LIST_SEPARATOR.join(t["symbol"] for t in value)
    if isinstance(value, list):
        return CSV_LIST_SEPARATOR.join(map(str, value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


#: What a spreadsheet reads as the start of a formula (OWASP's CSV injection list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse_formula(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula ("=HYPERLINK(...)", "+1+cmd|...",
    "@SUM(...)") with a "'" in front, so it shows as text; other values as they are."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def write_csv(rows: Iterator[dict[str, Any]], output: TextIO, *, with_body: bool = False, raw: bool = False) -> int:
    """Write rows as CSV with a header (columns: csv_columns); returns how many rows were written.

    Titles and descriptions come from other people's pages and the CSV is opened in spreadsheets:
    cells that would start a formula get a leading "'" unless `raw` (docs/exports.md)."""
    columns = csv_columns(with_body)
    # Rows end in CRLF (RFC 4180): csv quotes a cell holding any character of the line terminator,
    # and with "\n" alone a bare CR inside a title went out unquoted and split the row in two.
    writer = csv.writer(output, lineterminator="\r\n")
    writer.writerow(columns)
    written = 0
    for item in rows:
        cells = [csv_cell(name, item[name]) for name in columns]
        writer.writerow(cells if raw else [defuse_formula(cell) for cell in cells])
        written += 1
    return written


def _pyarrow() -> Any:
    try:
        import pyarrow  # noqa: PLC0415 - optional dependency
        import pyarrow.parquet  # noqa: F401, PLC0415
    except ImportError as exc:
        raise BadInput("Parquet export needs pyarrow: pip install 'commentary-archive[parquet]'") from exc
    return pyarrow


def parquet_schema(pa: Any) -> Any:
    """The Parquet form of the JSONL schema: same fields; times of capture as UTC timestamps."""
    ticker = pa.struct([("symbol", pa.string()), ("exchange", pa.string()), ("mentions", pa.int32()),
                        ("evidence", pa.list_(pa.string())), ("validated_by", pa.string())])
    utc = pa.timestamp("us", tz="UTC")
    return pa.schema([
        ("article_id", pa.int64()), ("version", pa.int32()), ("url", pa.string()), ("canonical_url", pa.string()),
        ("site", pa.string()), ("site_name", pa.string()), ("fetched_at", utc), ("first_seen_at", utc),
        ("title", pa.string()), ("authors", pa.list_(pa.string())), ("ai_generated", pa.bool_()),
        ("published_at", pa.string()), ("published_precision", pa.string()), ("updated_at", pa.string()),
        ("tickers", pa.list_(ticker)), ("language", pa.string()), ("description", pa.string()),
        ("body", pa.string()), ("word_count", pa.int32()), ("paywalled", pa.bool_()),
        ("content_sha256", pa.string()), ("raw_sha256", pa.string()), ("changed_fields", pa.list_(pa.string())),
        ("duplicate_of", pa.int64()), ("origin", pa.string()), ("extractor_version", pa.string()),
        ("schema_version", pa.int32()),
    ])


def write_parquet(rows: Iterator[dict[str, Any]], output: str | IO[bytes], *, batch: int = 5000) -> int:
    """Write rows as Parquet, one row group per `batch` rows (memory stays bounded by one batch)."""
    pa = _pyarrow()
    schema = parquet_schema(pa)
    times = ("fetched_at", "first_seen_at")
    written = 0
    with pa.parquet.ParquetWriter(output, schema, compression="zstd") as writer:
        pending: list[dict[str, Any]] = []

        def flush() -> None:
            for item in pending:
                for name in times:
                    item[name] = datetime.fromisoformat(item[name])
                item["tickers"] = [{**t, "validated_by": t.get("validated_by")} for t in item["tickers"]]
            writer.write_table(pa.Table.from_pylist(pending, schema=schema))
            pending.clear()

        for item in rows:
            pending.append(item)
            written += 1
            if len(pending) >= batch:
                flush()
        if pending or written == 0:
            flush()
    return written


def check_format(name: str) -> str:
    if name not in FORMATS:
        raise BadInput(f"unknown export format {name!r}: use one of {', '.join(FORMATS)}")
    if name == "parquet":
        _pyarrow()
    return name


def format_for(path: str, given: str | None) -> str:
    """The format asked for, else the one the file name says (.csv, .parquet), else JSON lines."""
    if given:
        return check_format(given)
    lowered = path.lower()
    for suffix, name in ((".csv", "csv"), (".parquet", "parquet"), (".pq", "parquet"), (".warc.gz", "warc"),
                         (".warc", "warc")):
        if lowered.endswith(suffix):
            return check_format(name)
    return "jsonl"


def write(rows: Iterator[dict[str, Any]], output: Any, fmt: str, *, with_body: bool = False,
          csv_raw: bool = False) -> int:
    """Write rows in a format to an open file (text for jsonl/csv, binary or a path for parquet)."""
    if fmt == "jsonl":
        return write_jsonl(rows, output)
    if fmt == "csv":
        return write_csv(rows, output, with_body=with_body, raw=csv_raw)
    return write_parquet(rows, output)


def body_needed(fmt: str, with_body: bool) -> bool:
    """JSON lines and Parquet always carry the body; CSV only when asked."""
    return fmt != "csv" or with_body

