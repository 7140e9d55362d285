"""Redis as infrastructure for a shared crawl: a Redis restarted without persistence makes the
workers stop with one line and a non-zero exit (the run marker), and `archive frontier status`
warns when Redis keeps nothing on disk. Uses a redis-server of its own, which it restarts."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest
import redis

from tests.accesslog import AccessLogSite
from tests.conftest import run_cli
from tests.crawler.test_politeness_fleet import worker

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


class OwnRedis:
    """A redis-server process of this test, on a free loopback port, keeping nothing on disk."""

    def __init__(self, folder: Path, *options: str) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.folder, self.options = folder, options
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder), *self.options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=1).ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.mark.slow
def test_workers_exit_non_zero_when_redis_restarts_without_persistence(postgres_db: str,
                                                                         own_redis: OwnRedis) -> None:
    with AccessLogSite(120, per_list=10, latency=0.1) as site:
        workers = [worker(site.url, postgres_db, own_redis.url, "lost", "--no-throttle", "--concurrency", "2")
                   for _ in range(2)]
        deadline = time.monotonic() + 120
        while sum(h.path.startswith("/a/") for h in site.hits) < 10:
            assert time.monotonic() < deadline and all(w.poll() is None for w in workers), site.summary()
            time.sleep(0.1)
        own_redis.stop()  # the queue, the seen-set and the run marker are gone with it
        time.sleep(0.5)
        own_redis.start()
        results = [w.communicate(timeout=120) for w in workers]
    fetched = {h.path for h in site.hits if h.path.startswith("/a/")}
    assert len(fetched) < 120  # the rest of the crawl was lost: the workers must say so
    for process, (_, err) in zip(workers, results):
        assert process.returncode == 1, err[-3000:]
        assert "Traceback" not in err, err[-3000:]
        lines = [line for line in err.splitlines() if "vanished from Redis" in line]
        assert lines and lines[-1].startswith("Error: the state of shared crawl lost"), err[-3000:]


def test_status_warns_when_redis_keeps_nothing_on_disk(own_redis: OwnRedis) -> None:
    run_cli("frontier", "seed", "c1", "https://news.example.com/", "--redis", own_redis.url)
    status = run_cli("frontier", "status", "--redis", own_redis.url)
    assert "neither AOF nor RDB" in status.stderr and "c1" in status.stdout
    redis.Redis(port=own_redis.port).config_set("appendonly", "yes")
    status = run_cli("frontier", "status", "--redis", own_redis.url)
    assert "neither AOF nor RDB" not in status.stderr, status.stderr
    redis.Redis(port=own_redis.port).config_set("appendonly", "no")
    redis.Redis(port=own_redis.port).config_set("save", "3600 1")
    assert "neither AOF nor RDB" not in run_cli("frontier", "status", "--redis", own_redis.url).stderr


def test_status_says_it_cannot_check_persistence_when_config_is_disabled(tmp_path: Path) -> None:
    server = OwnRedis(tmp_path, "--rename-command", "CONFIG", "")
    server.start()
    try:
        status = run_cli("frontier", "status", "--redis", server.url)
        assert status.returncode == 0 and "Traceback" not in status.stderr
        assert "cannot check" in status.stderr and "persistence" in status.stderr
    finally:
        server.stop()
