"""Page -> Extracted, off the reactor thread; an unchanged page (same bytes) skips extraction."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from concurrent.futures import ThreadPoolExecutor

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from archive.errors import ExtractionError
from archive.extract import extract
from archive.store import ArchiveStore
from crawler.items import PageItem

log = logging.getLogger(__name__)


class ExtractPipeline:
    """Runs archive.extract in worker threads. Reads ARCHIVE_DB_URL, ARCHIVE_EXTRACT_THREADS."""

    def __init__(self, store: ArchiveStore, stats: StatsCollector, threads: int) -> None:
        self.store, self.stats = store, stats
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="extract")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ExtractPipeline":
        url = crawler.settings.get("ARCHIVE_DB_URL")
        if not url:
            raise NotConfigured("ARCHIVE_DB_URL is empty")
        return cls(ArchiveStore.open(url), crawler.stats, crawler.settings.getint("ARCHIVE_EXTRACT_THREADS", 2))

    def close_spider(self, spider: object = None) -> None:
        self.pool.shutdown(wait=True)
        self.store.close()

    async def process_item(self, item: PageItem, spider: object = None) -> PageItem:
        if item.error or item.body is None:
            return item
        loop = asyncio.get_running_loop()
        sha = hashlib.sha256(item.body).hexdigest()
        previous = await loop.run_in_executor(self.pool, self.store.seen_raw, item.url, sha)
        if previous is not None:
            item.same_raw = previous
            self.stats.inc_value("extract/skipped_same_raw")
            return item
        try:
            item.extracted = await loop.run_in_executor(self.pool, extract, item.body, item.url)
            self.stats.inc_value("extract/ok")
        except ExtractionError as exc:
            item.error = f"{exc.kind}: {exc}"
            self.stats.inc_value("extract/failed")
            log.warning("cannot extract %s: %s", item.url, item.error)
        return item
