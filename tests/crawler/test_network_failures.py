"""Ordinary network failures through the real `archive crawl`: one log line and a counted error each,
never a traceback; a crawl that could fetch none of its start URLs exits non-zero saying why; a
robots.txt answering 5xx closes its site (RFC 9309)."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest

from tests import chaos
from tests.conftest import run_cli
from support.faultserver import FaultServer
from tests.pages import article, listing

pytestmark = pytest.mark.slow


def fetch_errors(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as connection:
        return dict(connection.execute("select url, error from fetch where error is not null"))


def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_one_line_failure(stderr: str, kind: str) -> None:
    assert "Traceback" not in stderr, stderr[:2000]
    lines = stderr.strip().splitlines()
    assert len(lines) <= 2, stderr  # the start URL's warning and the reason for the exit
    assert lines[-1].startswith("Error: none of the 1 start URL(s) could be fetched (last: ")
    assert f": {kind}: " in lines[-1]


@pytest.mark.parametrize("url, kind", [("http://no-such-host.invalid/", "dns"),
                                       (f"http://127.0.0.1:{closed_port()}/", "connection_refused")])
def test_an_unreachable_start_url_is_one_line_a_counted_error_and_exit_1(tmp_path: Path, url: str, kind: str) -> None:
    """Before: 74 (dns) and 69 (refused) lines of Scrapy's robots.txt traceback, and exit 0."""
    result = run_cli("crawl", url, "--db", f"sqlite:///{tmp_path / 'a.db'}", check=False)
    assert result.returncode == 1
    assert_one_line_failure(result.stderr, kind)
    assert f"{kind} 1" in result.stdout  # the summary's error kinds
    assert fetch_errors(tmp_path / "a.db")[url].startswith(f"{kind}: ")


def test_a_start_url_with_an_impossible_port_is_a_usage_error(tmp_path: Path) -> None:
    """Before: a traceback, exit 0 and nothing recorded."""
    result = run_cli("crawl", "http://127.0.0.1:99999/", "--db", f"sqlite:///{tmp_path / 'a.db'}", check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == \
        "Error: Invalid value for URLS: Port out of range 0-65535: http://127.0.0.1:99999/"


def test_one_unreachable_start_url_among_good_ones_is_counted_and_the_crawl_succeeds(tmp_path: Path) -> None:
    with FaultServer({"/": listing(["/a.html"]).encode(), "/a.html": article().encode()}) as server:
        result = run_cli("crawl", server.url, f"http://127.0.0.1:{closed_port()}/",
                         "--db", f"sqlite:///{tmp_path / 'a.db'}", check=False)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "connection_refused 1" in result.stdout


def test_a_crawl_refused_by_the_address_guard_says_how_to_opt_in(tmp_path: Path) -> None:
    with FaultServer({"/": listing(["/a.html"]).encode()}) as server:
        result = chaos.run("crawl", server.url, "--db", str(tmp_path / "a.db"))
    assert server.requests == []
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "pass --allow-private-addresses" in result.stdout
    assert result.stderr.strip().splitlines()[-1].startswith("Error: none of the 1 start URL(s) could be fetched")


@pytest.mark.parametrize("status", ["http_500", "http_503"])
def test_robots_txt_answering_5xx_closes_the_site(tmp_path: Path, status: str) -> None:
    """RFC 9309 2.3.1.4: a server error for robots.txt means complete disallow (Scrapy: allow all)."""
    pages = {"/": listing(["/a.html"]).encode(), "/a.html": article().encode()}
    with FaultServer(pages, faults={"/robots.txt": status}) as server:
        result = run_cli("crawl", server.url, "--db", f"sqlite:///{tmp_path / 'a.db'}", check=False)
    assert set(server.requests) == {"/robots.txt"}  # asked (and retried), and no page fetched
    assert result.returncode == 1 and "Traceback" not in result.stderr
    errors = fetch_errors(tmp_path / "a.db")
    assert list(errors) == [server.url]
    assert errors[server.url].startswith(f"robots_unavailable: robots.txt answered HTTP {status[5:]}")
    assert "robots_unavailable 1" in result.stdout


def test_robots_txt_missing_allows_the_site(tmp_path: Path) -> None:
    """A 404 (or any 4xx) for robots.txt means no rules (RFC 9309 2.3.1.3)."""
    pages = {"/": listing(["/a.html"]).encode(), "/a.html": article().encode()}
    with FaultServer(pages, faults={"/robots.txt": "http_404"}) as server:
        result = run_cli("crawl", server.url, "--db", f"sqlite:///{tmp_path / 'a.db'}", check=False)
    assert result.returncode == 0, result.stderr
    assert {"/", "/a.html"} <= set(server.requests)


@pytest.mark.parametrize("down, kind, says", [
    (503, "robots_unavailable", "robots.txt answered HTTP 503"),
    ("dns", "dns", "DNS lookup failed"),
    ("refused", "connection_refused", "Connection was refused"),
])
def test_an_unavailable_robots_txt_is_asked_again_after_the_retry_delay(down: object, kind: str, says: str) -> None:
    """Complete disallow lasts until robots.txt answers again (RFC 9309), asked every ARCHIVE_ROBOTS_RETRY_AFTER s.
    A host that does not resolve or refuses connections is closed too (before: its pages were tried,
    so a host back between robots.txt and the page was crawled without its rules), and its pages
    keep the host's own error kind."""
    import asyncio

    from scrapy import Request
    from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError
    from scrapy.http import Response
    from scrapy.utils.test import get_crawler

    from crawler.failures import describe
    from crawler.robots import RobotsTxt, RobotsUnavailable
    from twisted.python.failure import Failure

    failures = {"dns": CannotResolveHostError("DNS lookup failed: no results for hostname lookup: news.example.com"),
                "refused": DownloadConnectionRefusedError("Connection was refused by other side: 111")}
    answers = [down, 200]

    class Engine:
        async def download_async(self, request: Request) -> Response:
            answer = answers.pop(0)
            if isinstance(answer, str):
                raise failures[answer]
            return Response(request.url, status=answer, body=b"User-agent: *\nDisallow: /private/\n")

    crawler = get_crawler(settings_dict={"ROBOTSTXT_OBEY": True, "ARCHIVE_ROBOTS_RETRY_AFTER": 0.2})
    crawler.engine = Engine()  # type: ignore[assignment]
    middleware = RobotsTxt(crawler)

    async def ask(url: str) -> str:
        try:
            await middleware.process_request(Request(url))
        except RobotsUnavailable as exc:
            return f"unavailable: {describe(Failure(exc)).error}"
        except Exception as exc:  # noqa: BLE001
            return f"refused: {exc}"
        return "allowed"

    async def scenario() -> list[str]:
        first = [await ask("https://news.example.com/a.html"), await ask("https://news.example.com/b.html")]
        await asyncio.sleep(0.3)
        return first + [await ask("https://news.example.com/a.html"), await ask("https://news.example.com/private/x")]

    results = asyncio.run(scenario())
    assert results[0].startswith(f"unavailable: {kind}: {says}") and results[1] == results[0]
    assert results[2:] == ["allowed", "refused: Forbidden by robots.txt"]
    assert answers == []  # asked twice: once down, once again after the delay


def write_sources(path: Path, url: str, *, sitemap: str | None = None) -> Path:
    sitemaps = f'\nsitemaps = ["{sitemap}"]' if sitemap else ""
    path.write_text(f'[[site]]\nname = "news"\nstart_urls = ["{url}"]{sitemaps}\n')
    return path


def test_a_sources_crawl_that_reached_nothing_exits_1_saying_why(tmp_path: Path) -> None:
    """Before: a sources file whose site was down gave `connection_refused 2` and exit 0. Its start
    URLs, feeds and sitemaps are its starting points, as a plain crawl's start URLs are."""
    url = f"http://127.0.0.1:{closed_port()}/"
    sources = write_sources(tmp_path / "sources.toml", url, sitemap=url + "sitemap.xml")
    result = run_cli("crawl", "--sources", str(sources), "--db", f"sqlite:///{tmp_path / 'a.db'}", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: none of the 2 start URL(s) could be fetched (last: ") and ": connection_refused: " in last
    assert "connection_refused 2" in result.stdout


def test_a_sources_crawl_with_one_starting_point_answering_succeeds(tmp_path: Path) -> None:
    pages = {"/": listing(["/a.html"]).encode(), "/a.html": article().encode()}
    with FaultServer(pages, faults={"/sitemap.xml": "http_404"}) as server:
        sources = write_sources(tmp_path / "sources.toml", server.url, sitemap=server.url + "sitemap.xml")
        result = run_cli("crawl", "--sources", str(sources), "--db", f"sqlite:///{tmp_path / 'a.db'}", check=False)
    assert result.returncode == 0, result.stderr
    assert {"/", "/a.html", "/sitemap.xml"} <= set(server.requests)
