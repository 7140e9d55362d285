"""--max-pages: a limit on the requests a crawl makes, counted where the scheduler hands a request
to the downloader, on one machine or shared by the workers of a crawl (crawler/frontier.py).

Scrapy's CLOSESPIDER_PAGECOUNT counts responses: by the time it closes the spider, every request
already scheduled, waiting for its site's turn or in flight is fetched too (`--max-pages 5` made
18 fetches). Here a request is counted before it leaves the scheduler, and none leaves once the
budget is spent: retries and redirects are requests and count too. robots.txt is not a page.
"""

from __future__ import annotations

import logging
from typing import Self

from scrapy import Request, signals
from scrapy.core.scheduler import Scheduler
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider

log = logging.getLogger(__name__)

#: The Scrapy setting both schedulers read: the crawl's --max-pages (0: no limit).
MAX_PAGES = "ARCHIVE_MAX_PAGES"


class PageLimit:
    """What both schedulers share: take a page from the budget before a request leaves; once none is
    left, hand out nothing more, let the requests under way finish, and then close the spider
    (reason closespider_pagecount, as Scrapy's own limit)."""

    crawler: Crawler
    max_pages = 0
    spent = False

    def take_page(self) -> bool:
        raise NotImplementedError

    def give_back_page(self) -> None:
        raise NotImplementedError

    def budget_left(self) -> bool:
        """False once the budget is spent."""
        if self.spent:
            return False
        if not self.max_pages or self.take_page():
            return True
        self.spent = True
        log.info("the crawl's %d pages (--max-pages) are fetched or under way; stopping after them", self.max_pages)
        return False

    def close_if_spent(self) -> None:
        """For the spider_idle signal: the engine is idle (what was under way is done)."""
        if self.spent:
            raise CloseSpider("closespider_pagecount")


class LimitedScheduler(PageLimit, Scheduler):
    """Scrapy's scheduler, with --max-pages counted on this machine."""

    taken = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        scheduler = super().from_crawler(crawler)
        scheduler.crawler, scheduler.max_pages = crawler, crawler.settings.getint(MAX_PAGES, 0)
        crawler.signals.connect(scheduler.close_if_spent, signal=signals.spider_idle)
        return scheduler

    def take_page(self) -> bool:
        if self.taken >= self.max_pages:
            return False
        self.taken += 1
        return True

    def give_back_page(self) -> None:
        self.taken -= 1

    def has_pending_requests(self) -> bool:
        return not self.spent and super().has_pending_requests()

    def next_request(self) -> Request | None:
        if not super().has_pending_requests() or not self.budget_left():
            return None
        request = super().next_request()
        if request is None and self.max_pages:
            self.give_back_page()
        return request
