"""Page -> Extracted in worker processes with a time limit; an unchanged page (same bytes) skips extraction."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from archive import fingerprint
from archive.config import default
from archive.errors import ArchiveError, ExtractionError
from archive.extract import extract
from archive.extract.dates import in_site_zone
from archive.extract.declared import with_declared_tickers
from archive.site_zones import SiteZones, needs_zone
from archive.store import ArchiveStore
from archive.urls import site_of
from crawler.items import PageItem
from crawler.shared_store import crawl_store
from pipelines.workers import ExtractorPool

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NotAnArticle:
    """Stands in for extraction when the URL alone says the page is a listing: the store keeps
    the fetch (outcome not_article) and nothing else."""

    url: str
    is_article: bool = False


class ExtractPipeline:
    """Runs archive.extract in an ExtractorPool (pipelines.workers): a page that takes longer than
    ARCHIVE_EXTRACT_TIMEOUT seconds is recorded as extract_timeout and the crawl moves on.
    Reads ARCHIVE_DB_URL, ARCHIVE_EXTRACT_WORKERS, ARCHIVE_EXTRACT_TIMEOUT."""

    def __init__(self, store: ArchiveStore, stats: StatsCollector, pool: ExtractorPool) -> None:
        self.store, self.stats, self.pool = store, stats, pool
        self.lookups = ThreadPoolExecutor(max_workers=2, thread_name_prefix="extract-db")
        self.zones = SiteZones(store.site_offsets)
        self.prepared = False  # the store's fingerprint (archive.fingerprint.prepare)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ExtractPipeline":
        settings = crawler.settings
        store = crawl_store(crawler)
        pool = ExtractorPool(extract, settings.getint("ARCHIVE_EXTRACT_WORKERS", default("extract_workers")),
                             settings.getfloat("ARCHIVE_EXTRACT_TIMEOUT", 30.0))
        return cls(store, crawler.stats, pool)

    def close_spider(self, spider: object = None) -> None:
        self.lookups.shutdown(wait=True)
        self.pool.close()  # the store is the crawl's (crawler.shared_store)

    async def _in_site_zone(self, item: PageItem) -> object:
        """The page's times in its site's zone: the sources file's, else learned from the site's pages."""
        page, site = item.extracted, site_of(item.url)
        configured = item.meta.get("timezone")
        if needs_zone(page) and not configured and not self.zones.known(site):
            try:
                await asyncio.get_running_loop().run_in_executor(self.lookups, self.zones.load, site)
            except ArchiveError:  # cannot tell: the page's times stay as it gave them
                log.warning("could not read the stored offsets of %s", site, exc_info=True)
        self.zones.observe(site, page)
        if needs_zone(page):
            zoned = in_site_zone(page, self.zones.zone(site, configured))
            if zoned is not page:
                self.stats.inc_value("extract/site_zone")
            return zoned
        return page

    async def process_item(self, item: PageItem, spider: object = None) -> PageItem:
        if item.error or item.body is None or item.not_modified:
            return item
        if item.meta.get("article") is False:  # the sources' URL rules: followed, never an article
            item.extracted = NotAnArticle(item.url)
            self.stats.inc_value("extract/skipped_url_rule")
            return item
        previous = None
        if not item.meta.get("first_fetch"):  # a page fetched before: are these the same bytes?
            try:
                previous = await asyncio.get_running_loop().run_in_executor(
                    self.lookups, self.store.seen_raw, item.url, hashlib.sha256(item.body).hexdigest())
            except ArchiveError:  # cannot tell: extract again, the store decides
                log.warning("could not look up earlier fetches of %s", item.url, exc_info=True)
        if previous is not None:
            item.same_raw = previous
            self.stats.inc_value("extract/skipped_same_raw")
            return item
        if not self.prepared:  # the first page to extract: the workers start now, and articles will be stored
            self.prepared = True
            self.lookups.submit(fingerprint.prepare)
        try:
            item.extracted = await self.pool.extract(item.body, item.url, item.content_type)
            if item.meta.get("declared_tickers"):  # from a news sitemap
                item.extracted = with_declared_tickers(item.extracted, item.meta["declared_tickers"])
            item.extracted = await self._in_site_zone(item)
            self.stats.inc_value("extract/ok")
        except ExtractionError as exc:
            item.error = f"{exc.kind}: {exc}"
            self.stats.inc_value("extract/failed")
            self.stats.inc_value(f"extract/failed/{exc.kind}")
            log.warning("cannot extract %s: %s", item.url, item.error)
        return item
