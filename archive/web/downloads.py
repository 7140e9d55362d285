"""Downloads of a search's results, streamed in the export formats by the export code itself.

archive.export writes to a file; here its writer runs in a thread that writes into a bounded
queue, and the response reads the queue: memory stays bounded however large the result, and a
client that goes away stops the export.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Iterator

from sqlalchemy import Engine

from archive import export as exporting
from archive.query import Filters

MEDIA_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8",
               "parquet": "application/vnd.apache.parquet"}


class _Gone(Exception):
    """The client stopped reading."""


class _QueueFile:
    """A write-only file whose writes go to a queue, for writers that want a file (csv, orjson, pyarrow)."""

    def __init__(self, chunks: "queue.Queue[bytes | BaseException | None]", stopped: threading.Event) -> None:
        self.chunks, self.stopped, self.written, self.closed = chunks, stopped, 0, False

    def write(self, data: str | bytes) -> int:
        chunk = data.encode() if isinstance(data, str) else bytes(data)
        while True:
            if self.stopped.is_set():
                raise _Gone()
            try:
                self.chunks.put(chunk, timeout=0.1)
                break
            except queue.Full:
                continue
        self.written += len(chunk)
        return len(data)

    def tell(self) -> int:
        return self.written

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def writable(self) -> bool:
        return True


def stream(engine: Engine, filters: Filters, fmt: str, *, with_body: bool = False) -> Iterator[bytes]:
    """The export of `filters` in `fmt` (jsonl, csv or parquet), chunk by chunk."""
    exporter = exporting.exporter_for("", fmt)  # parquet without pyarrow: one line, before the response starts
    return _chunks(exporting.ExportJob(engine, filters, with_body=with_body), exporter)


def _chunks(job: exporting.ExportJob, exporter: exporting.Exporter) -> Iterator[bytes]:
    chunks: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=64)
    stopped = threading.Event()
    sink = _QueueFile(chunks, stopped)

    def produce() -> None:
        try:
            exporter.write(job, sink)
            chunks.put(None)
        except _Gone:
            pass
        except BaseException as exc:  # noqa: BLE001 - ends the response (it has started: no status to change)
            chunks.put(exc)

    worker = threading.Thread(target=produce, name="web-export", daemon=True)
    worker.start()
    try:
        while (chunk := chunks.get()) is not None:
            if isinstance(chunk, BaseException):
                raise chunk
            yield chunk
    finally:
        stopped.set()
        worker.join(timeout=5)


def content_disposition(fmt: str) -> dict[str, Any]:
    return {"Content-Disposition": f'attachment; filename="archive-export.{fmt}"'}
