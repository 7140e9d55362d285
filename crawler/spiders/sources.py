"""Crawl the sites of a sources file: feeds and sitemaps first (newest first), start pages, and
the articles due for a recrawl; listings are followed, articles kept (see crawler.sources).

Every request of a site goes through that site's download slot ("source:NAME"), so its
delay and concurrency from the sources file hold across all its hosts; crawler.runner builds the
slots. robots.txt applies to feeds and sitemaps as to pages (Scrapy's RobotsTxtMiddleware
sees every request).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Iterable, Sequence

import scrapy
from scrapy.http import Response
from scrapy.utils.gz import gunzip
from twisted.python.failure import Failure

from archive.limits import MAX_DOCUMENT_BYTES
from archive.recrawl import Due
from archive.store import Validators
from archive.urls import canonical_url, site_of
from crawler.conditional import STORED_ONLY, VALIDATORS, follows_stored_links
from crawler.discovery import Entry, parse_feed, parse_sitemap, priority
from crawler.items import PageItem
from crawler.sources import Source
from crawler.spiders.site import ONCE_PER_CRAWL, SiteSpider

log = logging.getLogger(__name__)

#: Scrapy priorities: feeds and sitemaps before anything they list, due recrawls before discovery.
FEED_PRIORITY, DUE_PRIORITY = 3000, 2000
#: Sitemap indexes nested deeper than this are not read (the protocol allows one level; sites nest a few).
MAX_SITEMAP_DEPTH = 5
#: Sitemaps read per site and run, at most (the protocol's 50,000 per index is for search engines).
MAX_SITEMAPS = 10_000
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def slot_of(source: Source) -> str:
    return f"source:{source.name}"


class SourcesSpider(SiteSpider):
    """Discovery over `sources`, plus `due` recrawls; `skip` holds articles already fetched by the
    interrupted run this one resumes; `since` drops feed and sitemap entries older than it."""

    name = "sources"

    def __init__(self, sources: Sequence[Source] = (), due: Sequence[Due] = (), since: datetime | None = None,
                 skip: Iterable[str] = (), discover: bool = True, **kwargs: Any) -> None:
        super().__init__(start_urls=[u for s in sources for u in s.start_urls], **kwargs)
        self.sources, self.due, self.since, self.discover = list(sources), list(due), since, discover
        self.skip = frozenset(skip)
        self.found: dict[str, Entry] = {}  # feed and sitemap entries, until all documents are read
        self.pending = 0  # feeds and sitemaps requested but not read yet
        self.documents: set[str] = set()  # feeds and sitemaps requested in this run: each is read once
        self.sitemaps_of: dict[str, int] = {}  # sitemaps requested per source
        self.refused: set[tuple[str, str]] = set()  # (kind, source) of refused child sitemaps, logged once

    def source_of(self, url: str) -> Source | None:
        return next((s for s in self.sources if s.owns(url)), None)

    def _source_for(self, response: Response) -> Source | None:
        """The source of a response, or of the request that led to it (a redirect off its sites)."""
        return self.source_of(response.url) or self.source_of(response.request.url if response.request else "")

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for due in self.due:
            known = Validators(due.article_id, due.etag, due.last_modified) if due.etag or due.last_modified else False
            request = self.request(due.url, priority=DUE_PRIORITY,
                                   meta={VALIDATORS: known, "article_id": due.article_id, "follow": False,
                                         "due": True})
            if request is not None and not request.meta.get(STORED_ONLY):
                self.crawler.stats.inc_value("crawl/due")
                yield request
        if not self.discover:
            return
        documents = [(url, source, callback) for source in self.sources
                     for url, callback in [*((u, self.parse_feed) for u in source.feeds),
                                           *((u, self.parse_sitemap) for u in source.sitemaps)]]
        documents = [(url, source, callback) for url, source, callback in documents if self._first_time(url)]
        self.pending = len(documents)
        for url, source, callback in documents:
            yield self.as_start(self._document(url, source, callback))
        if not documents:
            for request in self._release():
                if not request.meta.get(STORED_ONLY):  # start requests do not pass SkipFresh
                    yield request

    def _first_time(self, url: str) -> bool:
        """Not yet requested as a feed or sitemap in this run (and now it is)."""
        try:
            key = canonical_url(url)
        except ValueError:
            key = url
        if key in self.documents:
            return False
        self.documents.add(key)
        return True

    def _document(self, url: str, source: Source, callback: Any, depth: int = 0) -> scrapy.Request:
        """A feed or sitemap: always read in full (never conditional), never stored as a page, up to
        MAX_DOCUMENT_BYTES (Scrapy's download handler and decompression read the size limits from meta).
        dont_filter: the duplicate filter must not drop it for a page of the same URL; `_first_time`
        keeps each from being read twice."""
        return scrapy.Request(url, callback=callback, errback=self._document_failed, priority=FEED_PRIORITY,
                              dont_filter=True, meta={VALIDATORS: False, "download_slot": slot_of(source),
                                                      "sitemap_depth": depth, "download_maxsize": MAX_DOCUMENT_BYTES,
                                                      "download_warnsize": MAX_DOCUMENT_BYTES},
                              headers={"User-Agent": source.user_agent} if source.user_agent else None)

    def _document_failed(self, failure: Failure) -> Iterable[PageItem | scrapy.Request]:
        yield from self.failed(failure)
        yield from self._read_one()

    def _read_one(self) -> Iterable[scrapy.Request]:
        """One feed or sitemap less to read; after the last, what they listed, then the start pages.

        Articles are requested only once every feed and sitemap has been read, so that an
        article listed in both a feed and a news sitemap is fetched once, with what the sitemap
        declares (the duplicate filter keeps the first request made for a URL)."""
        self.pending -= 1
        if self.pending == 0:
            yield from self._release()

    def _release(self) -> Iterable[scrapy.Request]:
        for entry in sorted(self.found.values(), key=lambda e: e.published or _EPOCH, reverse=True):
            meta = {"declared_tickers": list(entry.tickers)} if entry.tickers else {}
            request = self.request(entry.url, priority=priority(entry.published), meta=meta)
            if request is not None:
                if not request.meta.get(STORED_ONLY):
                    self.crawler.stats.inc_value("crawl/listed")  # the progress line's known total
                yield request
        self.found.clear()
        for source in self.sources:
            for url in source.start_urls:
                request = self.request(url, dont_filter=True, meta={ONCE_PER_CRAWL: True})
                if request is not None:
                    yield request if request.meta.get(STORED_ONLY) else self.as_start(request)

    def request(self, url: str, **kwargs: Any) -> scrapy.Request | None:
        source = self.source_of(url)
        if source is None:
            return None
        if source.refuses(url):
            self.crawler.stats.inc_value("crawl/denied")
            return None
        meta = {"download_slot": slot_of(source), **kwargs.pop("meta", {})}
        if url in self.skip:
            self.crawler.stats.inc_value("crawl/skipped_resumed")
            if not follows_stored_links(self.crawler.settings):
                return None
            meta[STORED_ONLY] = True  # not fetched again: SkipFresh follows the links of its stored page
        headers = {"User-Agent": source.user_agent} if source.user_agent else None
        return scrapy.Request(url, callback=self.parse, errback=self.failed, meta=meta, headers=headers, **kwargs)

    def site_key(self, url: str) -> str | None:
        """The download slot of a URL's site: crawler.politeness puts robots.txt there too."""
        source = self.source_of(url)
        return slot_of(source) if source is not None else None

    def may_follow(self, url: str) -> bool:
        return self.source_of(url) is not None

    def item_meta(self, response: Response) -> dict[str, Any]:
        meta = super().item_meta(response)
        source = self._source_for(response)
        if source is not None and not source.may_be_article(response.url):
            meta["article"] = False
        if source is not None and source.timezone:
            meta["timezone"] = source.timezone
        if response.meta.get("declared_tickers"):
            meta["declared_tickers"] = response.meta["declared_tickers"]
        return meta

    # -- feeds and sitemaps ---------------------------------------------------------------------
    def parse_feed(self, response: Response) -> Iterable[scrapy.Request]:
        self.reached(response)
        self.crawler.stats.inc_value("crawl/feeds")
        self._collect(response, parse_feed(_body(response), response.url), "feed")
        yield from self._read_one()

    def parse_sitemap(self, response: Response) -> Iterable[scrapy.Request]:
        self.reached(response)
        self.crawler.stats.inc_value("crawl/sitemaps")
        entries = parse_sitemap(_body(response), response.url)
        source = self._source_for(response)
        self._first_time(response.url)  # reached through a redirect: that URL is read now too
        depth = response.meta.get("sitemap_depth", 0) + 1
        for entry in [e for e in entries if e.is_sitemap]:
            if source is not None and self._recent(entry) and self._may_read(entry.url, response, source, depth):
                self.pending += 1
                self.sitemaps_of[source.name] = self.sitemaps_of.get(source.name, 0) + 1
                yield self._document(entry.url, source, self.parse_sitemap, depth)
        self._collect(response, [e for e in entries if not e.is_sitemap], "sitemap", listed=len(entries))
        yield from self._read_one()

    def _may_read(self, url: str, response: Response, source: Source, depth: int) -> bool:
        """A child sitemap is read once a run, within the depth and count bounds, when the sitemaps
        protocol's cross-submission rule allows it: on the index's own host, or on a host the sources
        file names for the site. Each refusal is counted by kind (crawl/sitemaps_refused/KIND) and
        logged once per kind and site."""
        try:
            off_site = site_of(url) != site_of(response.url) and not source.owns(url)
        except ValueError:  # a malformed URL (bad port): not read
            off_site = True
        if off_site:
            kind, why = "off_site", f"{url}, listed by {response.url}, is on a host the sources file does not name"
        elif not self._first_time(url):
            kind, why = "loop", f"{url} is listed again by {response.url}: each sitemap is read once a run"
        elif depth > MAX_SITEMAP_DEPTH:
            kind, why = "too_deep", f"{url} is nested more than {MAX_SITEMAP_DEPTH} sitemap indexes deep"
        elif self.sitemaps_of.get(source.name, 0) >= MAX_SITEMAPS:
            kind, why = "too_many", f"more than {MAX_SITEMAPS} sitemaps for {source.name}; {url} and later not read"
        else:
            return True
        self.crawler.stats.inc_value(f"crawl/sitemaps_refused/{kind}")
        if (kind, source.name) not in self.refused:
            self.refused.add((kind, source.name))
            log.warning("sitemap not read (%s): %s", kind.replace("_", " "), why)
        return False

    def _collect(self, response: Response, entries: list[Entry], kind: str, listed: int | None = None) -> None:
        """Keep the recent entries, merged by URL: a feed's date and a sitemap's tickers together."""
        if not (listed if listed is not None else entries):
            self.crawler.stats.inc_value(f"crawl/empty_{kind}")
            log.warning("no entries in %s %s (not a %s, or empty)", kind, response.url, kind)
        for entry in entries:
            if not self._recent(entry):
                self.crawler.stats.inc_value("crawl/older_than_since")
                continue
            url = canonical_url(entry.url)
            known = self.found.get(url)
            self.found[url] = Entry(url, entry.published or (known.published if known else None),
                                    entry.title or (known.title if known else None),
                                    tuple(dict.fromkeys((*(known.tickers if known else ()), *entry.tickers))))

    def _recent(self, entry: Entry) -> bool:
        """Newer than --since (an entry without a date is kept: it cannot be shown to be old)."""
        return self.since is None or entry.published is None or entry.published >= self.since


def _body(response: Response) -> bytes:
    """The document, gunzipped when the file itself is gzip (sitemap.xml.gz)."""
    body = response.body
    if body[:2] == b"\x1f\x8b":
        try:
            return gunzip(body, max_size=MAX_DOCUMENT_BYTES)
        except (OSError, EOFError, ValueError) as exc:  # a broken .gz: no entries, logged below
            log.warning("cannot gunzip %s: %s", response.url, exc)
            return b""
    return body
