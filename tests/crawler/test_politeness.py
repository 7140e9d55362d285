"""Politeness as a publisher sees it: crawls through the real CLI against a server that logs every
request's start, end and the requests in flight (tests/accesslog.py). A site's delay is a minimum
gap between request starts, its concurrency a maximum in flight, with AutoThrottle on or off.

The assertions are a minimum and a maximum, which a loaded machine can only make easier to meet
(it slows the crawler down); CLOCK_SLACK covers the server's own clock reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.accesslog import CLOCK_SLACK, AccessLogSite
from tests.conftest import run_cli


def sources_file(tmp_path: Path, url: str, delay: float | None, concurrency: int) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(f'[[site]]\nname = "logged"\nstart_urls = ["{url}"]\nconcurrency = {concurrency}\n'
                    + (f"delay = {delay}\n" if delay is not None else ""), encoding="utf-8")
    return path


def crawl(tmp_path: Path, site: AccessLogSite, *, delay: float, concurrency: int, throttle: bool,
          sources: bool, sources_delay: float | None = None) -> None:
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    options = [] if throttle else ["--no-throttle"]
    if sources:
        path = sources_file(tmp_path, site.url, sources_delay if sources_delay is not None else delay, concurrency)
        run_cli("crawl", "--sources", str(path), "--db", db, *options)
    else:
        run_cli("crawl", site.url, "--db", db, "--delay", str(delay), "--concurrency", str(concurrency), *options)


def assert_polite(site: AccessLogSite, delay: float, concurrency: int) -> None:
    articles = {h.path for h in site.hits if h.path.startswith("/a/")}
    assert len(articles) == site.articles, site.summary()  # the whole site was crawled
    assert site.min_gap() >= delay - CLOCK_SLACK, site.summary()
    assert site.max_in_flight() <= concurrency, site.summary()


@pytest.mark.parametrize(("delay", "concurrency", "throttle", "sources"), [
    (0.5, 1, True, False),    # the default: AutoThrottle on, which used to drop the delay
    (0.5, 2, False, False),
    (0.5, 2, True, True),
    (0.5, 1, False, True),
])
def test_a_sites_delay_is_the_least_gap_between_request_starts(
        tmp_path: Path, delay: float, concurrency: int, throttle: bool, sources: bool) -> None:
    with AccessLogSite(12, per_list=6, latency=0.02) as site:
        crawl(tmp_path, site, delay=delay, concurrency=concurrency, throttle=throttle, sources=sources)
    assert_polite(site, delay, concurrency)


@pytest.mark.parametrize(("concurrency", "throttle", "sources"), [
    (2, False, False),   # plain Scrapy's slots let 16 through here
    (2, True, True),
    (1, True, False),
    (1, False, True),
])
def test_without_a_delay_a_site_never_has_more_requests_in_flight_than_its_concurrency(
        tmp_path: Path, concurrency: int, throttle: bool, sources: bool) -> None:
    with AccessLogSite(40, per_list=20, latency=0.1) as site:
        crawl(tmp_path, site, delay=0.0, concurrency=concurrency, throttle=throttle, sources=sources)
    assert_polite(site, 0.0, concurrency)


def test_a_robots_crawl_delay_longer_than_the_sources_delay_wins(tmp_path: Path) -> None:
    with AccessLogSite(12, per_list=6, latency=0.02, crawl_delay=0.4) as site:
        crawl(tmp_path, site, delay=0.1, concurrency=2, throttle=False, sources=True)
    assert_polite(site, 0.4, 2)


def test_a_robots_crawl_delay_shorter_than_the_delay_changes_nothing(tmp_path: Path) -> None:
    with AccessLogSite(8, per_list=4, latency=0.02, crawl_delay=0.1) as site:
        crawl(tmp_path, site, delay=0.5, concurrency=1, throttle=False, sources=False)
    assert_polite(site, 0.5, 1)
