"""`archive frontier status`: each worker's counters, written to Redis at its heartbeat, so that an
operator sees a stuck or dead worker without reading logs."""

from __future__ import annotations

import json
import os
import signal
import time

import redis

from crawler.frontier import STUCK_AFTER, Frontier
from tests.accesslog import AccessLogSite
from tests.conftest import run_cli
from tests.crawler.test_politeness_fleet import worker


def status_json(redis_url: str, name: str) -> dict:
    return json.loads(run_cli("frontier", "status", name, "--redis", redis_url, "--json").stdout)


def test_a_running_worker_shows_its_counters_and_a_killed_one_shows_as_dead(postgres_db: str, redis_server: str,
                                                                           frontier_name: str) -> None:
    with AccessLogSite(300, per_list=10, latency=0.2) as site:
        process = worker(site.url, postgres_db, redis_server, frontier_name, "--no-throttle", "--concurrency", "2")
        try:
            deadline = time.monotonic() + 120
            while True:
                assert time.monotonic() < deadline and process.poll() is None, site.summary()
                workers = status_json(redis_server, frontier_name)["workers"]
                if workers and workers[0]["counters"].get("articles", 0) >= 2:
                    break
                time.sleep(0.5)
            (seen,) = workers
            assert seen["state"] == "alive" and seen["beat_age"] < 10
            counters = seen["counters"]
            assert counters["pid"] == process.pid and counters["pages"] >= counters["articles"] >= 2 and counters["errors"] == {}
            assert set(counters) >= {"pages", "versions", "in_flight", "claims", "queued", "beat"}
            assert all(n <= 2 for n in counters["in_flight"].values())
        finally:
            os.kill(process.pid, signal.SIGKILL)
            process.communicate()
    time.sleep(3.5)  # its heartbeat (3 s here) expires
    human = run_cli("frontier", "status", frontier_name, "--redis", redis_server)
    assert "is dead (last heartbeat" in human.stderr, human.stderr
    line = next(line for line in human.stdout.splitlines() if " dead " in line)
    assert frontier_name in line


def test_a_worker_with_claims_and_no_page_for_long_is_stuck(redis_server: str, frontier_name: str) -> None:
    state = Frontier(redis.Redis.from_url(redis_server), frontier_name, heartbeat=60)
    state.seed(["https://news.example.com/a/1.html"])
    state.join("w1", {})
    assert state.claim("w1") is not None
    now = state.now()
    state.publish("w1", {"beat": now, "started": now - 2 * STUCK_AFTER, "last_page": now - 2 * STUCK_AFTER,
                         "pages": 7})
    human = run_cli("frontier", "status", frontier_name, "--redis", redis_server)
    assert "w1 of " in human.stderr and "is stuck" in human.stderr
    state.publish("w1", {"beat": now, "started": now - 2 * STUCK_AFTER, "last_page": now, "pages": 8})
    assert "stuck" not in run_cli("frontier", "status", frontier_name, "--redis", redis_server).stderr
    state.leave("w1")
    assert status_json(redis_server, frontier_name)["workers"] == []  # a worker that stopped cleanly is gone
