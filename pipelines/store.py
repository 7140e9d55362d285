"""Extracted -> archive.store, through one writer thread (SQLite wants a single writer)."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from archive.errors import ArchiveError
from archive.store import ArchiveStore, Capture, SaveResult
from crawler.items import PageItem

log = logging.getLogger(__name__)


class StorePipeline:
    """Keeps every fetch, and articles as versioned snapshots. Reads ARCHIVE_DB_URL."""

    def __init__(self, store: ArchiveStore, stats: StatsCollector, command: dict[str, Any]) -> None:
        self.store, self.stats, self.command = store, stats, command
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self.crawl_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "StorePipeline":
        url = crawler.settings.get("ARCHIVE_DB_URL")
        if not url:
            raise NotConfigured("ARCHIVE_DB_URL is empty")
        command = crawler.settings.getdict("ARCHIVE_CRAWL_COMMAND") or {"spider": "site"}
        return cls(ArchiveStore.open(url), crawler.stats, command)

    def open_spider(self, spider: object = None) -> None:
        self.crawl_id = self.store.begin_crawl(self.command)
        self.stats.set_value("archive/crawl_id", self.crawl_id)

    def close_spider(self, spider: object = None) -> None:
        self.writer.shutdown(wait=True)
        if self.crawl_id is not None:
            stats = {k: v for k, v in self.stats.get_stats().items() if k.startswith(("archive/", "extract/"))}
            self.store.finish_crawl(self.crawl_id, _jsonable(stats))
        self.store.close()

    async def process_item(self, item: PageItem, spider: object = None) -> PageItem:
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(self.writer, self._write, item)
        except ArchiveError:
            self.stats.inc_value("archive/write_failed")
            log.error("could not store %s", item.url, exc_info=True)
            raise
        self.stats.inc_value("archive/fetches")
        self.stats.inc_value(f"archive/{result.outcome}")
        if result.outcome == "error" and item.error:
            self.stats.inc_value(f"archive/errors/{item.error.split(':', 1)[0]}")
        return item

    def _write(self, item: PageItem) -> SaveResult:
        capture = Capture(url=item.url, fetched_at=item.fetched_at, status=item.status, raw=item.body,
                          content_type=item.content_type, etag=item.etag, last_modified=item.last_modified,
                          crawl_id=self.crawl_id)
        if item.error:
            return self.store.save_error(capture, item.error)
        if item.same_raw is not None:
            return self.store.save_same_raw(capture, item.same_raw)
        return self.store.save(item.extracted, capture)


def _jsonable(stats: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, (int, float, str, bool)) or v is None else str(v) for k, v in stats.items()}
