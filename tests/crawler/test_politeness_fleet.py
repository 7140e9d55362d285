"""Politeness across the workers of a shared crawl (crawler.politeness.SharedLimits): three worker
processes against one access-log server must keep, together, the site's gap between request starts
and its concurrency; and a lease of a worker that died frees itself."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from scrapy.utils.test import get_crawler

from crawler.politeness import Politeness, SharedLimits
from tests.accesslog import CLOCK_SLACK, AccessLogSite

ROOT = Path(__file__).resolve().parents[2]


def worker(url: str, db: str, redis_url: str, name: str, *options: str) -> subprocess.Popen[str]:
    """A worker process, with the default gap margin: a worker stalled for a CPU between its lease
    and its request (on a loaded machine, up to ~70 ms measured) must not shorten the gap the
    server sees (before, with 3 workers at load 10: 13 ms for a 0.5 s delay)."""
    env = {**os.environ, "ARCHIVE_ALLOW_PRIVATE_ADDRESSES": "1", "ARCHIVE_FRONTIER_HEARTBEAT": "3",
           "ARCHIVE_EXTRACT_WORKERS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "archive", "crawl", url, "--db", db, "--frontier", redis_url, "--frontier-name", name,
         "--frontier-idle", "2", *options],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize(("delay", "concurrency", "options", "latency"), [
    (0.3, 1, (), 0.02),                  # AutoThrottle on, as by default
    (0.3, 2, ("--no-throttle",), 0.02),
    (0.0, 2, ("--no-throttle",), 0.1),
])
def test_three_workers_together_keep_the_sites_gap_and_concurrency(
        postgres_db: str, redis_server: str, frontier_name: str, delay: float, concurrency: int,
        options: tuple[str, ...], latency: float) -> None:
    with AccessLogSite(24, per_list=8, latency=latency) as site:
        workers = [worker(site.url, postgres_db, redis_server, frontier_name, "--delay", str(delay),
                          "--concurrency", str(concurrency), *options) for _ in range(3)]
        for process in workers:
            _, err = process.communicate(timeout=240)
            assert process.returncode == 0, err[-3000:]
    assert {h.path for h in site.hits if h.path.startswith("/a/")} == {f"/a/{n}" for n in range(24)}
    assert site.min_gap() >= delay - CLOCK_SLACK, site.summary()
    assert site.max_in_flight() <= concurrency, site.summary()


def test_a_lease_of_a_dead_worker_expires(redis_server: str, frontier_name: str) -> None:
    server = redis.Redis.from_url(redis_server)
    dead, alive = SharedLimits(server, frontier_name, ttl=0.5), SharedLimits(server, frontier_name, ttl=0.5)
    lease, _ = dead.acquire("source:a", 1, 0.0)
    assert lease is not None  # and never given back: its worker was killed
    assert alive.acquire("source:a", 1, 0.0) == (None, 0.0)  # no place free
    assert alive.acquire("source:b", 1, 0.0)[0] is not None  # other sites are not held up
    time.sleep(0.6)
    assert alive.acquire("source:a", 1, 0.0)[0] is not None
    server.close()


def test_a_site_with_a_gap_starts_nothing_until_the_previous_answer_is_back(redis_server: str,
                                                                            frontier_name: str) -> None:
    """A site promised a gap asks for one lease at a time (Site.limit); a lease held longer than
    the gap (its worker stalled before sending, or a slow answer) holds the site, and the next
    request starts a gap after that answer, not a gap after the lease."""
    from crawler.politeness import Site
    assert (Site("s", 2, min_delay=0.3).limit, Site("t", 2, delay=0.3).limit, Site("u", 2).limit) == (1, 2, 2)
    server = redis.Redis.from_url(redis_server)
    one, two = SharedLimits(server, frontier_name, ttl=30), SharedLimits(server, frontier_name, ttl=30)
    lease, _ = one.acquire("s", 1, 0.3)
    assert lease is not None
    time.sleep(0.4)  # the gap has passed since the lease, but its request's answer is not back
    assert two.acquire("s", 1, 0.3) == (None, 0.0)
    one.release("s", lease, 0.3)
    refused, wait = two.acquire("s", 1, 0.3)
    assert refused is None and 0.2 < wait <= 0.3
    server.close()


def test_the_gap_is_kept_across_workers_by_redis_clock(redis_server: str, frontier_name: str) -> None:
    server = redis.Redis.from_url(redis_server)
    one, two = SharedLimits(server, frontier_name, ttl=30), SharedLimits(server, frontier_name, ttl=30)
    lease, _ = one.acquire("h", 4, 5.0)
    assert lease is not None
    one.release("h", lease, 5.0)
    refused, wait = two.acquire("h", 4, 5.0)
    assert refused is None and 4.0 < wait <= 5.0
    server.close()


def test_a_redis_outage_makes_requests_wait_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    class Flaky:
        errors = (redis.ConnectionError,)
        calls = 0

        def acquire(self, site: str, concurrency: int, gap: float) -> tuple[str | None, float]:
            self.calls += 1
            if self.calls <= 3:
                raise redis.ConnectionError("Connection refused")
            return "lease", 0.0

    gate = Politeness(get_crawler(settings_dict={"AUTOTHROTTLE_ENABLED": False}), Flaky())  # type: ignore[arg-type]
    waits = [gate._take_lease(gate.site("h"), 0.0) for _ in range(4)]
    assert waits == [(None, 1.0), (None, 2.0), (None, 4.0), ("lease", 0.0)]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 2 and "cannot reach Redis" in warnings[0] and "again" in warnings[1]
