"""Downloader middlewares: the address guard, redirect-loop detection, and Retry-After.

PrivateAddressGuard keeps the crawler out of private networks; RedirectLoopGuard turns a redirect
back to a URL already in the chain into a recorded failure (Scrapy's duplicate filter would
otherwise drop it silently, and the page would leave no trace); RetryAfter honours a server's
"come back in N seconds" on 429/503.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from email.utils import parsedate_to_datetime
from typing import Awaitable, Callable
from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.utils.response import get_meta_refresh
from scrapy.statscollectors import StatsCollector

from archive.urls import canonical_url
from crawler.addresses import is_ip_literal, is_public, static_refusal

log = logging.getLogger(__name__)

Resolve = Callable[[str, int], Awaitable[list[str]]]


class RefusedRequest(IgnoreRequest):
    """A request the address guard will not send (its error kind is "refused")."""


class RedirectLoop(IgnoreRequest):
    """A redirect back to a URL already visited in the same chain (error kind "redirect_loop")."""


async def resolve_all(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, without blocking the reactor (the loop's thread pool)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class PrivateAddressGuard:
    """Refuse non-HTTP schemes, and hosts that are, or resolve to, non-public addresses.

    Runs on every request, so redirects into a private network are refused like links are.
    A name is refused when any of its addresses is private (the connection could use any of
    them); verdicts are cached for `cache_seconds`. Lifted only by ARCHIVE_ALLOW_PRIVATE_ADDRESSES
    (tests and the demo). crawler.resolver.GuardedResolver backs this up at connect time.
    """

    def __init__(self, allow_private: bool, stats: StatsCollector | None = None,
                 resolve: Resolve = resolve_all, cache_seconds: float = 300.0) -> None:
        self.allow_private, self.stats, self.resolve = allow_private, stats, resolve
        self.cache_seconds = cache_seconds
        self.verdicts: dict[str, tuple[float, str | None]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "PrivateAddressGuard":
        return cls(crawler.settings.getbool("ARCHIVE_ALLOW_PRIVATE_ADDRESSES"), crawler.stats)

    async def process_request(self, request: Request) -> None:
        reason = await self.refusal(request.url)
        if reason is not None:
            if self.stats:
                self.stats.inc_value("crawl/refused")
            via = request.meta.get("redirect_urls")
            if via:
                reason += f" (redirected from {via[-1]})"
            log.info("refused %s: %s", request.url, reason)
            private = "address" in reason or "name" in reason  # what the opt-in would lift
            if private and self.stats:
                self.stats.inc_value("archive/refused_private")
            raise RefusedRequest(f"{reason}; set ARCHIVE_ALLOW_PRIVATE_ADDRESSES=1 to allow" if private else reason)
        return None

    async def refusal(self, url: str) -> str | None:
        """Why `url` may not be fetched, or None."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return f"scheme {parts.scheme!r} is not http(s)"
        if self.allow_private:
            return None
        reason = static_refusal(url)
        host = (parts.hostname or "").rstrip(".").lower()
        if reason is not None or is_ip_literal(host):
            return reason
        cached = self.verdicts.get(host)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return f"bad port in {url}"
        try:
            addresses = await self.resolve(host, port)
        except (OSError, UnicodeError):
            return None  # the download fails with its own, truthful DNS error
        private = sorted({a for a in addresses if not is_public(a)})
        verdict = f"{host} resolves to {', '.join(private)}, a private address" if private else None
        if len(self.verdicts) > 10_000:
            self.verdicts.clear()
        self.verdicts[host] = (time.monotonic() + self.cache_seconds, verdict)
        return verdict


class RedirectLoopGuard:
    """Fail a redirect whose target is already in its chain, so the loop is recorded, not dropped;
    refuse a redirect to a non-HTTP scheme (Scrapy would hand the 3xx on as an HTTP error).

    Meta refreshes too (Scrapy's MetaRefreshMiddleware follows them): a loop of them is recorded,
    and a page that refreshes itself (a live blog reloading) is kept as the page it is.
    """

    def __init__(self, ignore_tags: list[str] | None = None, max_delay: float = 100.0) -> None:
        self.ignore_tags, self.max_delay = ignore_tags or ["noscript"], max_delay

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "RedirectLoopGuard":
        settings = crawler.settings
        enabled = settings.getbool("METAREFRESH_ENABLED")
        return cls(settings.getlist("METAREFRESH_IGNORE_TAGS"), settings.getfloat("METAREFRESH_MAXDELAY") if enabled else 0)

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get("Location")
        if not (300 <= response.status < 400 and location):
            return self.meta_refresh(request, response)
        target = urljoin(request.url, location.decode("latin-1"))
        if urlsplit(target).scheme not in ("http", "https"):
            raise RefusedRequest(f"redirect to {urlsplit(target).scheme!r}, not http(s): {target[:200]}")
        chain = [*request.meta.get("redirect_urls", []), request.url]
        try:
            looped = canonical_url(target) in {canonical_url(url) for url in chain}
        except ValueError:  # a malformed Location: RedirectMiddleware decides what to do with it
            return response
        if looped:
            raise RedirectLoop(f"redirect loop: {' -> '.join(chain[-4:])} -> {target}")
        return response

    def meta_refresh(self, request: Request, response: Response) -> Response:
        """A meta refresh MetaRefreshMiddleware would follow: to the page itself, the page is kept
        (dont_redirect); back into the chain, a loop."""
        if not isinstance(response, HtmlResponse) or request.meta.get("dont_redirect") or not self.max_delay:
            return response
        delay, target = get_meta_refresh(response, ignore_tags=self.ignore_tags)
        if not target or delay is None or delay >= self.max_delay:
            return response
        chain = [*request.meta.get("redirect_urls", []), request.url]
        try:
            here, seen = canonical_url(target), {canonical_url(url) for url in chain}
            if here == canonical_url(request.url):
                request.meta["dont_redirect"] = True
            elif here in seen:
                raise RedirectLoop(f"meta refresh loop: {' -> '.join(chain[-4:])} -> {target}")
        except ValueError:
            pass
        return response


class RetryAfter:
    """Retry 429 (and 503 with Retry-After) after the delay the server asks for, up to a maximum.

    Reads ARCHIVE_RETRY_AFTER_MAX (longer waits are not honoured: the fetch is recorded as
    http_429), ARCHIVE_RETRY_AFTER_DEFAULT (a 429 without the header) and RETRY_TIMES. Counted
    as archive/retry_after in the crawl's stats. Must run before Scrapy's RetryMiddleware sees
    the response (a higher priority number), and 429 must be out of RETRY_HTTP_CODES.
    """

    def __init__(self, crawler: Crawler, max_delay: float, default_delay: float, times: int) -> None:
        self.crawler, self.max_delay, self.default_delay, self.times = crawler, max_delay, default_delay, times

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "RetryAfter":
        settings = crawler.settings
        return cls(crawler, settings.getfloat("ARCHIVE_RETRY_AFTER_MAX", 120.0),
                   settings.getfloat("ARCHIVE_RETRY_AFTER_DEFAULT", 5.0), settings.getint("RETRY_TIMES", 2))

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        header = response.headers.get("Retry-After")
        if response.status != 429 and not (response.status == 503 and header):
            return response
        delay = retry_after_seconds(header.decode("latin-1") if header else None, self.default_delay)
        if delay is None or delay > self.max_delay:
            log.warning("not retrying %s: HTTP %s asks to wait %s s (ARCHIVE_RETRY_AFTER_MAX is %s)",
                        request.url, response.status, delay, self.max_delay)
            return response
        retry = get_retry_request(request, spider=self.crawler.spider, reason=f"http_{response.status}_retry_after",
                                  max_retry_times=self.times, give_up_log_level=logging.INFO)
        if retry is None:
            return response
        stats = self.crawler.stats
        if stats:
            stats.inc_value("archive/retry_after")
            stats.inc_value("archive/retry_after_seconds", int(round(delay)))
        log.info("HTTP %s for %s: retrying after %.1f s (Retry-After)", response.status, request.url, delay)
        await asyncio.sleep(delay)
        return retry


def retry_after_seconds(value: str | None, default: float) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date; None when unreadable."""
    if value is None or not value.strip():
        return default
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())
