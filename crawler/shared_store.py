"""One archive handle per crawl: the crawl's middlewares and pipelines share one ArchiveStore.

Each of them used to open the archive itself (its own engine, connection pool and schema check).
The first to ask opens it here, keyed on the crawler; it is closed once, when the engine stops,
after every component's spider_closed (StorePipeline records the crawl's end there). Whoever
opens a store closes it: the components close their own threads, never the shared store.
"""

from __future__ import annotations

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from archive.store import ArchiveStore

_ATTRIBUTE = "archive_store"


def crawl_store(crawler: Crawler) -> ArchiveStore:
    """The crawl's archive (ARCHIVE_DB_URL), opened on first use and closed when the engine stops."""
    store = getattr(crawler, _ATTRIBUTE, None)
    if store is None:
        url = crawler.settings.get("ARCHIVE_DB_URL")
        if not url:
            raise NotConfigured("ARCHIVE_DB_URL is empty")
        store = ArchiveStore.open(url)
        setattr(crawler, _ATTRIBUTE, store)
        crawler.signals.connect(store.close, signal=signals.engine_stopped, weak=False)
    return store
