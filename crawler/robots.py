"""robots.txt as RFC 9309 reads it: Scrapy's middleware, with unavailability and quiet failures.

Scrapy treats a robots.txt that answers 5xx as allow-all (it parses the error page), and logs a
60-line traceback whenever robots.txt cannot be fetched at all. RFC 9309 (2.3.1.4) says a
robots.txt unreachable through server or network errors means complete disallow, until it can be
fetched again. Here:

- 5xx, a timeout, a reset: every page of the site is refused (error kind robots_unavailable,
  recorded and counted) and robots.txt is asked again after ARCHIVE_ROBOTS_RETRY_AFTER seconds;
- the host does not resolve or refuses connections: the same complete disallow (no page is sent
  to a host that may come back between robots.txt and the page), but each page is recorded with
  the host's own, truthful error kind (dns, connection_refused);
- either way, one log line, no traceback.
"""

from __future__ import annotations

import logging
import time

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

log = logging.getLogger(__name__)

#: Failures after which the host itself is missing: the pages are left to fail the same way.
HOST_MISSING = ("dns", "connection_refused")


class RobotsUnavailable(IgnoreRequest):
    """A page not requested because its site's robots.txt is unavailable; `kind` is the error kind
    it is recorded with ("robots_unavailable", or the missing host's "dns" / "connection_refused")."""

    def __init__(self, reason: str, kind: str = "robots_unavailable") -> None:
        super().__init__(reason)
        self.kind = kind


class RobotsTxt(RobotsTxtMiddleware):
    """RobotsTxtMiddleware with RFC 9309's rule for an unavailable robots.txt (see the module)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.retry_after = crawler.settings.getfloat("ARCHIVE_ROBOTS_RETRY_AFTER", 600.0)
        self.unavailable: dict[str, RobotsUnavailable] = {}  # netloc -> the refusal, until `asked_again`
        self.asked_again: dict[str, float] = {}  # netloc -> when robots.txt is asked again (monotonic)

    async def process_request(self, request: Request) -> None:
        if request.meta.get("dont_obey_robotstxt") or request.url.startswith(("data:", "file:")):
            return
        netloc = urlparse_cached(request).netloc
        if netloc in self.unavailable and time.monotonic() >= self.asked_again[netloc]:  # ask again
            del self.unavailable[netloc]
            self._parsers.pop(netloc, None)
        parser = await self.robot_parser(request)
        down = self.unavailable.get(netloc)
        if down is not None:
            self._stats.inc_value("archive/robots_unavailable")
            raise RobotsUnavailable(str(down), down.kind)
        self.process_request_2(parser, request)

    async def robot_parser(self, request: Request) -> object:
        """The site's parser (None: everything allowed), fetching robots.txt once per site."""
        url = urlparse_cached(request)
        netloc = url.netloc
        if netloc not in self._parsers:
            self._parsers[netloc] = Deferred()
            robots_url = f"{url.scheme}://{netloc}/robots.txt"
            robots = Request(robots_url, priority=self.DOWNLOAD_PRIORITY, meta={"dont_obey_robotstxt": True},
                             callback=NO_CALLBACK)
            try:
                response = await self.crawler.engine.download_async(robots)
            except Exception as exc:  # noqa: BLE001 - every failure is judged below, none is raised
                self._failed(exc, netloc, robots_url)
            else:
                if response.status >= 500:
                    self._down(netloc, robots_url, f"robots.txt answered HTTP {response.status}")
                else:
                    await self._parse_robots(response, netloc, request)
            self._stats.inc_value("robotstxt/request_count")
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            return await maybe_deferred_to_future(parser)
        return parser

    def _failed(self, exc: Exception, netloc: str, robots_url: str) -> None:
        from crawler.failures import describe  # noqa: PLC0415 - failures imports this module
        if isinstance(exc, IgnoreRequest):  # refused or filtered by another middleware: Scrapy's allow-all
            self._robots_error(exc, netloc)
            return
        failed = describe(Failure(exc))
        if failed.kind in HOST_MISSING:  # each page's failure says it (counted, logged by the spider)
            log.info("%s: %s", robots_url, failed.error)
            self._disallow(netloc, RobotsUnavailable(f"{failed.message} (robots.txt; no page of the site is "
                                                     "requested until it answers, RFC 9309)", failed.kind))
        else:
            self._down(netloc, robots_url, f"robots.txt could not be fetched ({failed.error})")

    def _down(self, netloc: str, robots_url: str, why: str) -> None:
        """Complete disallow for the site until robots.txt is asked again, said once in the log."""
        reason = f"{why}: the site is off limits until it answers (RFC 9309)"
        log.warning("%s: %s; asking again in %.0f s", robots_url, reason, self.retry_after)
        self._disallow(netloc, RobotsUnavailable(reason))

    def _disallow(self, netloc: str, refusal: RobotsUnavailable) -> None:
        self.unavailable[netloc] = refusal
        self.asked_again[netloc] = time.monotonic() + self.retry_after
        self._robots_error(refusal, netloc)
