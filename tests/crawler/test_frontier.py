"""A crawl shared by worker processes through Redis (crawler.frontier): scrapy-redis with the pinned
Scrapy, claims and their recovery, runs and the seen-set, and whole crawls by two workers into one
PostgreSQL archive (one of them killed with SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
from scrapy import Request, Spider
from scrapy.utils.test import get_crawler
from sqlalchemy import create_engine, func, select

from archive.db import make_engine, upgrade
from archive.demo.server import SiteServer
from archive.models import Article, Crawl, Snapshot
from crawler import frontier as frontier_module
from crawler.frontier import CLAIM, Frontier, FrontierScheduler
from support.sites import build_site

PAGES = 500
ROOT = Path(__file__).resolve().parents[2]


def worker(url: str, db: str, redis_url: str, name: str, *, idle: float = 3.0,
           heartbeat: float = 3.0) -> subprocess.Popen[str]:
    """`archive crawl URL --frontier ...` in its own process, as on another machine. A worker whose
    process is stalled longer than `heartbeat` seconds (a loaded machine) is taken for dead and its
    claims are fetched again by another: tests that count fetches exactly give it more time."""
    env = {**os.environ, "ARCHIVE_ALLOW_PRIVATE_ADDRESSES": "1", "ARCHIVE_FRONTIER_HEARTBEAT": str(heartbeat),
           "ARCHIVE_EXTRACT_WORKERS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "archive", "crawl", url, "--db", db, "--frontier", redis_url, "--frontier-name", name,
         "--frontier-idle", str(idle), "--no-throttle", "--concurrency", "8"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def sources_worker(sources: Path, db: str, redis_url: str, name: str, *,
                   heartbeat: float = 3.0) -> subprocess.Popen[str]:
    """`archive crawl --sources FILE --frontier ...` in its own process (see `worker` on `heartbeat`)."""
    env = {**os.environ, "ARCHIVE_ALLOW_PRIVATE_ADDRESSES": "1", "ARCHIVE_FRONTIER_HEARTBEAT": str(heartbeat),
           "ARCHIVE_EXTRACT_WORKERS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "archive", "crawl", "--sources", str(sources), "--db", db, "--frontier", redis_url,
         "--frontier-name", name, "--frontier-idle", "3", "--no-throttle"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finished(process: subprocess.Popen[str], timeout: float = 150) -> str:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, f"worker exited {process.returncode}:\n{err[-3000:]}"
    return out


def article_counts(db: str) -> tuple[int, int, int]:
    """(articles, versions, articles with more than one version)."""
    engine = create_engine(db)
    try:
        with engine.connect() as connection:
            articles = connection.scalar(select(func.count()).select_from(Article))
            versions = connection.scalar(select(func.count()).select_from(Snapshot))
            multi = connection.scalar(select(func.count()).select_from(
                select(Snapshot.article_id).group_by(Snapshot.article_id).having(func.count() > 1).subquery()))
    finally:
        engine.dispose()
    return int(articles or 0), int(versions or 0), int(multi or 0)


def fetched(server: SiteServer) -> Counter[str]:
    return Counter(path for path in server.requests if path.startswith("/a/"))


# -- the scheduler with the installed Scrapy ---------------------------------------------------------
class _Spider(Spider):
    name = "frontier-test"

    def parse(self, response):  # pragma: no cover - never called here
        yield from ()


def scheduler(redis_url: str, name: str) -> FrontierScheduler:
    crawler = get_crawler(_Spider, {**frontier_module.settings(redis_url, name),
                                    "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7"})
    crawler.spider = crawler._create_spider()
    built = FrontierScheduler.from_crawler(crawler)
    built.open(crawler.spider)
    return built


def test_scrapy_redis_scheduler_works_with_installed_scrapy(redis_server: str, frontier_name: str) -> None:
    first = scheduler(redis_server, frontier_name)
    try:
        request = Request("https://news.example.com/a/1.html?utm_source=x", callback=first.spider.parse, priority=5)
        assert first.enqueue_request(request) is True
        assert first.enqueue_request(Request("https://news.example.com/a/1.html?utm_source=x")) is False  # seen
        fingerprint = first.crawler.request_fingerprinter.fingerprint(request).hex()
        assert first.df.request_fingerprint(request) == fingerprint  # Scrapy's fingerprints, not scrapy-redis' own
        assert first.frontier.is_seen(first.run, bytes.fromhex(fingerprint))
        assert first.frontier.seen_count(first.run) == 1
        taken = first.next_request()
        assert taken is not None and taken.url == request.url and taken.priority == 5
        assert taken.callback == first.spider.parse and CLAIM in taken.meta
        assert first.frontier.claimed() == 1 and first.frontier.queued() == 0
    finally:
        first.ticker.stop()


def test_a_worker_holds_at_most_concurrent_requests_claims(redis_server: str, frontier_name: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    crawler = get_crawler(_Spider, {**frontier_module.settings(redis_server, frontier_name),
                                    "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7", "CONCURRENT_REQUESTS": 2})
    crawler.spider = crawler._create_spider()
    busy = FrontierScheduler.from_crawler(crawler)
    busy.open(crawler.spider)
    busy.ticker.stop()
    held: set[Request] = set()
    monkeypatch.setattr(frontier_module, "_in_progress", lambda _crawler: held)  # the engine works on them
    for n in range(3):
        busy.enqueue_request(Request(f"https://news.example.com/a/{n}.html", callback=busy.spider.parse))
    held.update(r for r in (busy.next_request(), busy.next_request()) if r is not None)
    assert len(held) == 2 and busy.next_request() is None  # the third stays queued for other workers
    assert busy.frontier.claimed() == 2 and busy.frontier.queued() == 1
    held.pop()  # one is done
    assert busy.next_request() is not None and busy.frontier.claimed() == 2


def test_claims_of_a_dead_worker_are_queued_again(redis_server: str, frontier_name: str) -> None:
    dead = scheduler(redis_server, frontier_name)
    dead.ticker.stop()
    dead.enqueue_request(Request("https://news.example.com/a/2.html", callback=dead.spider.parse))
    assert dead.next_request() is not None
    server = redis.Redis.from_url(redis_server)
    state = Frontier(server, frontier_name)
    assert state.recover() == 0  # its heartbeat is alive: the claim stays
    server.delete(state.key("alive", dead.worker))  # the heartbeat expires: SIGKILL, power cut
    assert state.recover() == 1
    assert state.queued() == 1 and state.claimed() == 0 and state.status().recovered == 1
    assert dead.worker not in state.workers()


def test_a_new_run_starts_on_an_idle_frontier_with_an_empty_seen_set(redis_server: str, frontier_name: str) -> None:
    state = Frontier(redis.Redis.from_url(redis_server), frontier_name, heartbeat=5)
    assert state.seed(["https://news.example.com/a/3.html"]) == (1, 0)
    run = state.run()
    assert state.seed(["https://news.example.com/a/3.html"]) == (0, 1)  # once per run
    assert state.join("w1", {}) == run  # requests are queued: the run goes on
    state.claim("w1")
    state.release("w1", [t.decode() for t in state.server.hkeys(state.key("claims", "w1"))])
    state.leave("w1")
    assert state.join("w2", {}) == run + 1  # nothing left and nobody working: a new run
    assert state.status().seen == 0
    state.leave("w2")
    assert state.seed(["https://news.example.com/a/3.html"]) == (1, 0)  # due again: not blocked by last run


def test_a_seen_set_of_an_older_version_is_converted(redis_server: str, frontier_name: str) -> None:
    state = Frontier(redis.Redis.from_url(redis_server), frontier_name, heartbeat=5)
    assert state.seed(["https://news.example.com/a/1.html"]) == (1, 0)  # a run with a queue: it goes on
    run, fingerprint = state.run(), bytes(range(20))
    state.drop_seen(run)
    state.server.sadd(state.seen_key(run), fingerprint.hex())  # as versions before the compact set kept it
    assert state.join("w1", {}) == run
    assert state.is_seen(run, fingerprint) and state.seen_count(run) == 1
    assert not state.add_seen(run, fingerprint) and state.add_seen(run, bytes(20))
    state.leave("w1")


def test_frontier_cli_status_seed_clear(redis_server: str, frontier_name: str) -> None:
    from tests.conftest import run_cli
    seeded = run_cli("frontier", "seed", frontier_name, "https://news.example.com/", "--redis", redis_server)
    assert "1 URL(s) queued" in seeded.stdout
    status = run_cli("frontier", "status", frontier_name, "--redis", redis_server)
    assert frontier_name in status.stdout
    line = next(line for line in status.stdout.splitlines() if frontier_name in line)
    assert line.split()[1:4] == ["1", "1", "1"]  # run, queued, seen
    cleared = run_cli("frontier", "clear", frontier_name, "--redis", redis_server)
    assert "deleted" in cleared.stdout
    assert Frontier(redis.Redis.from_url(redis_server), frontier_name).status().queued == 0
    bad = run_cli("frontier", "status", "--redis", "redis://127.0.0.1:1/0", check=False)
    assert bad.returncode == 1 and "cannot reach the frontier" in bad.stderr


# -- whole crawls --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_two_workers_fetch_every_page_once_into_one_archive(tmp_path: Path, postgres_db: str, redis_server: str,
                                                            frontier_name: str) -> None:
    with SiteServer(build_site(tmp_path / "site")) as server:
        workers = [worker(server.url, postgres_db, redis_server, frontier_name, heartbeat=60) for _ in range(2)]
        outputs = [finished(w) for w in workers]
    counts = fetched(server)
    assert len(counts) == PAGES and set(counts.values()) == {1}, counts.most_common(3)
    assert article_counts(postgres_db) == (PAGES, PAGES, 0)
    # both did work (one crawl row each in the archive), and nothing is left queued or claimed
    assert all("new articles" in out for out in outputs)
    engine = create_engine(postgres_db)
    with engine.connect() as connection:
        shares = [int((stats or {}).get("archive/new", 0)) for stats in connection.scalars(select(Crawl.stats))]
    engine.dispose()
    assert len(shares) == 2 and min(shares) > 0 and sum(shares) == PAGES, shares
    state = Frontier(redis.Redis.from_url(redis_server), frontier_name).status()
    assert (state.queued, sum(w.claims for w in state.workers), state.workers) == (0, 0, [])


@pytest.mark.slow
def test_a_killed_worker_loses_nothing(tmp_path: Path, postgres_db: str, redis_server: str,
                                       frontier_name: str) -> None:
    engine = make_engine(postgres_db)
    upgrade(engine)  # the tables exist before the progress is polled
    engine.dispose()
    with SiteServer(build_site(tmp_path / "site"), delay=0.02) as server:
        doomed = worker(server.url, postgres_db, redis_server, frontier_name)
        survivor = worker(server.url, postgres_db, redis_server, frontier_name)
        state = Frontier(redis.Redis.from_url(redis_server), frontier_name)
        deadline = time.monotonic() + 120
        while article_counts(postgres_db)[0] < PAGES // 4:  # midway: both are busy
            assert time.monotonic() < deadline and doomed.poll() is None and survivor.poll() is None
            time.sleep(0.2)
        held = [w for w in state.workers() if int(state.server.hlen(state.key("claims", w)))]
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.communicate()
        restarted = worker(server.url, postgres_db, redis_server, frontier_name)
        finished(survivor)
        finished(restarted)
    counts = fetched(server)
    articles, versions, multi = article_counts(postgres_db)
    assert (articles, versions, multi) == (PAGES, PAGES, 0)  # nothing lost, no duplicate version
    assert len(counts) == PAGES
    status = state.status()
    assert held and status.recovered > 0  # the dead worker held requests, and they were queued again
    assert sum(counts.values()) - PAGES <= status.recovered  # only recovered claims were fetched twice
    # nothing queued; only the killed worker is still listed, as dead (its counters stay a day)
    assert status.queued == 0 and [(w.state, w.claims) for w in status.workers] == [("dead", 0)]
    # the killed worker's run is settled from its fetches, as a killed single-machine run is
    engine = create_engine(postgres_db)
    with engine.connect() as connection:
        runs = {row.command["worker"]: row for row in connection.execute(select(Crawl.command, Crawl.finished_at,
                                                                                 Crawl.stats))}
    engine.dispose()
    killed = [row for worker, row in runs.items() if worker.split("-")[-2] == str(doomed.pid)]
    assert len(runs) == 3 and len(killed) == 1 and all(row.finished_at is not None for row in runs.values())
    assert killed[0].stats["finish_reason"] == "killed" and killed[0].stats["archive/fetches"] > 0
    from tests.conftest import run_cli
    listed = run_cli("crawls", "--db", postgres_db).stdout
    assert "running/stopped" not in listed and "killed" in listed, listed


@pytest.mark.slow
def test_two_workers_share_a_sources_crawl(tmp_path: Path, postgres_db: str, redis_server: str,
                                           frontier_name: str) -> None:
    """Each worker reads the feeds and sitemaps itself; every article they list is fetched once."""
    from tests import discovery_site
    with SiteServer(discovery_site.build(tmp_path / "site")) as server:
        sources = discovery_site.sources_file(tmp_path / "sources.toml", server)
        workers = [sources_worker(sources, postgres_db, redis_server, frontier_name) for _ in range(2)]
        for process in workers:
            finished(process)
    counts = Counter(path for path in server.requests if path in discovery_site.ARTICLES)
    assert set(counts) == set(discovery_site.ARTICLES) and set(counts.values()) == {1}, counts
    assert article_counts(postgres_db)[0] >= len(discovery_site.ARTICLES)
    # No version repeats another. (A second version is possible here, unlike with one worker: when
    # a worker stores the article under a linked URL variant before another stores the sitemap's
    # entry, the sitemap's declared tickers arrive second, which the archive records as a change.)
    engine = create_engine(postgres_db)
    with engine.connect() as connection:
        repeated = connection.scalar(select(func.count()).select_from(
            select(Snapshot.article_id).group_by(Snapshot.article_id, Snapshot.content_sha256)
            .having(func.count() > 1).subquery()))
    engine.dispose()
    assert repeated == 0
