"""Follow links within the given sites; every HTML page goes to the pipelines, which keep articles."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Iterable

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from archive.urls import site_of
from crawler.conditional import FIRST_FETCH, FreshEnough
from crawler.failures import describe
from crawler.items import PageItem
from crawler.links import page_links
from crawler.politeness import NotStarted

log = logging.getLogger(__name__)

#: Request meta marking a start URL (for a sources crawl also its feeds and sitemaps): a crawl
#: fails when none of them could be fetched.
START = "archive_start"
#: Request meta marking a request every worker of a shared crawl makes although it bypasses the
#: duplicate filter (dont_filter) in a crawl of its own, such as a sources site's start page: the
#: shared crawl (crawler.frontier) lets it through once per run, through the shared seen-set.
ONCE_PER_CRAWL = "archive_once_per_crawl"


class SiteSpider(scrapy.Spider):
    """Crawl one or more sites from their start URLs, same-site links only."""

    name = "site"

    def __init__(self, start_urls: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(start_urls, str):
            start_urls = start_urls.split(",")
        self.start_urls = [u.strip() for u in start_urls if u.strip()]
        self.sites = {site_of(u) for u in self.start_urls}

    async def start(self) -> AsyncIterator[scrapy.Request | PageItem]:
        for url in self.start_urls:
            self.crawler.stats.inc_value("archive/start_urls")
            try:
                yield scrapy.Request(url, callback=self.parse, errback=self.failed, meta={START: True})
            except ValueError as exc:  # a port out of range, a bad IPv6 literal: no request can be made
                yield self.start_failed(url, f"bad_url: {exc}")

    def as_start(self, request: scrapy.Request) -> scrapy.Request:
        """Count `request` as one of the crawl's starting points (see START)."""
        self.crawler.stats.inc_value("archive/start_urls")
        request.meta[START] = True
        return request

    def reached(self, response: Response) -> None:
        """Count a response to a starting point (any status: the site answered)."""
        if response.meta.get(START):
            self.crawler.stats.inc_value("archive/start_fetched")

    def start_failed(self, url: str, error: str, status: int | None = None) -> PageItem:
        """Count a start URL that could not be fetched, and record it."""
        self.crawler.stats.inc_value("archive/start_failed")
        self.crawler.stats.set_value("archive/start_error", f"{url}: {error}")
        log.warning("start URL not fetched: %s: %s", url, error)
        return PageItem(url=url, fetched_at=datetime.now(timezone.utc), status=status, error=error)

    def parse(self, response: Response) -> Iterable[PageItem | scrapy.Request]:
        self.reached(response)
        if response.status == 304:
            yield self.not_modified(response)
            return
        content_type = response.headers.get("Content-Type", b"").decode("latin-1").lower()
        if content_type and "html" not in content_type:
            self.crawler.stats.inc_value("crawl/skipped_not_html")
            return
        yield PageItem(
            url=response.url, fetched_at=datetime.now(timezone.utc), status=response.status,
            body=response.body, content_type=content_type or None,
            etag=_header(response, "ETag"), last_modified=_header(response, "Last-Modified"),
            headers=_headers(response), meta=self.item_meta(response),
        )
        if not isinstance(response, TextResponse) or response.meta.get("follow") is False:
            return
        for url in page_links(response):
            if self.may_follow(url):
                request = self.request(url)
                if request is not None:
                    yield request

    def may_follow(self, url: str) -> bool:
        return site_of(url) in self.sites

    def request(self, url: str, **kwargs: Any) -> scrapy.Request | None:
        """The request for a link (None: not to be fetched)."""
        return scrapy.Request(url, callback=self.parse, errback=self.failed, **kwargs)

    def item_meta(self, response: Response) -> dict[str, Any]:
        """What the pipelines should know of this page beyond the response itself."""
        article_id = response.meta.get("article_id")
        meta: dict[str, Any] = {"article_id": article_id} if article_id is not None else {}
        if response.meta.get(FIRST_FETCH) and not response.meta.get("redirect_urls"):
            meta["first_fetch"] = True  # the URL asked for is the URL fetched, and it is new
        if response.meta.get("redirect_urls"):  # a canonical claim naming one of them is the canonical's own
            meta["redirected_from"] = list(response.meta["redirect_urls"])
        return meta

    def not_modified(self, response: Response) -> PageItem:
        """A 304 to a conditional refetch: the article is as it was. The validators sent back are
        kept, or those the request carried when the server repeats none."""
        self.crawler.stats.inc_value("crawl/not_modified")
        request = response.request
        sent = (request.headers if request is not None else {})

        def validator(name: str, asked: str) -> str | None:
            value = response.headers.get(name) or sent.get(asked)
            return value.decode("latin-1") if value else None
        return PageItem(url=response.url, fetched_at=datetime.now(timezone.utc), status=304, not_modified=True,
                        etag=validator("ETag", "If-None-Match"),
                        last_modified=validator("Last-Modified", "If-Modified-Since"),
                        headers=_headers(response), meta=self.item_meta(response))

    def failed(self, failure: Failure) -> Iterable[PageItem]:
        """A failed fetch is an item too: it is recorded and counted, and the crawl goes on."""
        request = failure.request  # type: ignore[attr-defined]
        url = (request.meta.get("redirect_urls") or [request.url])[0]  # the link followed, not where it led
        if isinstance(failure.value, FreshEnough):  # fetched moments ago: the recrawl schedule's job
            self.crawler.stats.inc_value("archive/skipped_fresh")
            return
        if isinstance(failure.value, NotStarted):  # the crawl is stopping: the next run asks for it
            self.crawler.stats.inc_value("crawl/not_started")
            return
        failed = describe(failure, request.meta.get("download_maxsize") or self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
        start = bool(request.meta.get(START))
        if failed.kind == "robots_txt":  # the site's rule, not a failure: counted, never fetched, not stored
            self.crawler.stats.inc_value("archive/robots_disallowed")
            log.info("not fetched (robots.txt): %s", url)
            if start:
                self.crawler.stats.inc_value("archive/start_failed")
                self.crawler.stats.set_value("archive/start_error", f"{url}: disallowed by robots.txt")
            return
        self.crawler.stats.inc_value(f"crawl/failed/{failed.kind}")
        if start:
            yield self.start_failed(url, failed.error, failed.status)
            return
        log.info("fetch failed: %s: %s", url, failed.error)
        yield PageItem(url=url, fetched_at=datetime.now(timezone.utc), status=failed.status,
                       error=failed.error)


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _headers(response: Response) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1"))
            for name, values in response.headers.items() for value in values]
