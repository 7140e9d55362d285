"""Follow links within the given sites; every HTML page goes to the pipelines, which keep articles."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Iterable

import scrapy
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from twisted.python.failure import Failure

from archive.urls import canonical_url, site_of
from crawler.failures import describe
from crawler.items import PageItem

log = logging.getLogger(__name__)


class SiteSpider(scrapy.Spider):
    """Crawl one or more sites from their start URLs, same-site links only."""

    name = "site"

    def __init__(self, start_urls: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(start_urls, str):
            start_urls = start_urls.split(",")
        self.start_urls = [u.strip() for u in start_urls if u.strip()]
        self.sites = {site_of(u) for u in self.start_urls}
        self.links = LinkExtractor(tags=("a", "area"), attrs=("href",), unique=True)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.start_urls:
            yield scrapy.Request(url, callback=self.parse, errback=self.failed)

    def parse(self, response: Response) -> Iterable[PageItem | scrapy.Request]:
        content_type = response.headers.get("Content-Type", b"").decode("latin-1").lower()
        if content_type and "html" not in content_type:
            self.crawler.stats.inc_value("crawl/skipped_not_html")
            return
        yield PageItem(
            url=response.url, fetched_at=datetime.now(timezone.utc), status=response.status,
            body=response.body, content_type=content_type or None,
            etag=_header(response, "ETag"), last_modified=_header(response, "Last-Modified"),
            headers=[(name.decode("latin-1"), value.decode("latin-1"))
                     for name, values in response.headers.items() for value in values],
        )
        if not isinstance(response, TextResponse):
            return
        for link in self.links.extract_links(response):
            if site_of(link.url) in self.sites:
                yield scrapy.Request(canonical_url(link.url), callback=self.parse, errback=self.failed)

    def failed(self, failure: Failure) -> Iterable[PageItem]:
        """A failed fetch is an item too: it is recorded and counted, and the crawl goes on."""
        request = failure.request  # type: ignore[attr-defined]
        url = (request.meta.get("redirect_urls") or [request.url])[0]  # the link followed, not where it led
        failed = describe(failure, self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
        self.crawler.stats.inc_value(f"crawl/failed/{failed.kind}")
        log.info("fetch failed: %s: %s", url, failed.error)
        yield PageItem(url=url, fetched_at=datetime.now(timezone.utc), status=failed.status,
                       error=failed.error)


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
