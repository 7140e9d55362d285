"""Database errors: a full disk or a locked database is a clear error and a non-zero exit, never a
silent loss. Pages in flight are retried, then counted; the archive stays whole; the next run
completes the work."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from archive.errors import ArchiveError, RefusedWrite
from archive.extract import extract
from archive.store import SaveResult
from crawler.items import PageItem
from pipelines.store import StorePipeline
from tests import chaos
from tests.conftest import run_cli
from support.faultserver import FaultServer
from tests.pages import article

SITE = Path(__file__).resolve().parents[1] / "archive" / "demo" / "site"
ROOT = Path(__file__).resolve().parents[1]
NOT_STORED = re.compile(r"^Error: (\d+) page\(s\) fetched but not stored \(database write failed: (.+)\); "
                        r"fix the database and crawl again$", re.MULTILINE)


def page_count(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute("PRAGMA page_count").fetchone()[0]


def stored_fetches(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT count(*) FROM fetch").fetchone()[0]


@pytest.mark.slow
def test_full_disk_stops_the_crawl_with_a_count_and_the_next_run_completes(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    db = f"sqlite:///{path}"
    run_cli("init", "--db", db)
    with FaultServer(root=SITE) as server:
        full = chaos.run("crawl", server.url, "--db", db, "--allow-private-addresses",
                         chaos=("--sqlite-max-pages", str(page_count(path) + 25)))  # about 100 kB more
        assert full.returncode == 1
        (lost, reason), = NOT_STORED.findall(full.stderr)
        assert int(lost) > 0 and reason == "database or disk is full"
        assert full.stderr.strip().splitlines()[-1].startswith("Error: ")  # the last line says it all
        summary = full.stdout.splitlines()[2].split()
        assert stored_fetches(path) == int(summary[1])  # what the summary says was kept, was kept
        assert run_cli("check", "--db", db).returncode == 0  # nothing half written

        again = run_cli("crawl", server.url, "--db", db)
    assert "ok: 35 articles, 35 versions" in run_cli("check", "--db", db).stdout
    assert again.returncode == 0


@pytest.mark.slow
def test_a_lock_held_past_the_busy_timeout_mid_crawl(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    db = f"sqlite:///{path}?timeout=0.2"  # the busy timeout, in seconds
    run_cli("init", "--db", db)
    env = {**os.environ, "ARCHIVE_ALLOW_PRIVATE_ADDRESSES": "1"}
    # The site answers 5 requests and holds the rest until the lock is taken: the lock lands
    # mid-crawl however fast the machine is (a free-running crawl once stored every page first).
    with FaultServer(root=SITE, hold_after=5) as server:
        crawl = subprocess.Popen([sys.executable, "-m", "archive", "crawl", server.url, "--db", db], cwd=ROOT,
                                 env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        holder = sqlite3.connect(path, isolation_level=None)
        deadline = time.monotonic() + 60
        while stored_fetches(path) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        holder.execute("BEGIN IMMEDIATE")  # another writer that does not let go
        server.release()
        try:
            out, err = crawl.communicate(timeout=120)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert crawl.returncode == 1
        (lost, reason), = NOT_STORED.findall(err)
        assert int(lost) > 0 and reason == "database is locked"
        assert "retry 1 of 3" in err  # pages were retried before they were given up
        assert run_cli("check", "--db", db).returncode == 0
        run_cli("crawl", server.url, "--db", db)
    assert "ok: 35 articles, 35 versions" in run_cli("check", "--db", db).stdout


@pytest.mark.slow
def test_a_database_locked_before_the_crawl_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    db = f"sqlite:///{path}?timeout=0.1"
    run_cli("init", "--db", db)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with FaultServer({"/": article().encode()}) as server:
            result = run_cli("crawl", server.url, "--db", db, check=False)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == "Error: database write failed: database is locked"
    assert server.requests == []  # nothing fetched that could not be kept


# -- the pipeline alone ----------------------------------------------------------------------------
class FlakyStore:
    """An ArchiveStore stand-in whose writes fail `failures` times, then succeed."""

    def __init__(self, failures: int, seconds: float = 0.0) -> None:
        self.failures, self.seconds, self.calls = failures, seconds, 0

    def save_many(self, writes: list[Any]) -> list[SaveResult]:
        """One transaction (call) per batch, as ArchiveStore.save_many."""
        self.calls += 1
        time.sleep(self.seconds)  # waiting out the busy timeout
        if self.calls <= self.failures:
            raise ArchiveError("database write failed: database is locked")
        return [SaveResult("new", 1, 1, True) for _ in writes]

    def page_write(self, page: Any, capture: Any) -> object:
        return capture

    def close(self) -> None:
        pass


def run_items(pipeline: StorePipeline, count: int) -> None:
    import asyncio
    page = extract(article(), "https://news.example.com/a.html")

    async def go() -> None:
        items = [PageItem(url=f"https://news.example.com/{i}.html", fetched_at=datetime.now(timezone.utc),
                          status=200, body=b"x", extracted=page) for i in range(count)]
        await asyncio.gather(*(pipeline.process_item(item) for item in items))

    asyncio.run(go())


def test_a_passing_lock_is_retried_not_lost() -> None:
    stats = MemoryStatsCollector(get_crawler())
    pipeline = StorePipeline(FlakyStore(failures=2), stats, {}, retries=3, retry_delay=0.01)  # type: ignore[arg-type]
    run_items(pipeline, 1)
    assert stats.get_value("archive/new") == 1 and stats.get_value("archive/write_failed") is None


def test_writes_that_keep_failing_stop_the_crawl_and_every_page_is_counted() -> None:
    stats, stops = MemoryStatsCollector(get_crawler()), []
    pipeline = StorePipeline(FlakyStore(failures=10_000, seconds=0.05), stats, {}, retries=2,  # type: ignore[arg-type]
                             retry_delay=0.01,
                             failures_max=4, stop=stops.append)
    run_items(pipeline, 20)
    assert stops == ["archive_write_failed"]
    assert stats.get_value("archive/write_failed") == 20 and stats.get_value("archive/fetches") is None
    assert pipeline.store.calls <= 5  # after the 4th failure (and the write already under way), none waits
    assert stats.get_value("archive/write_error") == "database write failed: database is locked"


class PickyStore(FlakyStore):
    """Refuses, for good, any transaction that holds the page at `refused`."""

    def __init__(self, refused: str) -> None:
        super().__init__(failures=0)
        self.refused, self.sizes = refused, []

    def save_many(self, writes: list[Any]) -> list[SaveResult]:
        self.sizes.append(len(writes))
        if any(capture.url == self.refused for capture in writes):
            raise ArchiveError("database write failed: value too long")
        return [SaveResult("new", 1, 1, True) for _ in writes]


def test_pages_arriving_together_are_written_in_one_transaction() -> None:
    stats = MemoryStatsCollector(get_crawler())
    store = PickyStore(refused="none")
    pipeline = StorePipeline(store, stats, {}, retries=0, batch_size=50)  # type: ignore[arg-type]
    run_items(pipeline, 20)
    assert store.sizes == [20] and stats.get_value("archive/new") == 20


def test_a_page_the_database_refuses_costs_only_itself_not_its_batch() -> None:
    stats = MemoryStatsCollector(get_crawler())
    store = PickyStore(refused="https://news.example.com/7.html")
    pipeline = StorePipeline(store, stats, {}, retries=1, retry_delay=0.01, failures_max=100)  # type: ignore[arg-type]
    run_items(pipeline, 20)
    assert stats.get_value("archive/new") == 19 and stats.get_value("archive/write_failed") == 1
    assert store.sizes[:2] == [20, 20] and store.sizes[2:] == [1] * 21  # batch twice, then page by page


class RefusingStore(FlakyStore):
    """Refuses the values of the pages in `refused` (RefusedWrite: the database itself is fine);
    records error rows for them like ArchiveStore.error_write."""

    def __init__(self, refused: set[str]) -> None:
        super().__init__(failures=0)
        self.refused, self.sizes, self.errors = refused, [], []

    def error_write(self, capture: Any, error: str) -> object:
        return ("error", capture, error)

    def save_many(self, writes: list[Any]) -> list[SaveResult]:
        self.sizes.append(len(writes))
        if any(not isinstance(w, tuple) and w.url in self.refused for w in writes):
            raise RefusedWrite("database refused a value: value too long for type character varying(16)")
        self.errors += [w[2] for w in writes if isinstance(w, tuple)]
        return [SaveResult("error", error=w[2].split(":")[0]) if isinstance(w, tuple) else SaveResult("new", 1, 1, True)
                for w in writes]


def test_pages_the_database_refuses_are_recorded_errors_and_never_stop_the_crawl() -> None:
    """Eight refused pages among twenty, with the stop at 5 failures in a row: each refused page is
    one db_refused error, the others are stored, and the crawl is not stopped (nothing retried)."""
    stats, stops = MemoryStatsCollector(get_crawler()), []
    refused = {f"https://news.example.com/{i}.html" for i in range(0, 16, 2)}
    store = RefusingStore(refused)
    pipeline = StorePipeline(store, stats, {}, retries=3, retry_delay=0.01, failures_max=5,  # type: ignore[arg-type]
                             stop=stops.append)
    run_items(pipeline, 20)
    assert stops == [] and stats.get_value("archive/write_failed") is None
    assert stats.get_value("archive/new") == 12 and stats.get_value("archive/errors/db_refused") == 8
    assert len(store.errors) == 8 and all(e.startswith("db_refused: database refused a value") for e in store.errors)
    assert store.sizes[0] == 20 and len(store.sizes) == 1 + 20 + 8  # once as a batch, then page by page


class BrokenStore(FlakyStore):
    """A store with a defect: every write raises an exception that is not the archive's own."""

    def save_many(self, writes: list[Any]) -> list[SaveResult]:
        self.calls += 1
        raise TypeError("page_write() got an unexpected keyword argument 'signed'")


def test_a_defect_in_the_writer_loses_its_pages_counted_and_stops_the_crawl_never_hangs() -> None:
    """An exception other than ArchiveError in the writer thread (a bug) used to leave every page
    of its batch waiting for ever: the crawl hung. Now each page is counted lost, the error is one
    line, nothing is retried (a defect fails the same way again), and repeated failures stop the crawl."""
    import threading
    stats, stops = MemoryStatsCollector(get_crawler()), []
    pipeline = StorePipeline(BrokenStore(failures=0), stats, {}, retries=3, retry_delay=0.01,  # type: ignore[arg-type]
                             failures_max=4, stop=stops.append)
    crawl = threading.Thread(target=run_items, args=(pipeline, 6), daemon=True)
    crawl.start()
    crawl.join(timeout=30)
    assert not crawl.is_alive(), "the pages' writes never finished: the crawl hangs"
    assert stats.get_value("archive/write_failed") == 6 and stats.get_value("archive/fetches") is None
    assert stats.get_value("archive/write_error") == \
        "internal error: TypeError: page_write() got an unexpected keyword argument 'signed'"
    assert stops == ["archive_write_failed"]
    assert pipeline.store.calls <= 1 + 6  # the batch once, then each page once: no retries
