"""Extracted -> archive.store, through one writer thread (SQLite wants a single writer), in batches:
up to ARCHIVE_WRITE_BATCH pages per transaction, or what ARCHIVE_WRITE_BATCH_DELAY seconds gathered.

A write that fails is never silent: it is retried (the database may be locked for a moment),
then counted as archive/write_failed with its error; when writes keep failing (a full disk) the
crawl is stopped, since nothing more it fetched could be kept, and `archive crawl` exits non-zero.
A page whose values the database refuses (RefusedWrite) costs only itself: its batch is written
page by page, and the page is recorded as one `db_refused` error; the database is healthy, so
refusals never count toward stopping the crawl.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from archive.config import default
from archive.errors import ArchiveError, RefusedWrite
from archive.store import ArchiveStore, Capture, SaveResult, Write
from crawler.items import PageItem
from crawler.shared_store import crawl_store

log = logging.getLogger(__name__)

#: Stats key of the crawl's reason to stop early when the archive cannot be written.
WRITE_FAILED = "archive_write_failed"


class StorePipeline:
    """Keeps every fetch, and articles as versioned snapshots. Reads ARCHIVE_DB_URL,
    ARCHIVE_WRITE_RETRIES, ARCHIVE_WRITE_RETRY_DELAY, ARCHIVE_WRITE_FAILURES_MAX, ARCHIVE_WRITE_BATCH
    and ARCHIVE_WRITE_BATCH_DELAY."""

    def __init__(self, store: ArchiveStore, stats: StatsCollector, command: dict[str, Any], *,
                 retries: int = 3, retry_delay: float = 1.0, failures_max: int = 5,
                 stop: Callable[[str], None] | None = None, batch_size: int = 50, batch_delay: float = 0.2) -> None:
        self.store, self.stats, self.command = store, stats, command
        self.retries, self.retry_delay, self.failures_max = retries, retry_delay, failures_max
        self.batch_size, self.batch_delay = max(1, batch_size), batch_delay
        self.pending: list[tuple[PageItem, asyncio.Future[SaveResult | None]]] = []
        self.timer: asyncio.TimerHandle | None = None
        self.batches: set[asyncio.Future[None]] = set()
        self.stop = stop
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self.crawl_id: int | None = None
        self.failures_in_a_row = 0
        self.stopped = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "StorePipeline":
        settings = crawler.settings
        store = crawl_store(crawler)
        command = settings.getdict("ARCHIVE_CRAWL_COMMAND") or {"spider": "site"}
        tasks: set[asyncio.Future[None]] = set()

        def stop(reason: str) -> None:
            assert crawler.engine is not None
            task = asyncio.ensure_future(crawler.engine.close_spider_async(reason=reason))
            tasks.add(task)  # keep a reference until it is done
            task.add_done_callback(tasks.discard)

        pipeline = cls(store, crawler.stats, command,
                       retries=settings.getint("ARCHIVE_WRITE_RETRIES", 3),
                       retry_delay=settings.getfloat("ARCHIVE_WRITE_RETRY_DELAY", 1.0),
                       failures_max=settings.getint("ARCHIVE_WRITE_FAILURES_MAX", 5), stop=stop,
                       batch_size=settings.getint("ARCHIVE_WRITE_BATCH", default("write_batch")),
                       batch_delay=settings.getfloat("ARCHIVE_WRITE_BATCH_DELAY", 0.2))
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self, spider: object = None) -> None:
        self.crawl_id = self.store.begin_crawl(self.command)
        self.stats.set_value("archive/crawl_id", self.crawl_id)

    async def close_spider(self, spider: object = None) -> None:
        """Store what is still queued (nothing is, normally: every item waits for its batch)."""
        self._flush()
        if self.batches:
            await asyncio.gather(*self.batches)
        self.writer.shutdown(wait=True)

    def spider_closed(self, spider: object = None, reason: str = "finished") -> None:
        """Record the crawl's end, with why it ended: only a "finished" crawl is not resumed.
        (Scrapy closes pipelines before it sends spider_closed, which carries the reason.)"""
        try:
            if self.crawl_id is not None:
                stats = {k: v for k, v in self.stats.get_stats().items() if k.startswith(("archive/", "extract/", "crawl/sitemaps_refused/", "crawl/stored_pages_followed"))}
                self.store.finish_crawl(self.crawl_id, {**_jsonable(stats), "finish_reason": reason})
        except ArchiveError as exc:  # the crawl's own row; every page's fate is already counted
            log.error("could not record the end of crawl %s: %s", self.crawl_id, exc)

    async def process_item(self, item: PageItem, spider: object = None) -> PageItem:
        """Queue the page for the next batch and wait until it is stored (or counted as lost)."""
        if self.stopped:  # the archive is not writable and the crawl is stopping: report, don't wait
            self._lost(item)
            return item
        loop = asyncio.get_running_loop()
        done: asyncio.Future[SaveResult | None] = loop.create_future()
        self.pending.append((item, done))
        if len(self.pending) >= self.batch_size:
            self._flush()
        elif self.timer is None:
            self.timer = loop.call_later(self.batch_delay, self._flush)
        result = await done
        if result is None:
            self._lost(item)
            return item
        self.stats.inc_value("archive/fetches")
        self.stats.inc_value(f"archive/{result.outcome}")
        kind = result.error or (item.error.split(":", 1)[0] if item.error else None)
        if result.outcome == "error" and kind:
            self.stats.inc_value(f"archive/errors/{kind}")
        return item

    def _flush(self) -> None:
        """Send the queued pages to the writer as one batch (a size or time bound was reached)."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        batch, self.pending = self.pending, []
        if batch:
            task = asyncio.ensure_future(self._store(batch))
            self.batches.add(task)
            task.add_done_callback(self.batches.discard)

    async def _store(self, batch: list[tuple[PageItem, asyncio.Future[SaveResult | None]]]) -> None:
        """One transaction for the batch; if it fails for good, each page on its own, so that one
        page the database refuses does not cost the others."""
        items = [item for item, _ in batch]
        results: list[SaveResult | None] | None = None
        try:
            results = await self._attempts(items)
            if results is None and len(items) > 1:
                results = [(await self._attempts([item]) or [None])[0] for item in items]
        finally:  # whatever happened, every page waiting on this batch learns its fate: never a hang
            for (_, done), result in zip(batch, results or [None] * len(batch)):
                if not done.done():
                    done.set_result(result)

    async def _attempts(self, items: list[PageItem]) -> list[SaveResult] | None:
        """Write `items` in one transaction, retried; None when it could not be done. A single page
        whose values the database refuses is recorded as a `db_refused` error instead."""
        loop = asyncio.get_running_loop()
        for attempt in range(self.retries + 1):
            if self.stopped:
                return None
            try:
                results = await loop.run_in_executor(self.writer, self._write, items)
            except _Stopping:
                continue
            except RefusedWrite as exc:  # the same again would fail the same way: no retry, no count
                if len(items) > 1:
                    return None
                return await self._refused(items[0], exc)
            except ArchiveError as exc:
                self._attempt_failed(exc)
                if attempt < self.retries and not self.stopped:
                    log.warning("storing %s failed (%s); retry %d of %d in %.1f s",
                                items[0].url if len(items) == 1 else f"{len(items)} pages", exc, attempt + 1,
                                self.retries, self.retry_delay)
                    await asyncio.sleep(self.retry_delay)
                continue
            except Exception as exc:  # a defect, not the database: the same again would fail the same way
                log.error("storing %s failed with an internal error: %s: %s",
                          items[0].url if len(items) == 1 else f"{len(items)} pages", type(exc).__name__, exc,
                          exc_info=log.isEnabledFor(logging.DEBUG))
                self._attempt_failed(ArchiveError(f"internal error: {type(exc).__name__}: {exc}"))
                return None
            self.failures_in_a_row = 0
            return results
        return None

    async def _refused(self, item: PageItem, exc: RefusedWrite) -> list[SaveResult] | None:
        """Record `item` as a fetch that failed with error kind db_refused (its page not kept)."""
        log.warning("the database refused %s: %s", item.url, exc)
        error = PageItem(url=item.url, fetched_at=item.fetched_at, status=item.status,
                         error=f"db_refused: {exc}")
        try:
            return await asyncio.get_running_loop().run_in_executor(self.writer, self._write, [error])
        except ArchiveError as again:  # even the bare error row (its URL): lost, but counted
            self.stats.set_value("archive/write_error", str(again))
            return None

    def _attempt_failed(self, exc: ArchiveError) -> None:
        """Stop the crawl after `failures_max` failed writes in a row, whichever pages they were for:
        each already waited out the busy timeout, so the archive has been unwritable all that time."""
        self.failures_in_a_row += 1
        self.stats.set_value("archive/write_error", str(exc))
        if self.failures_in_a_row >= self.failures_max and not self.stopped:
            self.stopped = True
            log.error("stopping the crawl: %d writes in a row failed (%s)", self.failures_in_a_row, exc)
            if self.stop is not None:
                self.stop(WRITE_FAILED)

    def _lost(self, item: PageItem) -> None:
        """Count and report a page that was fetched but could not be stored."""
        self.stats.inc_value("archive/write_failed")
        log.error("could not store %s: %s", item.url, self.stats.get_value("archive/write_error"))

    def _write(self, items: list[PageItem]) -> list[SaveResult]:
        if self.stopped:
            raise _Stopping("not written: the crawl is stopping after repeated write failures")
        return self.store.save_many([self._operation(item) for item in items])

    def _operation(self, item: PageItem) -> Write:
        capture = Capture(url=item.url, fetched_at=item.fetched_at, status=item.status, raw=item.body,
                          content_type=item.content_type, etag=item.etag, last_modified=item.last_modified,
                          headers=tuple(item.headers) if item.headers else None, crawl_id=self.crawl_id,
                          redirected_from=tuple(item.meta.get("redirected_from", ())))
        if item.error:
            return self.store.error_write(capture, item.error)
        if item.not_modified:
            return self.store.not_modified_write(capture, item.meta.get("article_id"))
        if item.same_raw is not None:
            return self.store.same_raw_write(capture, item.same_raw)
        return self.store.page_write(item.extracted, capture)


class _Stopping(ArchiveError):
    """A write skipped because the crawl is already stopping for failed writes."""


def _jsonable(stats: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, (int, float, str, bool)) or v is None else str(v) for k, v in stats.items()}
