"""Extracted -> archive.store, through one writer thread (SQLite wants a single writer).

A write that fails is never silent: it is retried (the database may be locked for a moment),
then counted as archive/write_failed with its error; when writes keep failing (a full disk) the
crawl is stopped, since nothing more it fetched could be kept, and `archive crawl` exits non-zero.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from archive.errors import ArchiveError
from archive.store import ArchiveStore, Capture, SaveResult
from crawler.items import PageItem

log = logging.getLogger(__name__)

#: Stats key of the crawl's reason to stop early when the archive cannot be written.
WRITE_FAILED = "archive_write_failed"


class StorePipeline:
    """Keeps every fetch, and articles as versioned snapshots. Reads ARCHIVE_DB_URL,
    ARCHIVE_WRITE_RETRIES, ARCHIVE_WRITE_RETRY_DELAY and ARCHIVE_WRITE_FAILURES_MAX."""

    def __init__(self, store: ArchiveStore, stats: StatsCollector, command: dict[str, Any], *,
                 retries: int = 3, retry_delay: float = 1.0, failures_max: int = 5,
                 stop: Callable[[str], None] | None = None) -> None:
        self.store, self.stats, self.command = store, stats, command
        self.retries, self.retry_delay, self.failures_max = retries, retry_delay, failures_max
        self.stop = stop
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self.crawl_id: int | None = None
        self.failures_in_a_row = 0
        self.stopped = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "StorePipeline":
        settings = crawler.settings
        url = settings.get("ARCHIVE_DB_URL")
        if not url:
            raise NotConfigured("ARCHIVE_DB_URL is empty")
        command = settings.getdict("ARCHIVE_CRAWL_COMMAND") or {"spider": "site"}
        tasks: set[asyncio.Future[None]] = set()

        def stop(reason: str) -> None:
            assert crawler.engine is not None
            task = asyncio.ensure_future(crawler.engine.close_spider_async(reason=reason))
            tasks.add(task)  # keep a reference until it is done
            task.add_done_callback(tasks.discard)

        pipeline = cls(ArchiveStore.open(url), crawler.stats, command,
                       retries=settings.getint("ARCHIVE_WRITE_RETRIES", 3),
                       retry_delay=settings.getfloat("ARCHIVE_WRITE_RETRY_DELAY", 1.0),
                       failures_max=settings.getint("ARCHIVE_WRITE_FAILURES_MAX", 5), stop=stop)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self, spider: object = None) -> None:
        self.crawl_id = self.store.begin_crawl(self.command)
        self.stats.set_value("archive/crawl_id", self.crawl_id)

    def close_spider(self, spider: object = None) -> None:
        self.writer.shutdown(wait=True)

    def spider_closed(self, spider: object = None, reason: str = "finished") -> None:
        """Record the crawl's end, with why it ended: only a "finished" crawl is not resumed.
        (Scrapy closes pipelines before it sends spider_closed, which carries the reason.)"""
        try:
            if self.crawl_id is not None:
                stats = {k: v for k, v in self.stats.get_stats().items() if k.startswith(("archive/", "extract/"))}
                self.store.finish_crawl(self.crawl_id, {**_jsonable(stats), "finish_reason": reason})
        except ArchiveError as exc:  # the crawl's own row; every page's fate is already counted
            log.error("could not record the end of crawl %s: %s", self.crawl_id, exc)
        finally:
            self.store.close()

    async def process_item(self, item: PageItem, spider: object = None) -> PageItem:
        loop = asyncio.get_running_loop()
        for attempt in range(self.retries + 1):
            if self.stopped:  # the archive is not writable and the crawl is stopping: report, don't wait
                self._lost(item)
                return item
            try:
                result = await loop.run_in_executor(self.writer, self._write, item)
                break
            except _Stopping:
                continue
            except ArchiveError as exc:
                self._attempt_failed(exc)
                if attempt < self.retries and not self.stopped:
                    log.warning("storing %s failed (%s); retry %d of %d in %.1f s", item.url, exc, attempt + 1,
                                self.retries, self.retry_delay)
                    await asyncio.sleep(self.retry_delay)
        else:
            self._lost(item)
            return item
        self.failures_in_a_row = 0
        self.stats.inc_value("archive/fetches")
        self.stats.inc_value(f"archive/{result.outcome}")
        if result.outcome == "error" and item.error:
            self.stats.inc_value(f"archive/errors/{item.error.split(':', 1)[0]}")
        return item

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

    def _write(self, item: PageItem) -> SaveResult:
        if self.stopped:
            raise _Stopping("not written: the crawl is stopping after repeated write failures")
        capture = Capture(url=item.url, fetched_at=item.fetched_at, status=item.status, raw=item.body,
                          content_type=item.content_type, etag=item.etag, last_modified=item.last_modified,
                          headers=tuple(item.headers) if item.headers else None, crawl_id=self.crawl_id)
        if item.error:
            return self.store.save_error(capture, item.error)
        if item.not_modified:
            return self.store.save_not_modified(capture, item.meta.get("article_id"))
        if item.same_raw is not None:
            return self.store.save_same_raw(capture, item.same_raw)
        return self.store.save(item.extracted, capture)


class _Stopping(ArchiveError):
    """A write skipped because the crawl is already stopping for failed writes."""


def _jsonable(stats: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, (int, float, str, bool)) or v is None else str(v) for k, v in stats.items()}
