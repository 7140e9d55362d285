"""The extraction pool: a page that takes too long (or kills its worker) fails alone, with its own
error kind, and every other page keeps being extracted. The time limit is enforced, not hoped for."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from archive.errors import ExtractionError
from archive.extract import extract
from archive.store import ArchiveStore
from crawler.items import PageItem
from pipelines.extract import ExtractPipeline
from pipelines.workers import ExtractorPool
from tests.pages import article
from tests.pipelines.extractors import misbehaving

URL = "https://news.example.com/markets/chips.html"
PAGE = article().encode()


LIMIT = 3.0


def warm(pool: ExtractorPool) -> ExtractorPool:
    """Run one page through each worker: a cold worker spends its first second importing, more on
    a busy machine, so warming waits longer than the pool's own limit (a cold worker cut off at
    that limit would be replaced by another cold one)."""
    limit, pool.timeout = pool.timeout, 60.0
    try:
        for _ in range(pool.workers):
            pool.run(PAGE, URL)
    finally:
        pool.timeout = limit
    return pool


@pytest.fixture(scope="module")
def pool() -> Iterator[ExtractorPool]:
    extractor_pool = warm(ExtractorPool(misbehaving, workers=2, timeout=LIMIT))
    yield extractor_pool
    extractor_pool.close()


def test_results_cross_the_process_boundary_intact(pool: ExtractorPool) -> None:
    assert pool.run(PAGE, URL) == extract(PAGE, URL)


def test_extraction_errors_keep_their_kind(pool: ExtractorPool) -> None:
    with pytest.raises(ExtractionError) as caught:
        pool.run(b"   ", URL)
    assert caught.value.kind == "empty"
    with pytest.raises(ExtractionError) as caught:
        pool.run(PAGE.replace(b"</body>", b"BOOM</body>"), URL)
    assert caught.value.kind == "extract_failed" and "RuntimeError" in str(caught.value)


def test_a_stalled_page_is_cut_off_at_the_time_limit(pool: ExtractorPool) -> None:
    started = time.monotonic()
    with pytest.raises(ExtractionError) as caught:
        pool.run(PAGE.replace(b"</body>", b"STALL</body>"), URL)
    assert caught.value.kind == "extract_timeout"
    assert LIMIT - 0.1 < time.monotonic() - started < LIMIT + 4
    assert pool.run(PAGE, URL).title  # a fresh worker took its place


def test_a_dying_worker_is_replaced(pool: ExtractorPool) -> None:
    with pytest.raises(ExtractionError) as caught:
        pool.run(PAGE.replace(b"</body>", b"CRASH</body>"), URL)
    assert caught.value.kind == "extract_crashed"
    assert pool.run(PAGE, URL).title


def test_the_stuck_process_is_killed_not_abandoned() -> None:
    pool = warm(ExtractorPool(misbehaving, workers=1, timeout=1.0))
    try:
        (worker,) = pool._all
        stuck_pid = worker.process.pid
        with pytest.raises(ExtractionError):
            pool.run(PAGE.replace(b"</body>", b"STALL</body>"), URL)
        with pytest.raises(ProcessLookupError):
            os.kill(stuck_pid, 0)  # killed and reaped: no CPU or memory left behind
        (replacement,) = pool._all
        assert replacement.process.pid != stuck_pid and replacement.process.is_alive()
    finally:
        pool.close()
    assert not replacement.process.is_alive()


def test_other_pages_keep_flowing_while_one_is_stuck() -> None:
    pool = warm(ExtractorPool(misbehaving, workers=2, timeout=5.0))

    async def crawl() -> tuple[list[str], float]:
        stuck = asyncio.ensure_future(pool.extract(PAGE.replace(b"</body>", b"STALL</body>"), URL))
        started = time.monotonic()
        titles = [(await pool.extract(PAGE, f"{URL}?{i}")).title for i in range(5)]
        elapsed = time.monotonic() - started
        with pytest.raises(ExtractionError):
            await stuck
        return titles, elapsed

    try:
        titles, elapsed = asyncio.run(crawl())
    finally:
        pool.close()
    assert len(titles) == 5 and elapsed < 4.5  # done before the stuck page's limit ran out


def test_pipeline_records_extract_timeout_and_moves_on(tmp_path: Path) -> None:
    store = ArchiveStore.open(f"sqlite:///{tmp_path / 'a.db'}")
    stats = MemoryStatsCollector(get_crawler())
    pool = warm(ExtractorPool(misbehaving, workers=1, timeout=1.5))
    pipeline = ExtractPipeline(store, stats, pool)

    def item(body: bytes, url: str) -> PageItem:
        return PageItem(url=url, fetched_at=datetime.now(timezone.utc), status=200, body=body)

    async def run() -> tuple[PageItem, PageItem]:
        stuck = await pipeline.process_item(item(PAGE.replace(b"</body>", b"STALL</body>"), URL))
        warm(pool)  # the killed worker's replacement imports first: on a loaded machine, longer than 1.5 s
        fine = await pipeline.process_item(item(PAGE, URL + "?next"))
        return stuck, fine

    try:
        stuck, fine = asyncio.run(run())
    finally:
        pipeline.close_spider()
    assert stuck.error is not None and stuck.error.startswith("extract_timeout: ")
    assert fine.error is None and fine.extracted.title
    assert stats.get_value("extract/failed/extract_timeout") == 1 and stats.get_value("extract/ok") == 1


def test_a_pool_starts_its_processes_with_the_first_page() -> None:
    """A crawl of unchanged pages (304s, same bytes) extracts nothing and starts no process."""
    pool = ExtractorPool(misbehaving, workers=2, timeout=LIMIT)
    try:
        assert pool._all == []
        warm(pool)
        assert len(pool._all) == 2 and all(worker.process.is_alive() for worker in pool._all)
    finally:
        pool.close()
