"""Export: one record per version with a stable, documented schema (docs/export-schema.json).

The record and its fields are archive/records.py's (importable from here too). Rows stream from
the database in batches (plain columns, not ORM objects) and are written as they come, so an
export of millions of versions runs in constant memory. The formats are one registry, EXPORTERS
(as Scrapy's FEED_EXPORTERS): JSON lines (the reference form), CSV (flat: lists joined with "; ",
tickers as symbols, no body unless asked for), Parquet (needs the optional `parquet` extra,
pyarrow) and WARC (every capture, with its extraction as metadata). The CLI's `archive export`
and the API's `Archive.export` both go through `export_to`.
"""

from __future__ import annotations

import csv
import os
import queue
import sys
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, TextIO, TypeVar

import orjson
from sqlalchemy import DateTime, Engine, Text, cast, func, null, type_coerce

from archive.errors import BadInput
from archive.models import Article, Snapshot
from archive.query import Filters, reading, select_versions
from archive.records import FIELD_NAMES, FIELDS, SCHEMA_VERSION, local_time, record, row

__all__ = ["SCHEMA_VERSION", "FIELDS", "FIELD_NAMES", "CSV_COLUMNS", "EXPORTERS", "FORMATS", "Exporter",
           "ExportJob", "row", "local_time", "export_rows", "write_jsonl", "write_csv", "write_parquet",
           "exporter_for", "export_to", "refuse_archive_as_target", "staging_path", "defuse_formula", "to_arrow",
           "to_pandas", "arrow_tables", "require_pyarrow"]

#: CSV columns, in order: every field but the body (which comes last, on request).
CSV_COLUMNS = tuple(f.name for f in FIELDS if f.csv)
CSV_LIST_SEPARATOR = "; "

#: The snapshot's columns as `record` takes them, after the article's six.
_SNAPSHOT_COLUMNS = ("version", "url", "site_name", "fetched_at", "title", "authors", "ai_generated",
                     "published_at", "published_offset_min", "published_precision", "updated_at",
                     "updated_offset_min", "updated_precision", "tickers", "language", "description",
                     "word_count", "paywalled", "content_sha256", "raw_sha256", "changed_fields", "origin",
                     "extractor_version", "notes")


#: Read as JSON text and decoded with orjson, which is much faster than json.loads on them.
_JSON_COLUMNS = ("authors", "tickers", "changed_fields", "notes")
_JSON_INDEXES = tuple(6 + _SNAPSHOT_COLUMNS.index(name) for name in _JSON_COLUMNS)


#: Read as naive UTC (as SQLite's driver gives them; PostgreSQL is asked for them so) and written by
#: local_time, skipping the models' aware-UTC conversion.
_TIME_COLUMNS = ("fetched_at", "published_at", "updated_at")


def _columns(with_body: bool, dialect: str) -> list[Any]:
    columns = [Article.id, Article.canonical_url, Article.site, _naive_utc(Article.first_seen_at, dialect),
               Article.duplicate_of_id, _naive_utc(Article.removed_at, dialect).label("removed_at")]
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
    loading, no per-row namespace): that is what keeps a large export fast on either database.
    """
    stmt = (select_versions(_columns(with_body, engine.dialect.name), filters, all_versions=all_versions)
            .order_by(Article.id, Snapshot.version))
    loads = orjson.loads
    with engine.connect() as connection:
        result = reading(connection.execution_options(stream_results=True, yield_per=batch).execute, stmt)
        if engine.dialect.name == "postgresql":
            result = read_ahead(result, batch)
        authors, tickers, changed_fields, notes = _JSON_INDEXES
        for values in result:
            stored = list(values)
            stored[authors], stored[tickers], stored[changed_fields] = \
                loads(stored[authors]), loads(stored[tickers]), loads(stored[changed_fields])
            if stored[notes] is not None:  # NULL: no notes (Snapshot.notes)
                stored[notes] = loads(stored[notes])
            yield record(*stored)


T = TypeVar("T")


def read_ahead(rows: Iterable[T], batch: int, depth: int = 2) -> Iterator[T]:
    """The rows, read by a thread up to `depth` batches ahead of the caller.

    PostgreSQL streams an export through a server-side cursor, one batch per round trip: the
    server waited while this process formatted a batch, and this process waited while the server
    read the next one. A thread that fetches the next batch meanwhile
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

    orjson rather than json: article bodies make json the slowest part of an export.
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
    # size, so written one by one nearly every line cost a system call.
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


# -- CSV: the one place the CSV form is decided ---------------------------------------------------
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


# -- Parquet --------------------------------------------------------------------------------------
PARQUET_MISSING = "Parquet export needs pyarrow: pip install -e '.[parquet]' (in the project's folder)"
ARROW_MISSING = "Arrow tables need pyarrow: pip install -e '.[parquet]' (in the project's folder)"
PANDAS_MISSING = "DataFrames need pandas: pip install pandas"


def require_pyarrow(missing: str = PARQUET_MISSING) -> Any:
    try:
        import pyarrow  # noqa: PLC0415 - optional dependency
        import pyarrow.parquet  # noqa: F401, PLC0415
    except ImportError as exc:
        raise BadInput(missing) from exc
    return pyarrow


def parquet_schema(pa: Any) -> Any:
    """The Parquet form of FIELDS: the JSONL fields; times of capture as UTC timestamps."""
    ticker = pa.struct([("symbol", pa.string()), ("exchange", pa.string()), ("mentions", pa.int32()),
                        ("evidence", pa.list_(pa.string())), ("validated_by", pa.string())])
    types = {"int64": pa.int64(), "int32": pa.int32(), "string": pa.string(), "bool": pa.bool_(),
             "utc": pa.timestamp("us", tz="UTC"), "strings": pa.list_(pa.string()), "tickers": pa.list_(ticker)}
    return pa.schema([(f.name, types[f.kind]) for f in FIELDS])


def arrow_tables(rows: Iterable[dict[str, Any]], *, batch: int = 5000,
                 missing: str = PARQUET_MISSING) -> Iterator[Any]:
    """Export lines as Arrow tables of up to `batch` rows each, in the Parquet schema (at least one
    table, empty when there are no rows): what Parquet files and `to_arrow()` are made of."""
    pa = require_pyarrow(missing)
    schema = parquet_schema(pa)
    times = tuple(f.name for f in FIELDS if f.kind == "utc")
    pending: list[dict[str, Any]] = []

    def table() -> Any:
        for item in pending:
            for name in times:
                item[name] = datetime.fromisoformat(item[name]) if item[name] is not None else None
            item["tickers"] = [{**t, "validated_by": t.get("validated_by")} for t in item["tickers"]]
        made = pa.Table.from_pylist(pending, schema=schema)
        pending.clear()
        return made

    made = 0
    for item in rows:
        pending.append(dict(item))
        if len(pending) >= batch:
            made += 1
            yield table()
    if pending or not made:
        yield table()


def to_arrow(rows: Iterable[dict[str, Any]]) -> Any:
    """Export lines as one Arrow table whose columns are FIELDS (the Parquet schema)."""
    pa = require_pyarrow(ARROW_MISSING)
    return pa.concat_tables(list(arrow_tables(rows, missing=ARROW_MISSING)))


def to_pandas(table: Any) -> Any:
    """An Arrow table as a pandas DataFrame, or one line saying pandas is missing."""
    try:
        import pandas  # noqa: F401, PLC0415 - optional, never a dependency
    except ImportError as exc:
        raise BadInput(PANDAS_MISSING) from exc
    return table.to_pandas()


def write_parquet(rows: Iterator[dict[str, Any]], output: str | IO[bytes], *, batch: int = 5000) -> int:
    """Write rows as Parquet, one row group per `batch` rows (memory stays bounded by one batch)."""
    pa = require_pyarrow()
    written = 0
    with pa.parquet.ParquetWriter(output, parquet_schema(pa), compression="zstd") as writer:
        for table in arrow_tables(rows, batch=batch):
            writer.write_table(table)
            written += table.num_rows
    return written


# -- the registry ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportJob:
    """What to export: the matching versions of an archive, and the options a writer may read."""

    engine: Engine
    filters: Filters
    all_versions: bool = False
    with_body: bool = False
    csv_raw: bool = False  # CSV: cells as stored, formulas not defused

    def rows(self, *, body: bool = True) -> Iterator[dict[str, Any]]:
        return export_rows(self.engine, self.filters, all_versions=self.all_versions, with_body=body)


def _jsonl(job: ExportJob, output: TextIO) -> int:
    return write_jsonl(job.rows(), output)


def _csv(job: ExportJob, output: TextIO) -> int:
    return write_csv(job.rows(body=job.with_body), output, with_body=job.with_body, raw=job.csv_raw)


def _parquet(job: ExportJob, output: IO[bytes]) -> int:
    return write_parquet(job.rows(), output)


def _warc(job: ExportJob, output: IO[bytes]) -> int:
    from archive.warc import export_warc  # noqa: PLC0415 - warcio only when a WARC is asked for
    return export_warc(job.engine, job.filters, output)


@dataclass(frozen=True)
class Exporter:
    """One export format: the file names it goes by and how it writes a job to an open file."""

    name: str
    label: str                    # as messages name it
    suffixes: tuple[str, ...]
    write: Callable[[ExportJob, Any], int]
    binary: bool = False          # written to a binary file (else UTF-8 text)
    streams: bool = True          # can be written to stdout
    unit: str = "rows"            # what the count it returns counts
    check: Callable[[], Any] | None = None  # raises BadInput when an optional dependency is missing


#: Every export format by name, as `archive export --format` and `Archive.export(format=)` take it.
EXPORTERS: dict[str, Exporter] = {e.name: e for e in (
    Exporter("jsonl", "JSON lines", (".jsonl", ".ndjson"), _jsonl, unit="lines"),
    Exporter("csv", "CSV", (".csv",), _csv),
    Exporter("parquet", "Parquet", (".parquet", ".pq"), _parquet, binary=True, streams=False, check=require_pyarrow),
    # Every capture (not versions): response, request and a metadata record with the extraction.
    Exporter("warc", "WARC", (".warc.gz", ".warc"), _warc, binary=True, streams=False, unit="captures"),
)}
FORMATS = tuple(EXPORTERS)


def exporter_for(path: str, given: str | None = None) -> Exporter:
    """The format asked for, else the one the file name says; JSON lines for stdout or a name without suffix."""
    if given:
        exporter = EXPORTERS.get(given.lower())
        if exporter is None:
            raise BadInput(f"unknown export format {given!r}: use one of {', '.join(FORMATS)}")
    else:
        exporter = _by_name(path)
    if path == "-" and not exporter.streams:
        raise BadInput(f"{exporter.label} cannot stream to stdout: give a file name, e.g. -o out{exporter.suffixes[0]}")
    if exporter.check is not None:
        exporter.check()
    return exporter


def _by_name(path: str) -> Exporter:
    lowered = path.lower()
    for exporter in EXPORTERS.values():
        if lowered.endswith(exporter.suffixes):
            return exporter
    name = os.path.basename(lowered)
    if path in ("", "-") or name.startswith("<") or "." not in name.lstrip("."):
        return EXPORTERS["jsonl"]
    suffixes = ", ".join(s for e in EXPORTERS.values() for s in e.suffixes)
    raise BadInput(f"cannot tell the export format from {path!r}: name the file {suffixes}, or give --format")


def refuse_archive_as_target(engine: Engine, target: Path) -> None:
    """An export written over the SQLite archive it reads would replace the archive with a copy of part of it."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        return
    archive_file = Path(database).expanduser().resolve()
    protected = {archive_file, *(archive_file.with_name(archive_file.name + s) for s in ("-wal", "-shm", "-journal"))}
    if target.expanduser().resolve() in protected:
        raise BadInput(f"refusing to write the export over the archive itself: {target}")


def check_target(target: Path) -> None:
    if target.is_dir() or not target.parent.is_dir():
        raise BadInput(f"cannot write to {target}: not a file in an existing directory")


def staging_path(target: Path) -> Path:
    """Where an export to `target` is written before it is complete: FILE.part, renamed over the file
    at the end. A device or pipe (/dev/stdout, a FIFO) is written in place: renaming over it would
    replace it with a regular file."""
    if target.exists() and not target.is_file():
        return target
    return target.with_name(target.name + ".part")


def export_to(job: ExportJob, exporter: Exporter, target: str | os.PathLike[str] | IO[Any]) -> int:
    """Write a job to a path ("-" is stdout) or an open file; returns the exporter's count.

    A path is written whole or not at all: into PATH.part, renamed when complete (a device or a
    pipe is written in place).
    """
    if isinstance(target, str) and target == "-":
        output = sys.stdout.buffer if exporter.binary else sys.stdout
        written = exporter.write(job, output)
        output.flush()  # a full disk shows here, not at exit
        return written
    if not isinstance(target, (str, os.PathLike)):
        return exporter.write(job, target)
    path = Path(target)
    check_target(path)
    refuse_archive_as_target(job.engine, path)
    partial = staging_path(path)

    def opened(where: Path) -> IO[Any]:
        return where.open("wb") if exporter.binary else where.open("w", encoding="utf-8", newline="")
    if partial == path:  # a device or a pipe: written in place
        with opened(path) as handle:
            return exporter.write(job, handle)
    try:
        with opened(partial) as handle:
            written = exporter.write(job, handle)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)  # never leave half an export under the real name
    return written
