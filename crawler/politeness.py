"""What the archive promises each site, enforced in one place: a minimum gap between the starts
of two requests to the site, and a maximum number of its requests in flight.

A site is a download slot: a sources file's site ("source:NAME", all its hosts) or a host. Its
gap is the largest of
- its `delay`: the sources file's, else `archive crawl --delay` (DOWNLOAD_SLOTS, DOWNLOAD_DELAY);
- the `Crawl-delay` its robots.txt asks of our user agent (capped at ARCHIVE_MAX_CRAWL_DELAY);
- AutoThrottle's delay for it, when AutoThrottle is on: it can only slow a site down further.
Its concurrency is the sources file's, else CONCURRENT_REQUESTS_PER_DOMAIN (`--concurrency`).

Why not Scrapy's download slots: with no delay, Scrapy 2.19's Downloader._process_queue starts
every queued request of a slot at once (a request counts as transferring only once its download
coroutine runs, after the loop that checks the count), so the concurrency was never a limit; and
AutoThrottle's hook found no floor to keep (response.request is None there). Scrapy's slots keep
their concurrency but wait for nothing: a wait of theirs after ours could bunch requests ours spaced.

The gate is the last downloader middleware before the download: a request waits here for its
turn, holds a place until its response or error comes back, and is then let go. In a crawl shared
through Redis (crawler.frontier) every worker also takes a lease from the site's shared state
(SharedLimits), so the gap and the concurrency hold across all workers together.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Self

from scrapy import Request, Spider, signals
from scrapy.core.downloader import Slot
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.httpobj import urlparse_cached

from archive.config import default

log = logging.getLogger(__name__)

#: Where a request that holds a place at its site keeps it, until its response or error.
PLACE = "politeness_place"
#: Seconds a waiting request sleeps at most before it looks whether the crawl is stopping.
STOP_CHECK = 0.25


class NotStarted(IgnoreRequest):
    """A request that was waiting for its site's turn when the crawl began to stop: never sent,
    not a failure (the next run asks for it)."""


@dataclass(eq=False)
class Site:
    """One site's limits and what it has in flight. `delay` and `transferring` are the two
    attributes of a Scrapy downloader slot that AutoThrottle adjusts and logs, so that its own
    policy drives this site's adaptive delay."""

    key: str
    concurrency: int
    min_delay: float = 0.0     # the sources file's or the CLI's delay
    crawl_delay: float = 0.0   # robots.txt's Crawl-delay
    delay: float = 0.0         # AutoThrottle's delay (0 when it is off)
    in_flight: int = 0
    last_start: float = -math.inf
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)      # first come, first served
    freed: asyncio.Event = field(default_factory=asyncio.Event)

    def gap(self, margin: float = 0.0) -> float:
        """Seconds from one request start to the next: the promised gap (with `margin` added)
        or AutoThrottle's, whichever is longer."""
        promised = max(self.min_delay, self.crawl_delay)
        return max(promised + margin if promised > 0 else 0.0, self.delay)

    @property
    def strict(self) -> bool:
        """The site was promised a gap (a delay or a Crawl-delay, not only AutoThrottle's): it then
        takes one request at a time, and the gap also counts from the previous answer. A process
        may stall for a CPU between a request's turn and its sending, so the gap the server sees
        is kept only by an order of events: the next turn comes a gap after the previous answer,
        which came after the previous request reached the server, however late it was sent."""
        return max(self.min_delay, self.crawl_delay) > 0

    @property
    def limit(self) -> int:
        """Requests the site may have in flight (see `strict`)."""
        return 1 if self.strict else self.concurrency

    @property
    def transferring(self) -> range:
        return range(self.in_flight)


@dataclass(frozen=True)
class Place:
    site: Site
    lease: str | None  # the shared lease, in a shared crawl


class Politeness:
    """Downloader middleware: each request waits for its site's turn (see the module's docstring)."""

    def __init__(self, crawler: Crawler, shared: "SharedLimits | None" = None) -> None:
        settings = crawler.settings
        self.crawler, self.shared = crawler, shared
        self.concurrency = max(1, settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"))
        self.min_delay = settings.getfloat("DOWNLOAD_DELAY")
        self.per_site: dict[str, dict[str, Any]] = settings.getdict("DOWNLOAD_SLOTS")
        self.max_crawl_delay = settings.getfloat("ARCHIVE_MAX_CRAWL_DELAY", 60.0)
        self.robots_agent = settings.get("ROBOTSTXT_USER_AGENT") or None
        self.default_agent = settings.get("USER_AGENT") or ""
        self.poll = settings.getfloat("ARCHIVE_SHARED_POLL", 0.02)
        self.margin = settings.getfloat("ARCHIVE_GAP_MARGIN", default("gap_margin"))
        self.sites: dict[str, Site] = {}
        self.outage = 0.0  # seconds to wait before asking Redis again, while it cannot be reached
        self.throttle = _throttle(crawler, self)
        self.start_delay = settings.getfloat("AUTOTHROTTLE_START_DELAY") if self.throttle else 0.0
        crawler.signals.connect(self._opened, signal=signals.spider_opened)
        crawler.signals.connect(self._robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        shared = None
        if crawler.settings.get("ARCHIVE_FRONTIER_URL"):
            from crawler.frontier import connect  # noqa: PLC0415 - needs redis: only for shared crawls
            ttl = crawler.settings.getfloat("DOWNLOAD_TIMEOUT") + crawler.settings.getfloat("ARCHIVE_LEASE_MARGIN", 15.0)
            shared = SharedLimits(connect(crawler.settings["ARCHIVE_FRONTIER_URL"]),
                                  crawler.settings["ARCHIVE_FRONTIER_NAME"], ttl)
        return cls(crawler, shared)

    def _opened(self, spider: Spider) -> None:
        """Scrapy's slots keep their concurrency but wait for nothing (see the module's docstring);
        AutoThrottle sets the downloader's default delay the same way."""
        downloader = self.crawler.engine.downloader
        downloader._delay = 0.0
        downloader.per_slot_settings = {key: {**value, "delay": 0.0} for key, value in self.per_site.items()}

    def _closed(self, spider: Spider) -> None:
        if self.shared is not None:
            self.shared.close()

    # -- sites ---------------------------------------------------------------------------------
    def key_of(self, request: Request) -> str:
        """The request's site: its download slot; else the spider's site for the URL (so that
        robots.txt of a sources site waits its turn with the site's pages); else its host."""
        slot = request.meta.get("download_slot")
        if slot is not None:
            return str(slot)
        site_key = getattr(self.crawler.spider, "site_key", None)
        key = site_key(request.url) if site_key is not None else None
        return key or urlparse_cached(request).hostname or ""

    def site(self, key: str) -> Site:
        if key not in self.sites:
            own = self.per_site.get(key, {})
            self.sites[key] = Site(key, max(1, int(own.get("concurrency", self.concurrency))),
                                   float(own.get("delay", self.min_delay)), delay=self.start_delay)
        return self.sites[key]

    def site_of(self, request: Request) -> Site | None:
        place = request.meta.get(PLACE)
        return place.site if isinstance(place, Place) else self.sites.get(self.key_of(request))

    # -- the gate ------------------------------------------------------------------------------
    def closing(self) -> bool:
        """The crawl is stopping (Ctrl-C, --max-time, --max-pages): requests still waiting here for
        their site's turn must not start. Scrapy's engine waits for them as for those in flight."""
        slot = getattr(self.crawler.engine, "_slot", None)
        return not self.crawler.crawling or (slot is not None and slot.closing is not None)

    async def process_request(self, request: Request) -> None:
        site = self.site(self.key_of(request))
        async with site.turn:
            while True:
                if self.closing():
                    raise NotStarted(f"not started: the crawl is stopping ({request.url})")
                if site.in_flight >= site.limit:
                    site.freed.clear()
                    try:  # woken when a request comes back, or soon after the crawl is told to stop
                        await asyncio.wait_for(site.freed.wait(), STOP_CHECK)
                    except asyncio.TimeoutError:
                        pass
                    continue
                gap = site.gap(self.margin)
                wait = site.last_start + gap - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(min(wait, STOP_CHECK))
                    continue
                lease = None
                if self.shared is not None:
                    lease, wait = self._take_lease(site, gap)
                    if lease is None:
                        await asyncio.sleep(wait or self.poll)
                        continue
                site.in_flight += 1
                site.last_start = time.monotonic()
                request.meta[PLACE] = Place(site, lease)
                return

    def _take_lease(self, site: Site, gap: float) -> tuple[str | None, float]:
        """A shared lease, or how long to wait. While Redis cannot be reached the site waits, asking
        again after 1, 2, 4 ... 30 s, with one warning for the outage, not one per request."""
        assert self.shared is not None
        try:
            granted = self.shared.acquire(site.key, site.limit, gap)
        except self.shared.errors as exc:
            if not self.outage:
                log.warning("cannot reach Redis for the shared crawl's politeness limits (%s); "
                            "requests wait until it answers", exc)
            self.outage = min(30.0, max(1.0, self.outage * 2))
            return None, self.outage
        if self.outage:
            log.warning("Redis answers again: requests go on")
            self.outage = 0.0
        return granted

    def process_response(self, request: Request, response: Response) -> Response:
        self._let_go(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._let_go(request)

    def _let_go(self, request: Request) -> None:
        place = request.meta.pop(PLACE, None)  # popped: a retry is a copy of the request, meta and all
        if not isinstance(place, Place):
            return
        site = place.site
        site.in_flight -= 1
        if site.strict:  # the next start is a gap after this answer too (see Site.strict)
            site.last_start = max(site.last_start, time.monotonic())
        site.freed.set()
        if place.lease is not None and self.shared is not None:
            try:
                self.shared.release(site.key, place.lease, site.gap(self.margin) if site.strict else 0.0)
            except self.shared.errors:  # the lease expires by itself
                log.info("could not give back a lease on %s; it expires by itself", site.key)

    # -- robots.txt ----------------------------------------------------------------------------
    def _robots_parsed(self, robotparser: RobotParser, request: Request) -> None:
        agent = self.robots_agent or request.headers.get(b"User-Agent") or self.default_agent
        try:
            asked = robotparser.crawl_delay(agent)
        except NotImplementedError:  # a ROBOTSTXT_PARSER without Crawl-delay support
            return
        if not asked or asked <= 0:
            return
        site = self.site(self.key_of(request))
        if asked > self.max_crawl_delay:
            log.warning("robots.txt of %s asks for a Crawl-delay of %s s: keeping %s s between requests "
                        "(ARCHIVE_MAX_CRAWL_DELAY)", urlparse_cached(request).netloc, asked, self.max_crawl_delay)
        site.crawl_delay = max(site.crawl_delay, min(float(asked), self.max_crawl_delay))


class SiteThrottle(AutoThrottle):
    """Scrapy's AutoThrottle policy, applied to the gate's sites instead of Scrapy's download
    slots: it sets a site's adaptive `delay`, which the gate keeps as one bound of the gap."""

    def __init__(self, crawler: Crawler, gate: Politeness) -> None:
        super().__init__(crawler)
        self.gate = gate

    def _spider_opened(self, spider: Spider) -> None:
        self.mindelay = self._min_delay()
        self.maxdelay = self._max_delay()

    def _get_slot(self, request: Request, spider: Spider) -> tuple[str | None, Slot | None]:
        site = self.gate.site_of(request)
        return (site.key, site) if site is not None else (None, None)  # type: ignore[return-value]


def _throttle(crawler: Crawler, gate: Politeness) -> SiteThrottle | None:
    try:
        return SiteThrottle(crawler, gate)
    except NotConfigured:  # AUTOTHROTTLE_ENABLED is off
        return None


# A lease on a site for one request, if the site has a place free and its gap has passed since
# the last start by any worker; Redis' own clock decides, so the workers' clocks do not matter.
# KEYS: the site's leases (sorted set: lease -> expiry) and its last start. ARGV: concurrency,
# gap, lease time to live (seconds), lease id. Returns 0 (granted), -1 (no place free) or the
# microseconds until the gap has passed.
#
# A site promised a gap asks for one lease at a time, and its gap also counts from when the
# previous answer came back (_RELEASE): see Site.strict.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local limit, gap, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= limit then return -1 end
local wait = tonumber(redis.call('GET', KEYS[2]) or '0') + gap - now
if wait > 0 then return math.ceil(wait * 1000000) end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(ttl) + 60)
redis.call('SET', KEYS[2], string.format('%.6f', now), 'EX', math.ceil(gap) + 60)
return 0
"""

# A lease given back when its request's answer (or error) came back; for a site promised a gap
# (ARGV[2] > 0) the site's last start moves to now (Site.strict). KEYS as _ACQUIRE's; ARGV: lease id, gap.
_RELEASE = """
redis.call('ZREM', KEYS[1], ARGV[1])
local gap = tonumber(ARGV[2])
if gap > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
  if now > tonumber(redis.call('GET', KEYS[2]) or '0') then
    redis.call('SET', KEYS[2], string.format('%.6f', now), 'EX', math.ceil(gap) + 60)
  end
end
return 0
"""


class SharedLimits:
    """Each site's last start and leases in Redis, for all workers of a shared crawl: one script
    call to take a lease, one to give it back. A lease expires after `ttl` seconds (the
    download timeout and a margin), so a worker that dies holding one frees its place by itself."""

    def __init__(self, server: Any, name: str, ttl: float) -> None:
        import redis  # noqa: PLC0415 - only shared crawls need it
        from crawler.frontier import KEY_ROOT  # noqa: PLC0415

        self.errors: tuple[type[Exception], ...] = (redis.RedisError,)
        self.server, self.ttl = server, ttl
        self.prefix = f"{KEY_ROOT}:{name}:polite"
        self.script = server.register_script(_ACQUIRE)
        self.release_script = server.register_script(_RELEASE)
        self.worker = uuid.uuid4().hex[:12]
        self.numbers = itertools.count()

    def keys(self, site: str) -> list[str]:
        return [f"{self.prefix}:{site}:leases", f"{self.prefix}:{site}:last"]

    def acquire(self, site: str, concurrency: int, gap: float) -> tuple[str | None, float]:
        """(lease, 0) when granted; else (None, seconds to wait, 0 when no place is free)."""
        lease = f"{self.worker}:{next(self.numbers)}"
        answer = int(self.script(keys=self.keys(site), args=[concurrency, f"{gap:.6f}", f"{self.ttl:.3f}", lease]))
        if answer == 0:
            return lease, 0.0
        return None, max(answer, 0) / 1_000_000

    def release(self, site: str, lease: str, gap: float = 0.0) -> None:
        """Give a lease back when its answer came back; a site with a `gap` counts it from now too."""
        self.release_script(keys=self.keys(site), args=[lease, f"{gap:.6f}"])

    def close(self) -> None:
        self.server.close()
