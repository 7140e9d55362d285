"""Conditional refetches: ask for a known article "only if it changed since the last fetch".

A refetch of a URL whose last fetch was an article's carries If-None-Match (its ETag) and
If-Modified-Since (its Last-Modified). A 304 answer costs one small response and no extraction:
the spider turns it into a `not_modified` item and the store records "seen unchanged at T".
A server that sends no validators gets plain requests; the raw-hash shortcut
(pipelines.extract) then still skips extraction when the bytes are the same.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any, AsyncIterator, Mapping, Self, Sequence

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse, Response
from scrapy.settings import Settings
from scrapy.statscollectors import StatsCollector

from archive.errors import ArchiveError
from archive.recrawl import DEFAULT_SCHEDULE, REFRESH_DUE
from archive.store import ArchiveStore, Validators
from archive.urls import site_of
from crawler.links import page_links
from crawler.shared_store import crawl_store

log = logging.getLogger(__name__)

#: Request meta key: the Validators to send, when already known (due recrawls, and links that
#: SkipFresh looked up); False to send none (feeds and sitemaps must always be read in full;
#: links SkipFresh found to be no known article's).
VALIDATORS = "archive_validators"
#: Request meta key: SkipFresh found no earlier successful fetch of this URL, so the raw-hash
#: shortcut has nothing to compare with (pipelines.extract skips its lookup).
FIRST_FETCH = "archive_first_fetch"
#: Request meta key: the URL the validators on the request were looked up for (a redirect changes the URL).
_VALIDATED_FOR = "archive_validated_for"
#: Setting: the previous run of this crawl did not finish (stopped, killed, --max-pages), so the
#: pages it fetched may hold links it never followed: an article not requested again (not due, or
#: stored by the run this one resumes) has the links of its stored page followed instead.
FOLLOW_STORED = "ARCHIVE_FOLLOW_STORED_LINKS"
#: Request meta key: not to be fetched (the run this one resumes stored it); its stored links are followed.
STORED_ONLY = "archive_stored_only"


def follows_stored_links(settings: Settings) -> bool:
    """FOLLOW_STORED, when SkipFresh runs to do it (an archive to read, conditional fetches on)."""
    return (settings.getbool(FOLLOW_STORED) and bool(settings.get("ARCHIVE_DB_URL"))
            and settings.getbool("ARCHIVE_CONDITIONAL_GET", True))


def refresh_after(settings: Settings) -> float | None:
    """ARCHIVE_REFRESH_AFTER in seconds, or None for REFRESH_DUE ("when its recrawl is due")."""
    value = settings.get("ARCHIVE_REFRESH_AFTER", REFRESH_DUE)
    return None if value == REFRESH_DUE else float(value)


def recrawl_schedule(settings: Settings) -> tuple[timedelta, ...]:
    """ARCHIVE_RECRAWL_SCHEDULE (ages in seconds) as the recrawl module's schedule."""
    ages = settings.getlist("ARCHIVE_RECRAWL_SCHEDULE")
    return tuple(timedelta(seconds=float(age)) for age in ages) if ages else DEFAULT_SCHEDULE


def site_schedules(settings: Settings) -> dict[str, tuple[timedelta, ...]]:
    """ARCHIVE_RECRAWL_SCHEDULES: the sites with a schedule of their own (sources file `recrawl`)."""
    return {site: tuple(timedelta(seconds=float(age)) for age in ages)
            for site, ages in (settings.getdict("ARCHIVE_RECRAWL_SCHEDULES") or {}).items() if ages}


class FreshEnough(IgnoreRequest):
    """A known article fetched less than ARCHIVE_REFRESH_AFTER ago: not requested again (it is
    revisited when its recrawl is due). Counted as archive/skipped_fresh, not stored."""


class _ArchiveLookups:
    """What both middlewares below hold: the archive, the crawl's stats, the ARCHIVE_REFRESH_AFTER
    window (None: "when due by `schedule`"), and one thread for their database lookups (off the
    reactor), closed with the spider."""

    thread_name = "archive-lookups"

    def __init__(self, store: ArchiveStore, stats: StatsCollector | None, refresh_after: float | None = 0.0,
                 schedule: Sequence[timedelta] = DEFAULT_SCHEDULE,
                 site_schedules: Mapping[str, Sequence[timedelta]] | None = None) -> None:
        self.store, self.stats, self.schedule = store, stats, tuple(schedule)
        self.site_schedules = {site: tuple(ages) for site, ages in (site_schedules or {}).items()}
        self.refresh_after = None if refresh_after is None else timedelta(seconds=refresh_after)
        self.lookups = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self.thread_name)

    @classmethod
    def _opened(cls, crawler: Crawler) -> Self:
        """The middleware on the crawl's archive (its own from_crawler has decided it is wanted)."""
        settings = crawler.settings
        middleware = cls(crawl_store(crawler), crawler.stats, refresh_after(settings),
                         recrawl_schedule(settings), site_schedules(settings))
        crawler.signals.connect(middleware.close, signal=signals.spider_closed)
        return middleware

    def close(self) -> None:
        self.lookups.shutdown(wait=True)  # the store is the crawl's (crawler.shared_store)


class ConditionalGet(_ArchiveLookups):
    """Downloader middleware; reads ARCHIVE_DB_URL, ARCHIVE_CONDITIONAL_GET (on by default) and
    ARCHIVE_REFRESH_AFTER. A window in seconds applies to every request (0: a known article is
    always asked for again); REFRESH_DUE is SkipFresh's alone: a start URL is always requested."""

    thread_name = "validators"

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ConditionalGet":
        settings = crawler.settings
        if not settings.getbool("ARCHIVE_CONDITIONAL_GET", True) or not settings.get("ARCHIVE_DB_URL"):
            raise NotConfigured("conditional refetches are off")
        return cls._opened(crawler)

    async def process_request(self, request: Request) -> None:
        if request.meta.get(STORED_ONLY):  # SkipFresh drops these; never fetched if one gets here
            raise FreshEnough("stored by the interrupted run this one resumes")
        known = request.meta.get(VALIDATORS)
        if request.meta.get("redirect_urls") and request.meta.get(_VALIDATED_FOR) != request.url:
            # A redirect carries the validators of the URL asked first: a 304 to them from another
            # page (the home page, unchanged since that date) would say the article was seen.
            for name in ("If-None-Match", "If-Modified-Since"):
                request.headers.pop(name, None)
            request.meta.pop("article_id", None)
            known = None
        elif known is False or request.headers.get("If-None-Match") or request.headers.get("If-Modified-Since"):
            return None
        if known is None:
            try:
                known = await asyncio.get_running_loop().run_in_executor(self.lookups, self.store.validators,
                                                                         request.url)
            except ArchiveError as exc:  # cannot tell: an unconditional fetch is always correct
                log.warning("could not look up validators for %s: %s", request.url, exc)
                return None
        if not isinstance(known, Validators):
            return None
        if (self.refresh_after and known.fetched_at is not None and not request.meta.get("due")
                and not request.meta.get("redirect_urls")  # where an archived article now leads: to be seen
                and datetime.now(timezone.utc) - known.fetched_at < self.refresh_after):
            raise FreshEnough(f"fetched {known.fetched_at:%Y-%m-%d %H:%M} UTC, less than "
                              f"ARCHIVE_REFRESH_AFTER ago")
        request.meta["article_id"], request.meta[_VALIDATED_FOR] = known.article_id, request.url
        # An archived article's URL that now redirects is seen through, even to a page this crawl
        # fetched already (the home page): that is how a removal or a move is observed (archive.removals).
        request.dont_filter = True
        if known.etag:
            request.headers["If-None-Match"] = known.etag
        if known.last_modified:
            request.headers["If-Modified-Since"] = known.last_modified
        if self.stats and (known.etag or known.last_modified):
            self.stats.inc_value("crawl/conditional_requests")
        return None


#: Links looked up in one query (SQLite allows 32,766 bound values a statement).
LOOKUP_BATCH = 500


class SkipFresh(_ArchiveLookups):
    """Spider middleware: the links of a page are looked up in the archive together, one query
    per page (per 500 links), before Scrapy schedules them. Links to known articles that need no
    new request are dropped: by default (ARCHIVE_REFRESH_AFTER = REFRESH_DUE) those not due for a
    revisit by the recrawl schedule, ARCHIVE_RECRAWL_SCHEDULE; with a window in seconds, those
    fetched within it; with 0, none. The others carry what was found (VALIDATORS, FIRST_FETCH),
    so that neither ConditionalGet nor the raw-hash shortcut asks the database about them again.

    ConditionalGet could decide alone, but one request at a time as each is about to be
    downloaded: on a second crawl of an unchanged site that was a lookup, a dropped request and
    an errback per link through the scheduler and every middleware, most of such a crawl's time;
    on a first crawl, a query per page that finds nothing. Start requests and due recrawls
    (which carry their validators) are left to ConditionalGet.
    """

    thread_name = "fresh-links"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.crawler: Crawler | None = None
        self.follow_stored = False  # FOLLOW_STORED: the links of skipped articles' stored pages are followed
        self.expanded: set[str] = set()  # pages whose stored links were followed in this run
        # Links to articles this very crawl fetched are dropped too, but they are no "known article
        # not due": Scrapy's duplicate filter would drop them anyway, and a first crawl has none.
        self.started = datetime.now(timezone.utc)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "SkipFresh":
        settings = crawler.settings
        if not settings.get("ARCHIVE_DB_URL") or not settings.getbool("ARCHIVE_CONDITIONAL_GET", True):
            raise NotConfigured  # no archive to ask, or every page is to be fetched in full
        middleware = cls._opened(crawler)
        middleware.crawler, middleware.follow_stored = crawler, follows_stored_links(settings)
        return middleware

    async def process_spider_output(self, response: Response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        held: list[Request] = []
        async for entry in result:
            if isinstance(entry, Request) and entry.meta.get(VALIDATORS) is None and not entry.meta.get("due"):
                held.append(entry)
                if len(held) >= LOOKUP_BATCH:  # a sitemap's thousands of links: a query per batch
                    for request in await self._not_fresh(response, held):
                        yield request
                    held = []
            else:
                yield entry
        for request in await self._not_fresh(response, held):
            yield request

    async def _not_fresh(self, response: Response, requests: list[Request]) -> list[Request]:
        """The requests to keep: all but those for articles not due (or fetched within the window),
        and, with FOLLOW_STORED, those for the links of the stored pages of the ones dropped."""
        kept: list[Request] = []
        while requests:
            found, dropped = await self._sort(response, requests)
            kept += found
            requests = await self._stored_links(response, dropped) if self.follow_stored else []
        return kept

    async def _sort(self, response: Response, requests: list[Request]) -> tuple[list[Request], list[Request]]:
        """(the requests to keep, with what the archive knows of each; those dropped)."""
        dropped = [request for request in requests if request.meta.get(STORED_ONLY)]
        requests = [request for request in requests if not request.meta.get(STORED_ONLY)]
        if not requests:
            return [], dropped
        try:
            known, fresh = await asyncio.get_running_loop().run_in_executor(
                self.lookups, self._look_up, {request.url for request in requests})
        except ArchiveError as exc:  # cannot tell: ConditionalGet decides for each request
            log.warning("could not look up the links of %s: %s", response.url, exc)
            return requests, dropped
        if fresh and self.stats is not None:
            earlier = sum(request.url in fresh and not self._fetched_in_this_run(known.get(request.url))
                          for request in requests)
            if earlier:
                self.stats.inc_value("archive/skipped_fresh", earlier)
        kept = []
        for request in requests:
            if request.url in fresh:
                dropped.append(request)
                continue
            if request.url in known:
                request.meta[VALIDATORS] = known[request.url] or False  # None: not an article's URL
            else:
                request.meta[VALIDATORS], request.meta[FIRST_FETCH] = False, True
            kept.append(request)
        return kept, dropped

    def _fetched_in_this_run(self, validators: Validators | None) -> bool:
        fetched = validators.fetched_at if validators is not None else None
        return fetched is not None and fetched >= self.started

    async def _stored_links(self, response: Response, dropped: list[Request]) -> list[Request]:
        """Requests for the links of the stored pages of `dropped` (each page read once a run), made
        by the spider as for a link on a page it fetched, one level deeper."""
        depth = {request.url: request.meta.get("depth", 0) for request in dropped if request.url not in self.expanded}
        if not depth or self.crawler is None or self.crawler.spider is None:
            return []
        self.expanded.update(depth)
        try:
            links = await asyncio.get_running_loop().run_in_executor(self.lookups, self._links_of, list(depth))
        except ArchiveError as exc:
            log.warning("could not read the stored pages linked from %s: %s", response.url, exc)
            return []
        if self.stats is not None:
            self.stats.inc_value("crawl/stored_pages_followed", len(links))
        spider, limit = self.crawler.spider, self.crawler.settings.getint("DEPTH_LIMIT")
        requests = []
        for page, urls in links.items():
            if limit and depth[page] + 1 > limit:
                continue
            for url in urls:
                if url in self.expanded or not spider.may_follow(url):  # type: ignore[attr-defined]
                    continue
                request = spider.request(url)  # type: ignore[attr-defined]
                if request is not None:
                    request.meta["depth"] = depth[page] + 1
                    requests.append(request)
        return requests

    def _links_of(self, urls: list[str]) -> dict[str, list[str]]:
        """The links of the stored page of each of `urls` (in the lookup thread)."""
        found: dict[str, list[str]] = {}
        for start in range(0, len(urls), LOOKUP_BATCH):
            for url, (body, content_type) in self.store.stored_pages(urls[start:start + LOOKUP_BATCH]).items():
                page = HtmlResponse(url, body=body, headers={"Content-Type": content_type} if content_type else None)
                found[url] = list(page_links(page))
        return found

    def _look_up(self, urls: set[str]) -> tuple[dict[str, Validators | None], set[str]]:
        """(the last fetch of each URL fetched before, the URLs not to request): in the lookup thread."""
        known = self.store.last_fetches(urls)
        articles = {url: validators for url, validators in known.items() if validators is not None}
        if self.refresh_after is None:
            by_schedule: dict[tuple[timedelta, ...], dict[str, int]] = {}
            for url, v in articles.items():  # a site's own schedule (sources file `recrawl`), else the run's
                by_schedule.setdefault(self.site_schedules.get(site_of(url), self.schedule), {})[url] = v.article_id
            return known, set().union(*(self.store.not_due(group, schedule)
                                        for schedule, group in by_schedule.items()))
        since = datetime.now(timezone.utc) - self.refresh_after
        return known, {url for url, v in articles.items()
                       if self.refresh_after and v.fetched_at is not None and v.fetched_at >= since}
