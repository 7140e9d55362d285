"""Limits of a shared crawl that mean what they say: --max-pages for the crawl as a whole, and no
Redis password in what a worker prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.demo.server import SiteServer
from crawler.frontier import public_url
from tests.accesslog import AccessLogSite
from tests.conftest import run_cli
from tests.crawler.test_frontier import sources_worker
from tests.crawler.test_politeness_fleet import worker


def test_max_pages_limits_the_shared_crawl_not_each_worker(postgres_db: str, redis_server: str,
                                                          frontier_name: str) -> None:
    with AccessLogSite(40, per_list=10, latency=0.02) as site:
        workers = [worker(site.url, postgres_db, redis_server, frontier_name, "--max-pages", "10",
                          "--no-throttle") for _ in range(3)]
        for process in workers:
            _, err = process.communicate(timeout=240)
            assert process.returncode == 0, err[-3000:]
    pages = [h for h in site.hits if h.path != "/robots.txt"]
    assert 1 <= len(pages) <= 10, site.summary()  # up to 3 x 10 before


@pytest.mark.parametrize("url", ["redis://:s3cret@127.0.0.1:1/0", "redis://user:s3cret@127.0.0.1:1/0",
                                 "redis://127.0.0.1:1/0?password=s3cret"])
def test_a_redis_password_is_never_printed(tmp_path: object, url: str) -> None:
    assert "s3cret" not in public_url(url) and "***" in public_url(url)
    result = run_cli("crawl", "http://127.0.0.1:1/", "--db", f"sqlite:///{tmp_path}/a.db", "--frontier", url,
                     check=False)
    assert result.returncode != 0
    assert "s3cret" not in result.stdout + result.stderr
    assert "cannot reach the frontier at redis://" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_start_url_is_fetched_once_per_shared_crawl(tmp_path: Path, postgres_db: str, redis_server: str,
                                                       frontier_name: str) -> None:
    """Every worker of a sources crawl makes the start page's request (unfiltered in a crawl of its
    own); the shared crawl fetches it once, and a link back to it later does not fetch it again."""
    from tests import discovery_site
    with SiteServer(discovery_site.build(tmp_path / "site")) as server:
        sources = discovery_site.sources_file(tmp_path / "sources.toml", server)
        # A 60 s heartbeat: a worker stalled by a loaded machine must not be taken for dead, or its
        # claims would be fetched again and the count below would not be exact.
        workers = [sources_worker(sources, postgres_db, redis_server, frontier_name, heartbeat=60)
                   for _ in range(3)]
        for process in workers:
            _, err = process.communicate(timeout=240)
            assert process.returncode == 0, err[-3000:]
    assert server.requests.count("/") == 1, server.requests
