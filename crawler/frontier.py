"""A crawl shared by several worker processes (on several machines) through one Redis: scrapy-redis'
queue and duplicate filter, plus what a shared crawl needs beyond them.

scrapy-redis gives the shared request queue (a sorted set, by priority) and the shared seen-set.
On top of it, for a crawl that must lose nothing:

- **Claims.** A worker takes a request from the queue and records it in its own claims hash in
  one atomic step (a Lua script), and drops the claim only once the engine is done with the
  request: downloaded, parsed, its links queued and its page stored in the archive. A worker
  refreshes a heartbeat key; when the heartbeat of a worker has expired (SIGKILL, power cut,
  lost network), any live worker (or the next one to start) puts that worker's claims back into
  the queue. So a request is fetched at least once; after a crash some may be fetched twice,
  which the archive turns into "unchanged" fetches, never into a second version.
- **Runs.** The seen-set belongs to one run of the crawl. A worker that starts on an idle
  frontier (empty queue, no live worker) begins a new run with an empty seen-set, so a URL
  crawled last run (an article due for a recrawl) is requested again; a worker that starts while
  the crawl is going on (or interrupted, with requests left in the queue) joins the current run.
- **Idle stop.** scrapy-redis workers otherwise wait forever for more work. A worker stops when
  the queue has been empty and no worker held a claim for ARCHIVE_FRONTIER_IDLE seconds.
- **Fingerprints.** The seen-set holds Scrapy's own request fingerprints
  (crawler.request_fingerprinter), not scrapy-redis' home-grown ones, cut to 64 bits and stored
  compactly: the first 16 bits pick one of 65,536 sets, the next 48 are an integer member. Sets
  of up to 512 integers are Redis intsets (8 bytes a member), so a seen URL costs ~10 bytes, not
  the 88 of a 40-character hex string (docs/scaling-out.md has the measurements).

- **Run marker.** A run starts with a random marker (``run-id``) that every worker remembers
  and checks at each heartbeat. Redis restarted without persistence loses it along with the
  queue and the seen-set: the workers then stop and exit non-zero with one line, instead of
  finishing what they hold and exiting 0 with the rest of the crawl silently gone.

Keys, under ``archive:<crawl name>:``: ``run`` (run number), ``run-id`` (the run's marker), ``requests`` (the queue),
``seen:<run>:<bucket>`` (the run's seen-set) and ``seen:<run>`` (how many it holds), ``workers`` (worker id -> description), ``alive:<worker>``
(heartbeat, with a time to live), ``claims:<worker>`` (token -> score and request),
``recovered`` (how many claims of dead workers were put back), ``lock``.

Redis calls are synchronous on the reactor thread, as in scrapy-redis: each is one round trip
to a server on the local network, far below a page's download time.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import json
import logging
import os
import pickle
import re
import socket
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterable, Self

import redis
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.utils.defer import _schedule_coro
from scrapy.utils.request import fingerprint as scrapy_fingerprint
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

from archive.config import default
from archive.errors import ArchiveError
from crawler.page_limit import MAX_PAGES, PageLimit
from crawler.spiders.site import ONCE_PER_CRAWL

log = logging.getLogger(__name__)

#: Where the claim token of a request taken from the queue travels with it (never stored in Redis).
CLAIM = "frontier_claim"
#: The finish reason of a worker whose run's state vanished from Redis (see FrontierScheduler._lose_run).
LOST = "frontier_lost"
KEY_ROOT = "archive"

# Take the best request from the queue and claim it for a worker, in one step: a worker killed
# between the two can lose nothing. Returns {token, request}.
_CLAIM = """
local popped = redis.call('ZPOPMIN', KEYS[1])
if #popped == 0 then return false end
local token = redis.sha1hex(popped[1])
redis.call('HSET', KEYS[2], token, popped[2] .. '\\n' .. popped[1])
return {token, popped[1]}
"""


# Add a fingerprint to the run's seen-set and count it when new, in one round trip. KEYS: the
# fingerprint's bucket and the run's counter; ARGV: the member. Returns 1 when it was new.
_SEEN = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('INCR', KEYS[2])
return 1
"""


def seen_member(fingerprint: bytes) -> tuple[str, int]:
    """Where a request fingerprint goes in a seen-set: its bucket (the first 16 bits, as 4 hex
    digits) and its member (the next 48 bits, an integer: Redis keeps small sets of integers as
    intsets). 64 bits: among 10 million URLs, the odds that two share one are about 3 in a million."""
    return fingerprint[:2].hex(), int.from_bytes(fingerprint[2:8], "big")


_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")


class FrontierError(ArchiveError):
    """Redis cannot be reached, or the frontier is in a state that refuses the operation."""


def connect(url: str) -> redis.Redis:
    """The one place a Redis client is made: checked with a ping, so that a bad URL fails at once."""
    try:
        client = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=5, retry_on_timeout=True)
        client.ping()
    except (redis.RedisError, ValueError) as exc:
        raise FrontierError(f"cannot reach the frontier at {public_url(url)}: "
                            f"{str(exc).replace(_password(url), '***') if _password(url) else exc}") from exc
    return client


def public_url(url: str) -> str:
    """A Redis URL fit to print: its password (in the user part or a password= parameter) as ***,
    as SQLAlchemy shows a database URL's."""
    password = _password(url)
    return url.replace(password, "***") if password else url


def _password(url: str) -> str:
    from urllib.parse import parse_qs, urlsplit  # noqa: PLC0415

    try:
        parts = urlsplit(url)
        return parts.password or (parse_qs(parts.query).get("password") or [""])[0]
    except ValueError:
        return ""


def crawl_name(command: dict[str, Any]) -> str:
    """The default name of a shared crawl: workers started with the same command share it."""
    return "crawl-" + hashlib.sha256(json.dumps(command, sort_keys=True, default=str).encode()).hexdigest()[:12]


#: A worker that holds claims but stored no page for this many seconds is shown as stuck.
STUCK_AFTER = 300.0
#: How long the counters of a worker that died stay in Redis for `archive frontier status`.
COUNTERS_TTL = 86400


@dataclass(frozen=True)
class WorkerInfo:
    worker: str
    alive: bool
    claims: int
    description: dict[str, Any]
    #: What the worker last wrote at its heartbeat (FrontierScheduler._publish): pages, articles,
    #: versions, errors by kind, in flight per site, queue length, claims, beat (Redis time).
    counters: dict[str, Any] = field(default_factory=dict)
    beat_age: float | None = None  # seconds since its last heartbeat write
    state: str = "alive"  # alive, stuck (claims but no page for STUCK_AFTER s), dead (no heartbeat)


@dataclass(frozen=True)
class Status:
    name: str
    run: int
    queued: int
    seen: int
    recovered: int
    workers: list[WorkerInfo]


class Frontier:
    """One shared crawl's state in Redis: runs, queue, seen-set, workers and their claims."""

    def __init__(self, server: redis.Redis, name: str, heartbeat: float = 15.0) -> None:
        if not _NAME.fullmatch(name):
            raise FrontierError(f"not a shared crawl name (letters, digits, '.', '_', '-'): {name!r}")
        self.server, self.name, self.heartbeat = server, name, heartbeat
        self.prefix = f"{KEY_ROOT}:{name}"
        self._claim = server.register_script(_CLAIM)
        self._seen = server.register_script(_SEEN)

    def key(self, *parts: str | int) -> str:
        return ":".join([self.prefix, *map(str, parts)])

    @property
    def queue_key(self) -> str:
        return self.key("requests")

    def seen_key(self, run: int) -> str:
        """The run's seen-set: buckets under this key (`<key>:<bucket>`), their count at the key itself."""
        return self.key("seen", run)

    def add_seen(self, run: int, fingerprint: bytes) -> bool:
        """Add a request fingerprint to the run's seen-set; True when it was not there yet."""
        bucket, member = seen_member(fingerprint)
        return bool(self._seen(keys=[f"{self.seen_key(run)}:{bucket}", self.seen_key(run)], args=[member]))

    def is_seen(self, run: int, fingerprint: bytes) -> bool:
        bucket, member = seen_member(fingerprint)
        return bool(self.server.sismember(f"{self.seen_key(run)}:{bucket}", member))

    def seen_count(self, run: int) -> int:
        return int(self.server.get(self.seen_key(run)) or 0)

    def _convert_seen(self, run: int) -> None:
        """A run begun by an older version kept its seen-set as one set of hex fingerprints: move
        them into the compact buckets, so that the run goes on without fetching anything twice."""
        old = self.seen_key(run)
        if self.server.type(old) != b"set":
            return
        temporary = self.key("seen-converting", run)
        self.server.rename(old, temporary)
        for member in self.server.sscan_iter(temporary, count=1000):
            self.add_seen(run, bytes.fromhex(member.decode()))
        self.server.delete(temporary)

    def drop_seen(self, run: int) -> None:
        """Delete a run's seen-set (up to 65,536 buckets and the count)."""
        self.server.delete(self.seen_key(run))
        batch = []
        for key in self.server.scan_iter(match=f"{self.seen_key(run)}:*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                self.server.unlink(*batch)
                batch.clear()
        if batch:
            self.server.unlink(*batch)

    def run(self) -> int:
        return int(self.server.get(self.key("run")) or 0)

    def marker(self) -> str | None:
        """The current run's marker: gone (None) or another after Redis lost the crawl's state."""
        value = self.server.get(self.key("run-id"))
        return value.decode() if value is not None else None

    def lock(self) -> Any:
        return self.server.lock(self.key("lock"), timeout=30, blocking_timeout=60)

    # -- workers ---------------------------------------------------------------------------------
    def join(self, worker: str, description: dict[str, Any]) -> int:
        """Register a worker and return the run it works on: a new run when the frontier is idle.
        The first worker to start (no other alive) also starts the run's page budget anew."""
        with self.lock():
            self.recover()
            run = self._current_run()
            if not self.live_workers():
                self.server.delete(self.key("pages", run))
            self.server.hset(self.key("workers"), worker, json.dumps(description))
            self.beat(worker)
            return run

    def _current_run(self) -> int:
        """The run to work on (call under the lock): a new one, with an empty seen-set, when no
        worker is alive and nothing is queued or claimed, i.e. the last run finished."""
        run = self.run()
        if run and (self.live_workers() or self.server.zcard(self.queue_key) or self.claimed()):
            self.server.set(self.key("run-id"), uuid.uuid4().hex, nx=True)  # a run begun before markers
            self._convert_seen(run)
            return run
        self.drop_seen(run)
        pipe = self.server.pipeline(transaction=True)
        pipe.incr(self.key("run"))
        pipe.set(self.key("run-id"), uuid.uuid4().hex)
        return int(pipe.execute()[0])

    def start_run_if_idle(self) -> int:
        """For seeding: the current run, or a new one when the frontier is idle."""
        with self.lock():
            self.recover()
            return self._current_run()

    def beat(self, worker: str) -> None:
        """Refresh the heartbeat. A worker that was silent too long (its claims were requeued and it
        was struck off) registers again, so that its new claims are counted and recoverable."""
        pipe = self.server.pipeline(transaction=True)
        pipe.set(self.key("alive", worker), str(os.getpid()), px=int(self.heartbeat * 1000))
        pipe.hsetnx(self.key("workers"), worker, json.dumps({"host": socket.gethostname(), "pid": os.getpid()}))
        pipe.execute()

    def leave(self, worker: str) -> int:
        """A worker stops: its remaining claims (none after a clean stop) go back to the queue."""
        with self.lock():
            returned = self._requeue(worker)
            self.server.hdel(self.key("workers"), worker)
            self.server.delete(self.key("alive", worker), self.key("counters", worker))
            return returned

    def workers(self) -> list[str]:
        return [w.decode() for w in self.server.hkeys(self.key("workers"))]

    def live_workers(self) -> list[str]:
        return [w for w in self.workers() if self.server.exists(self.key("alive", w))]

    def claimed(self) -> int:
        """Requests claimed by any registered worker, alive or not yet known to be dead."""
        return sum(int(self.server.hlen(self.key("claims", w))) for w in self.workers())

    def recover(self) -> int:
        """Put the claims of workers whose heartbeat expired back into the queue; returns how many."""
        recovered = 0
        for worker in self.workers():
            if not self.server.exists(self.key("alive", worker)):
                count = self._requeue(worker)
                self.server.hdel(self.key("workers"), worker)
                if count:
                    log.warning("worker %s stopped sending heartbeats: %d request(s) it held were queued again",
                                worker, count)
                recovered += count
        if recovered:
            self.server.incrby(self.key("recovered"), recovered)
        return recovered

    def _requeue(self, worker: str) -> int:
        claims = self.key("claims", worker)
        entries = self.server.hgetall(claims)
        pipe = self.server.pipeline(transaction=True)
        for value in entries.values():
            score, _, data = value.partition(b"\n")
            pipe.zadd(self.queue_key, {data: float(score)})
        pipe.delete(claims)
        pipe.execute()
        return len(entries)

    # -- requests --------------------------------------------------------------------------------
    def claim(self, worker: str) -> tuple[str, bytes] | None:
        found = self._claim(keys=[self.queue_key, self.key("claims", worker)])
        if not found:
            return None
        token, data = found
        return token.decode(), data

    def release(self, worker: str, tokens: Iterable[str]) -> None:
        tokens = list(tokens)
        if tokens:
            self.server.hdel(self.key("claims", worker), *tokens)

    def take_page(self, run: int, limit: int) -> bool:
        """Count one page against the budget `limit` that all workers of the run share (--max-pages)."""
        key = self.key("pages", run)
        pipe = self.server.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, 30 * 86400)
        if int(pipe.execute()[0]) <= limit:
            return True
        self.server.decr(key)
        return False

    def give_back_page(self, run: int) -> None:
        self.server.decr(self.key("pages", run))

    def queued(self) -> int:
        return int(self.server.zcard(self.queue_key))

    def seed(self, urls: Iterable[str], callback: str = "parse", errback: str | None = "failed") -> tuple[int, int]:
        """Queue start URLs for the workers of this crawl (filtered by the run's seen-set).
        Returns (queued, already seen)."""
        run = self.start_run_if_idle()
        added = seen = 0
        for url in urls:
            request = Request(url)
            if not self.add_seen(run, scrapy_fingerprint(request)):
                seen += 1
                continue
            data = request.to_dict()
            data.update(callback=callback, errback=errback)
            self.server.zadd(self.queue_key, {pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL): -request.priority})
            added += 1
        return added, seen

    def now(self) -> float:
        """Redis' clock: the one clock all workers and `frontier status` share."""
        seconds, microseconds = self.server.time()
        return seconds + microseconds / 1e6

    def publish(self, worker: str, counters: dict[str, Any]) -> None:
        self.server.set(self.key("counters", worker), json.dumps(counters), ex=COUNTERS_TTL)

    def status(self) -> Status:
        run, now = self.run(), self.now()
        names = set(self.workers()) | {key.decode().rsplit(":", 1)[1]
                                       for key in self.server.scan_iter(match=self.key("counters", "*"), count=500)}
        workers = []
        for name in sorted(names):
            alive = bool(self.server.exists(self.key("alive", name)))
            claims = int(self.server.hlen(self.key("claims", name)))
            counters = json.loads(self.server.get(self.key("counters", name)) or b"{}")
            beat_age = now - counters["beat"] if "beat" in counters else None
            since_page = now - counters.get("last_page", counters.get("started", now))
            state = "dead" if not alive else "stuck" if claims and since_page > STUCK_AFTER else "alive"
            workers.append(WorkerInfo(name, alive, claims,
                                      json.loads(self.server.hget(self.key("workers"), name) or b"{}"),
                                      counters, beat_age, state))
        return Status(self.name, run, self.queued(), self.seen_count(run) if run else 0,
                      int(self.server.get(self.key("recovered")) or 0), workers)

    def clear(self) -> int:
        """Delete everything of this crawl; returns the number of keys deleted."""
        keys = list(self.server.scan_iter(match=f"{self.prefix}:*", count=500))
        return int(self.server.delete(*keys)) if keys else 0


def persistence_warning(server: redis.Redis) -> str | None:
    """Why a restart of this Redis would lose the shared crawls (one line), or None when it keeps
    an append-only file or RDB snapshots. CONFIG may be renamed or denied on a managed Redis:
    then say that it could not be checked."""
    try:
        appendonly = server.config_get("appendonly").get("appendonly", "")
        save = server.config_get("save").get("save", "")
    except redis.ResponseError as exc:
        return (f"cannot check Redis persistence (CONFIG GET refused: {str(exc)[:80]}); make sure it keeps "
                "an append-only file (appendonly yes), or a restart loses the shared crawls' queues")
    if str(appendonly).lower() != "yes" and not str(save).strip():
        return ("Redis has neither AOF nor RDB persistence (appendonly no, save \"\"): a restart loses every "
                "shared crawl's queue and seen-set; set appendonly yes (docs/scaling-out.md)")
    return None


def crawls(server: redis.Redis) -> list[str]:
    """The names of the shared crawls in this Redis database."""
    names = {key.decode().split(":")[1] for key in server.scan_iter(match=f"{KEY_ROOT}:*:run", count=500)}
    names |= {key.decode().split(":")[1] for key in server.scan_iter(match=f"{KEY_ROOT}:*:requests", count=500)}
    return sorted(names)


def worker_id() -> str:
    """A worker's name in the shared crawl (and in its `archive crawls` row): host, pid and a random part."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def settings(url: str, name: str, idle: float | None = None, max_pages: int = 0,
             worker: str | None = None) -> dict[str, Any]:
    """Scrapy settings that make a crawl a worker of the shared crawl `name` at `url`. `max_pages`
    limits the shared crawl, all workers together (crawler.page_limit)."""
    extra: dict[str, Any] = {"SCHEDULER": "crawler.frontier.FrontierScheduler", "ARCHIVE_FRONTIER_URL": url,
                             "ARCHIVE_FRONTIER_NAME": name, MAX_PAGES: max_pages,
                             "ARCHIVE_FRONTIER_WORKER": worker or worker_id()}
    if idle is not None:
        extra["ARCHIVE_FRONTIER_IDLE"] = idle
    return extra


class FrontierDupeFilter(RFPDupeFilter):
    """scrapy-redis' shared seen-set, keyed by Scrapy's own request fingerprints (the crawler's
    REQUEST_FINGERPRINTER), so that the shared crawl sees the same duplicates a single one does,
    and stored compactly (Frontier.add_seen)."""

    def __init__(self, frontier: Frontier, run: int, fingerprinter: Any, debug: bool = False) -> None:
        super().__init__(frontier.server, frontier.seen_key(run), debug)
        self.frontier, self.run, self.fingerprinter = frontier, run, fingerprinter

    def request_fingerprint(self, request: Request) -> str:
        return self.fingerprinter.fingerprint(request).hex()

    def request_seen(self, request: Request) -> bool:
        return not self.frontier.add_seen(self.run, self.fingerprinter.fingerprint(request))

    def close(self, reason: str = "") -> None:
        """Keep the seen-set: it belongs to the run, which other workers may still be doing."""


class FrontierScheduler(PageLimit, Scheduler):
    """scrapy-redis' scheduler with claims, heartbeats, per-run seen-sets and an idle stop.
    Reads ARCHIVE_FRONTIER_URL, ARCHIVE_FRONTIER_NAME, ARCHIVE_FRONTIER_IDLE, ARCHIVE_FRONTIER_HEARTBEAT."""

    def __init__(self, crawler: Crawler, frontier: Frontier, idle: float, worker: str | None = None) -> None:
        super().__init__(frontier.server, persist=True, queue_key=frontier.queue_key,
                         queue_cls="scrapy_redis.queue.PriorityQueue", idle_before_close=0)
        self.crawler, self.frontier, self.idle = crawler, frontier, idle
        self.worker = worker or worker_id()
        self.stats = crawler.stats
        self.claims: dict[str, Request] = {}
        self.local: list[tuple[int, int, Request]] = []  # feeds and sitemaps: read by each worker itself
        self._order = itertools.count()
        self.idle_since: float | None = None
        self.last_beat = 0.0
        self.ticker = task.LoopingCall(self._tick)
        self.max_pages = 0  # the shared crawl's --max-pages (0: no limit), shared by all its workers
        #: Requests a worker holds at most: Scrapy's CONCURRENT_REQUESTS, what it downloads at once
        #: (those of a site beyond the site's concurrency wait at the politeness gate). Without the
        #: cap it also held the pages still being parsed and stored: 23-37 at --concurrency 4.
        self.max_claims = max(1, crawler.settings.getint("CONCURRENT_REQUESTS"))
        self.marker: str | None = None  # the run's marker in Redis (see Frontier.marker)
        self.lost: str | None = None  # why the run's state is gone, once it is
        self.outage = False  # Redis could not be reached at the last try: warned once
        self.unsent: list[Request] = []  # links found during an outage, queued when Redis answers
        self.started: float | None = None  # Redis time of the first counters written
        self.pages = 0  # pages fetched, at the last counters written
        self.last_page: float | None = None  # when that count last grew (Redis time)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        url, name = settings.get("ARCHIVE_FRONTIER_URL"), settings.get("ARCHIVE_FRONTIER_NAME")
        if not url or not name:
            raise NotConfigured("ARCHIVE_FRONTIER_URL and ARCHIVE_FRONTIER_NAME must both be set")
        frontier = Frontier(connect(url), name, settings.getfloat("ARCHIVE_FRONTIER_HEARTBEAT", default("frontier_heartbeat")))
        scheduler = cls(crawler, frontier, settings.getfloat("ARCHIVE_FRONTIER_IDLE", default("frontier_idle")),
                        settings.get("ARCHIVE_FRONTIER_WORKER"))
        scheduler.max_pages = settings.getint(MAX_PAGES, 0)
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        return scheduler

    def take_page(self) -> bool:
        return self.frontier.take_page(self.run, self.max_pages)

    def give_back_page(self) -> None:
        self.frontier.give_back_page(self.run)

    def open(self, spider: Spider) -> None:
        self.spider = spider
        self.queue = PriorityQueue(server=self.server, spider=spider, key=self.queue_key)
        self.run = self.frontier.join(self.worker, {"host": socket.gethostname(), "pid": os.getpid(),
                                                    "started": time.time()})
        self.marker = self.frontier.marker()
        self.df = FrontierDupeFilter(self.frontier, self.run, self.crawler.request_fingerprinter,
                                     self.crawler.settings.getbool("DUPEFILTER_DEBUG"))
        self.stats.set_value("frontier/run", self.run)
        self.stats.set_value("frontier/worker", self.worker)
        log.info("frontier %s: worker %s on run %d, %d request(s) queued", self.frontier.name, self.worker,
                 self.run, len(self.queue))
        self.ticker.start(min(1.0, self.frontier.heartbeat / 3), now=False)

    def close(self, reason: str) -> None:
        if self.ticker.running:
            self.ticker.stop()
        if self.lost:
            return  # nothing of this worker is left in Redis to give back
        try:
            self._release_done()
            returned = self.frontier.leave(self.worker)
        except redis.RedisError as exc:
            log.warning("frontier %s: cannot reach Redis to give back this worker's claims (%s); "
                        "they are queued again when its heartbeat has expired", self.frontier.name, exc)
            return
        if returned:
            log.info("frontier: %d request(s) not done were queued again", returned)

    def flush(self) -> None:
        """Never: the queue and seen-set are the shared crawl's (`archive frontier clear` empties them)."""

    def __len__(self) -> int:
        if self.lost:
            return len(self.local)
        try:
            queued = len(self.queue)
        except redis.RedisError as exc:
            self._unreachable(exc)
            queued = 1  # unknown while Redis is away: not idle
        return len(self.local) + len(self.unsent) + queued

    def has_pending_requests(self) -> bool:
        return not self.spent and len(self) > 0

    def enqueue_request(self, request: Request) -> bool:
        request.meta.pop(CLAIM, None)  # a retry or redirect of a claimed request: its own claim follows
        if _is_document(request, self.spider):
            heapq.heappush(self.local, (-request.priority, next(self._order), request))
            return True
        if self.lost:
            return False
        try:
            return self._enqueue_shared(request)
        except redis.RedisError as exc:
            self._unreachable(exc)
            self.unsent.append(request)
            return True

    def _enqueue_shared(self, request: Request) -> bool:
        """scrapy-redis' own enqueue_request, without the `spider` argument to stats that Scrapy 2.19 deprecates."""
        once = request.meta.pop(ONCE_PER_CRAWL, False)  # popped: a retry of it must not be dropped
        if (not request.dont_filter or once) and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        return True

    def _unreachable(self, exc: Exception) -> None:
        """One warning per Redis outage, not a traceback per call; requests wait until it answers."""
        if not self.outage:
            log.warning("frontier %s: cannot reach Redis (%s); waiting for it", self.frontier.name, exc)
            self.outage = True

    def next_request(self) -> Request | None:
        if self.local:
            return heapq.heappop(self.local)[2]
        if self.lost or self.outage:
            return None  # during an outage the upkeep tick asks Redis again, once a second
        try:
            return self._next_shared()
        except redis.RedisError as exc:
            self._unreachable(exc)
            return None

    def _next_shared(self) -> Request | None:
        if len(self.claims) >= self.max_claims:
            self._release_done()
            if len(self.claims) >= self.max_claims:
                return None  # this worker holds what it can work on: the rest stay for the others
        if not self.budget_left():
            return None
        claimed = self.frontier.claim(self.worker)
        if claimed is None:
            if self.max_pages:
                self.give_back_page()
            return None
        token, data = claimed
        try:
            request = self.queue._decode_request(data)
        except Exception:  # noqa: BLE001 - a request this spider cannot rebuild must not come back forever
            log.error("frontier: dropped a queued request this spider cannot read", exc_info=True)
            self.stats.inc_value("frontier/undecodable")
            self.frontier.release(self.worker, [token])
            return self._next_shared()
        request.meta[CLAIM] = token
        self.claims[token] = request
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    # -- upkeep ------------------------------------------------------------------------------------
    def _tick(self) -> None:
        """Every second: drop finished claims, beat, requeue dead workers' claims, wake the engine."""
        if self.lost:
            return
        try:
            now = time.monotonic()
            if self.outage or now - self.last_beat >= self.frontier.heartbeat / 3:
                if self.frontier.marker() != self.marker:
                    self._lose_run()
                    return
                if self.outage:
                    log.warning("frontier %s: Redis answers again", self.frontier.name)
                    self.outage = False
                self.frontier.beat(self.worker)
                self._publish()
                self.last_beat = now
                if self.frontier.recover():
                    self.stats.inc_value("frontier/recovered_claims")
            self._release_done()
            while self.unsent:
                self._enqueue_shared(self.unsent[-1])
                self.unsent.pop()
            if self.has_pending_requests():
                _wake(self.crawler)
        except redis.RedisError as exc:
            self._unreachable(exc)

    def _publish(self) -> None:
        """Write this worker's counters for `archive frontier status` (at each heartbeat)."""
        stats = self.stats.get_stats()
        now = self.frontier.now()
        pages = int(stats.get("archive/fetches", 0))
        if pages != self.pages or self.last_page is None:
            self.pages, self.last_page = pages, now
        self.started = self.started or now
        self.frontier.publish(self.worker, {
            "run": self.run, "host": socket.gethostname(), "pid": os.getpid(), "started": self.started,
            "beat": now, "last_page": self.last_page, "pages": pages,
            "articles": int(stats.get("archive/new", 0)), "versions": int(stats.get("archive/changed", 0)),
            "errors": {key.split("/", 2)[2]: value for key, value in stats.items()
                       if key.startswith("archive/errors/")},
            "in_flight": _in_flight(self.crawler), "claims": len(self.claims), "local": len(self.local),
            "queued": self.frontier.queued()})

    def _lose_run(self) -> None:
        """The run's marker is gone from Redis (restarted without persistence, or the crawl was
        cleared): its queue and seen-set went with it. Stop with one line, and a finish reason
        that makes the worker exit non-zero (archive.cli.frontier)."""
        self.lost = (f"the state of shared crawl {self.frontier.name} (run {self.run}) vanished from Redis "
                     f"(restarted without persistence, or cleared): its queued requests are lost; "
                     f"{len(self.claims)} request(s) this worker held were not finished; start the crawl again")
        log.info("frontier: %s", self.lost)  # the worker exits with this line (archive.cli.frontier)
        self.stats.set_value("frontier/lost", self.lost)
        if self.ticker.running:
            self.ticker.stop()
        _schedule_coro(self.crawler.engine.close_spider_async(reason=LOST))

    def _release_done(self) -> None:
        """A claim is done when the engine no longer holds its request: the download, the
        callback, its requests' queueing and its items' pipelines (the archive write) are over."""
        if not self.claims:
            return
        active = _in_progress(self.crawler)
        done = [token for token, request in self.claims.items() if request not in active]
        if done:
            self.frontier.release(self.worker, done)
            for token in done:
                del self.claims[token]

    def spider_idle(self) -> None:
        """Stop only after the queue stayed empty, with nothing claimed anywhere, for `idle` seconds:
        a request claimed by another worker (or by a dead one, until it is requeued) may still
        bring new links. A worker whose share of --max-pages is spent stops once its requests are done."""
        if self.lost:
            return
        try:
            self._release_done()
            self.close_if_spent()
            busy = self.has_pending_requests() or self.frontier.claimed()
        except redis.RedisError as exc:
            self._unreachable(exc)
            busy = True
        if busy:
            self.idle_since = None
            raise DontCloseSpider
        now = time.monotonic()
        if self.idle_since is None:
            self.idle_since = now
        if now - self.idle_since < self.idle:
            raise DontCloseSpider
        log.info("frontier %s: nothing to do for %.0f s, stopping", self.frontier.name, self.idle)


def _is_document(request: Request, spider: Spider) -> bool:
    """Feeds and sitemaps of a sources crawl: each worker reads them itself (they are few, and the
    spider waits for all of them before it queues what they list); what they list is shared."""
    callback = getattr(request.callback, "__name__", None)
    return callback in ("parse_feed", "parse_sitemap")


def _in_progress(crawler: Crawler) -> set[Request]:
    """The requests the engine is still working on. Scrapy keeps them in its engine slot and has no
    public accessor or signal for "done with this request"; tests/crawler/test_frontier.py checks
    that this still works with the installed Scrapy."""
    slot = getattr(crawler.engine, "_slot", None)
    return getattr(slot, "inprogress", set()) if slot is not None else set()


def _in_flight(crawler: Crawler) -> dict[str, int]:
    """Requests in flight per site, as the politeness gate counts them (sites with none left out)."""
    from crawler.politeness import Politeness  # noqa: PLC0415

    downloader = getattr(crawler.engine, "downloader", None)
    for middleware in getattr(getattr(downloader, "middleware", None), "middlewares", ()):
        if isinstance(middleware, Politeness):
            return {key: site.in_flight for key, site in middleware.sites.items() if site.in_flight}
    return {}


def _wake(crawler: Crawler) -> None:
    """Ask the engine to take requests now rather than at its next 5 s heartbeat: another worker
    may have queued them while this one had nothing to do."""
    slot = getattr(crawler.engine, "_slot", None)
    nextcall = getattr(slot, "nextcall", None)
    if nextcall is not None:
        nextcall.schedule()
