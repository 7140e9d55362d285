"""Export formats: JSON lines valid against docs/export-schema.json, CSV columns, Parquet."""

from __future__ import annotations

import builtins
import csv
import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from archive.errors import BadInput
from archive.export import (CSV_COLUMNS, EXPORTERS, FIELD_NAMES, FORMATS, export_rows, exporter_for, parquet_schema,
                            write_csv, write_jsonl, write_parquet)
from archive.query import Filters, parse_bound
from archive.store import ArchiveStore
from tests import research
from tests.conftest import SCHEMA


def jsonl(store: ArchiveStore, **kwargs: Any) -> list[dict[str, Any]]:
    out = io.StringIO()
    write_jsonl(export_rows(store.engine, Filters(**{k: v for k, v in kwargs.items() if k != "all_versions"}),
                            all_versions=kwargs.get("all_versions", False)), out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_jsonl_lines_follow_the_schema(store: ArchiveStore) -> None:
    ids = research.fill(store)
    schema = json.loads(SCHEMA.read_text())
    every = jsonl(store, all_versions=True)
    assert [(r["article_id"], r["version"]) for r in every] == sorted((r["article_id"], r["version"]) for r in every)
    assert len(every) == 5
    for line in every:
        jsonschema.validate(line, schema)
        assert set(line) == set(schema["properties"])
    edited = [r for r in every if r["article_id"] == ids["nvda"]]
    assert [(r["version"], r["changed_fields"], r["origin"]) for r in edited] == \
        [(1, [], "fetch"), (2, ["tickers", "body"], "fetch")]
    assert {r["article_id"]: r["version"] for r in jsonl(store)}[ids["nvda"]] == 2
    then = jsonl(store, as_of=parse_bound("2025-02-01"))
    assert {r["article_id"]: r["version"] for r in then}[ids["nvda"]] == 1
    assert [r["title"] for r in jsonl(store, text='"export controls"')] == [research.NVDA_V1.title]


def test_csv_has_the_documented_columns_and_no_body_unless_asked(store: ArchiveStore) -> None:
    ids = research.fill(store)
    schema = json.loads(SCHEMA.read_text())
    out = io.StringIO()
    assert write_csv(export_rows(store.engine, Filters(), with_body=False), out) == 4
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == CSV_COLUMNS and "body" not in rows[0]
    assert set(CSV_COLUMNS) <= set(schema["properties"])  # every column is a documented field
    nvda = next(r for r in rows if r["article_id"] == str(ids["nvda"]))
    assert (nvda["tickers"], nvda["changed_fields"], nvda["authors"], nvda["ai_generated"], nvda["origin"]) == \
        ("NVDA; AMD", "tickers; body", "Edwin Foster", "false", "fetch")
    assert nvda["published_at"] == "2025-01-10T14:00:00+00:00" and nvda["duplicate_of"] == ""

    out = io.StringIO()
    write_csv(export_rows(store.engine, Filters(tickers=("AMD",))), out, with_body=True)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == CSV_COLUMNS + ("body",)
    amd = next(r for r in rows if r["article_id"] == str(ids["amd"]))
    assert amd["body"].startswith("Advanced Micro Devices rose")


def test_parquet_round_trip(store: ArchiveStore, tmp_path: Any) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    research.fill(store)
    target = tmp_path / "out.parquet"
    assert write_parquet(export_rows(store.engine, Filters(), all_versions=True), str(target), batch=2) == 5
    table = pq.read_table(target)
    assert table.num_rows == 5 and "origin" in table.column_names and "body" in table.column_names
    first = table.slice(0, 1).to_pylist()[0]
    assert first["tickers"][0]["symbol"] and first["fetched_at"].tzinfo is not None


def test_parquet_without_pyarrow_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_pyarrow(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("pyarrow"):
            raise ImportError("No module named 'pyarrow'")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(BadInput, match=r"Parquet export needs pyarrow: pip install -e '\.\[parquet\]'"):
        exporter_for("x.parquet")
    assert exporter_for("x.csv").name == "csv"  # the other formats do not need it


def test_format_from_the_file_name() -> None:
    def name(path: str, given: str | None = None) -> str:
        return exporter_for(path, given).name
    assert [name(p) for p in ("a.jsonl", "A.CSV", "-", "b.ndjson", "c.pq", "d.parquet", "e.warc.gz", "f.WARC",
                              "no_suffix", "dir.d/no_suffix", "<stdout>")] == \
        ["jsonl", "csv", "jsonl", "jsonl", "parquet", "parquet", "warc", "warc", "jsonl", "jsonl", "jsonl"]
    assert name("a.txt", "csv") == "csv" and name("out.xlsx", "CSV") == "csv"
    with pytest.raises(BadInput, match="unknown export format 'xml'"):
        exporter_for("a", "xml")
    with pytest.raises(BadInput, match=r"cannot tell the export format from 'out.xlsx': name the file .jsonl, "
                                       r".*\.warc\.gz.*or give --format"):
        exporter_for("out.xlsx")
    for fmt in ("parquet", "warc"):
        with pytest.raises(BadInput, match="cannot stream to stdout"):
            exporter_for("-", fmt)


def test_one_field_list_gives_the_records_csv_columns_parquet_schema_and_documented_fields(
        store: ArchiveStore) -> None:
    """FIELDS is the one list: a record's keys, the CSV columns and the Parquet columns follow it."""
    pa = pytest.importorskip("pyarrow")
    research.fill(store)
    schema = json.loads(SCHEMA.read_text())
    assert list(schema["properties"]) == list(FIELD_NAMES)
    assert all(tuple(r) == FIELD_NAMES for r in export_rows(store.engine, Filters(), all_versions=True))
    assert CSV_COLUMNS == tuple(n for n in FIELD_NAMES if n != "body")
    assert tuple(parquet_schema(pa).names) == FIELD_NAMES
    assert FORMATS == tuple(EXPORTERS) == ("jsonl", "csv", "parquet", "warc")


def test_streamed_records_equal_the_orm_form(store: ArchiveStore) -> None:
    """export_rows builds records from plain tuples; they are exactly what `row` makes of ORM objects."""
    from sqlalchemy.orm import Session

    from archive.export import row
    from archive.models import Article, Snapshot
    from archive.query import latest_versions
    research.fill(store)
    for filters, every in ((Filters(), True), (Filters(), False), (Filters(as_of=parse_bound("2025-02-01")), False)):
        with Session(store.engine) as session:
            expected = [row(s, a) for s, a in session.execute(
                latest_versions(filters, all_versions=every).order_by(Article.id, Snapshot.version))]
        streamed = list(export_rows(store.engine, filters, all_versions=every))
        assert streamed == expected and [list(r) for r in streamed] == [list(r) for r in expected]
        assert [r["body"] for r in export_rows(store.engine, filters, all_versions=every, with_body=False)] == \
            [None] * len(expected)


def test_local_time_reads_naive_utc_and_aware_times_alike() -> None:
    """export_rows hands local_time the driver's times (naive UTC from SQLite, aware in any zone from
    PostgreSQL): the same text as the time at the publisher's offset, for offsets either side of
    UTC, half hours, microseconds, and the UTC date alone for a date."""
    import random
    from datetime import datetime, timedelta, timezone

    from archive.export import local_time

    rng = random.Random(3)
    for _ in range(3000):
        naive = datetime(2020, 1, 1) + timedelta(seconds=rng.randrange(10**8),
                                                 microseconds=rng.choice([0, rng.randrange(10**6)]))
        offset = rng.choice([None, 0, -300, 330, 345, -570, 840, -720, rng.randrange(-900, 900)])
        precision = rng.choice([None, "date", "datetime"])
        utc = naive.replace(tzinfo=timezone.utc)
        expected = utc.date().isoformat() if precision == "date" else \
            utc.astimezone(timezone(timedelta(minutes=offset or 0))).isoformat()
        assert local_time(naive, offset, precision) == expected
        elsewhere = utc.astimezone(timezone(timedelta(hours=rng.randrange(-12, 13))))
        assert local_time(elsewhere, offset, precision) == expected
    assert local_time(None) is None


def test_jsonl_lines_written_in_chunks_arrive_whole(tmp_path: Path) -> None:
    """Lines are gathered into writes of a megabyte: every line arrives, in order, to a file or a text stream."""
    rows = [{"n": n, "body": "x" * 5000 + str(n)} for n in range(700)]  # 3.5 MB: several chunks
    target = tmp_path / "out.jsonl"
    with target.open("w", encoding="utf-8") as out:
        out.write("")  # text written before the lines is flushed first
        assert write_jsonl(iter(rows), out) == 700
    assert [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()] == rows
    stream = io.StringIO()
    assert write_jsonl(iter(rows), stream) == 700
    assert [json.loads(line)["n"] for line in stream.getvalue().splitlines()] == list(range(700))


def test_read_ahead_keeps_order_raises_what_the_reader_raised_and_stops_when_closed() -> None:
    """PostgreSQL exports read the next batch in a thread while the current one is written."""
    import threading

    from archive.export import read_ahead

    assert list(read_ahead(iter(range(10_007)), batch=100)) == list(range(10_007))
    assert list(read_ahead(iter([]), batch=100)) == []

    def failing() -> Any:
        yield from range(250)
        raise RuntimeError("connection lost")
    seen: list[int] = []
    with pytest.raises(RuntimeError, match="connection lost"):
        for item in read_ahead(failing(), batch=100):
            seen.append(item)
    assert seen == list(range(200))  # the whole batches read before the failure, then the error

    pulled: list[int] = []

    def endless() -> Any:
        number = 0
        while True:
            pulled.append(number)
            yield number
            number += 1
    rows = read_ahead(endless(), batch=10, depth=2)
    assert [next(rows) for _ in range(5)] == [0, 1, 2, 3, 4]
    rows.close()  # an export stopped early: the reader thread must end, not read on for ever
    assert not any(t.name == "export-read-ahead" for t in threading.enumerate())
    assert len(pulled) <= 10 * 4  # it read at most the queued batches and the one in hand
