"""Bad responses: each fault is a recorded fetch with a clear error kind, the crawl goes on, and
nothing stored before is touched. The server (support/faultserver.py) produces every fault on loopback."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Iterator

import pytest
from scrapy import Request
from scrapy.exceptions import (CannotResolveHostError, DownloadCancelledError, DownloadConnectionRefusedError,
                               DownloadFailedError, DownloadTimeoutError, IgnoreRequest, ResponseDataLossError)
from scrapy.http import HtmlResponse, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectionLost
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseNeverReceived

from crawler.failures import describe
from crawler.middlewares import RedirectLoop, RedirectLoopGuard, RefusedRequest, retry_after_seconds
from tests.conftest import run_cli
from support.faultserver import FaultServer
from tests.pages import LOREM, article, listing

#: fault served in the second crawl -> the error kind its fetch must carry (None: stored fine).
EXPECTED = {
    "http_404": "http_404", "http_410": "http_410", "http_500": "http_500", "http_503": "http_503",
    "http_429_always": "http_429", "http_429_too_long": "http_429", "timeout": "timeout",
    "reset": "connection_reset", "data_loss": "data_loss", "truncated": "truncated", "binary": "not_html",
    "empty": "empty", "huge": "too_large", "huge_stream": "too_large", "gzip_bomb": "too_large",
    "redirect_loop": "redirect_loop", "redirect_self": "redirect_loop", "redirect_file": "refused",
    "deep": None, "cp1252": None, "utf16": None, "no_charset_latin": None, "http_429_once": None,
}


def story(name: str) -> bytes:
    """A distinct article per fault, with typographic quotes and accents that a wrong charset would mangle."""
    title = f"Café owners’ “naïve” résumé: {name.replace('_', ' ')} — €3 coffee"
    return article(title, paragraphs=[f"{p} ({name})" for p in LOREM]).encode()


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """Crawl 1: every URL serves a good article. Crawl 2: the same URLs serve their faults."""
    names = list(EXPECTED)
    pages = {"/": listing([f"/f/{n}.html" for n in names] + ["/stable.html"]).encode(),
             "/stable.html": story("stable")}
    pages.update({f"/f/{n}.html": story(n) for n in names})
    db_path = tmp_path_factory.mktemp("bad") / "archive.db"
    db = f"sqlite:///{db_path}"
    with FaultServer(pages, stall_seconds=8) as server:
        first = run_cli("crawl", server.url, "--db", db)  # good pages: the default timeout, as a loaded machine needs
        before = rows(db_path, "select a.canonical_url, s.version, s.title, s.body, s.content_sha256 "
                               "from snapshot s join article a on a.id = s.article_id order by s.id")
        server.faults = {f"/f/{n}.html": n for n in names}
        started = time.monotonic()
        # ask again; the stall (8 s) outlasts the timeout, which leaves a loaded machine 3 s for a good page
        second = run_cli("crawl", server.url, "--db", db, "--timeout", "3", "--refresh-after", "0s")
        seconds = time.monotonic() - started
    yield {"db": db_path, "first": first, "second": second, "before": before, "seconds": seconds,
           "server": server}


def rows(path: Path, query: str) -> list[tuple]:
    with sqlite3.connect(path) as connection:
        return connection.execute(query).fetchall()


def second_crawl_fetches(path: Path) -> dict[str, tuple[str, str | None]]:
    crawl = rows(path, "select max(id) from crawl")[0][0]
    return {url.rsplit("/", 1)[1].removesuffix(".html"): (outcome, error)
            for url, outcome, error in rows(path, f"select url, outcome, error from fetch where crawl_id = {crawl}")}


@pytest.mark.slow
def test_each_fault_is_recorded_with_its_kind(crawled: dict[str, object]) -> None:
    fetches = second_crawl_fetches(crawled["db"])  # type: ignore[arg-type]
    for fault, kind in EXPECTED.items():
        outcome, error = fetches[fault]
        if kind is None:
            assert outcome != "error", (fault, error)
        else:
            assert outcome == "error" and error is not None and error.split(":", 1)[0] == kind, (fault, error)
            assert len(error.split(":", 1)[1].strip()) > 5, f"{fault}: the message says nothing: {error!r}"


@pytest.mark.slow
def test_nothing_stored_before_is_touched(crawled: dict[str, object]) -> None:
    after = rows(crawled["db"], "select a.canonical_url, s.version, s.title, s.body, s.content_sha256 "  # type: ignore[arg-type]
                                "from snapshot s join article a on a.id = s.article_id order by s.id")
    assert after == crawled["before"]
    assert len(after) == len(EXPECTED) + 1  # every fault URL (and /stable.html) was an article in crawl 1


@pytest.mark.slow
def test_charsets_decode_to_the_same_article(crawled: dict[str, object]) -> None:
    """cp1252 bytes declared UTF-8, UTF-16 with a BOM, no charset at all: the same text, so no new version."""
    fetches = second_crawl_fetches(crawled["db"])  # type: ignore[arg-type]
    for fault in ("cp1252", "utf16", "no_charset_latin"):
        assert fetches[fault][0] == "unchanged", fetches[fault]
    titles = [t for (t,) in rows(crawled["db"], "select title from snapshot")]  # type: ignore[arg-type]
    assert all("Café owners’ “naïve” résumé" in t for t in titles)


@pytest.mark.slow
def test_retry_after_is_honoured_and_recorded(crawled: dict[str, object]) -> None:
    server: FaultServer = crawled["server"]  # type: ignore[assignment]
    once = [p for p in server.requests if p == "/f/http_429_once.html"]
    assert len(once) == 3  # crawl 1, then crawl 2: the 429 and the retry after Retry-After: 1
    assert server.requests.count("/f/http_429_too_long.html") == 2  # an hour is longer than the maximum: no retry
    stats = json.loads(rows(crawled["db"], "select stats from crawl order by id desc limit 1")[0][0])  # type: ignore[arg-type]
    assert stats["archive/retry_after"] >= 1


@pytest.mark.slow
def test_summary_exit_and_log(crawled: dict[str, object]) -> None:
    second = crawled["second"]
    summary = second.stdout  # type: ignore[attr-defined]
    assert "connection_reset 1" in summary and "data_loss 1" in summary
    assert "larger than download max size" in second.stderr  # type: ignore[attr-defined]  # Scrapy's own clear line
    assert crawled["seconds"] < 60  # a stalled server costs the timeout (and its retries), not the crawl


@pytest.mark.slow
def test_deep_nesting_does_not_stall(crawled: dict[str, object]) -> None:
    fetches = second_crawl_fetches(crawled["db"])  # type: ignore[arg-type]
    outcome, error = fetches["deep"]
    assert outcome in ("unchanged", "not_article", "changed") or (error or "").startswith("parse_error")


# -- the pieces, one at a time -------------------------------------------------------------------
def failure(exc: BaseException, url: str = "http://news.example.com/a") -> Failure:
    result = Failure(exc)
    result.request = Request(url)  # type: ignore[attr-defined]
    return result


def wrapped(outer: type[Exception], inner: BaseException, message: str = "") -> Exception:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer(message) from exc
    except Exception as exc:  # noqa: BLE001
        return exc


@pytest.mark.parametrize("exc, kind", [
    (DownloadTimeoutError("Getting x took longer than 1.0 seconds."), "timeout"),
    (CannotResolveHostError("no results for hostname lookup: nowhere.invalid"), "dns"),
    (DownloadConnectionRefusedError("Connection was refused"), "connection_refused"),
    (ResponseDataLossError(), "data_loss"),
    (wrapped(DownloadFailedError, ResponseNeverReceived([Failure(ConnectionLost())])), "connection_reset"),
    (DownloadCancelledError(), "too_large"),
    (DownloadCancelledError("Expected to receive 10485760 bytes which is larger than download max size (8388608)"),
     "too_large"),
    (IgnoreRequest("max redirections reached"), "redirect_loop"),
    (RedirectLoop("redirect loop: a -> b -> a"), "redirect_loop"),
    (RefusedRequest("10.0.0.1 is a private address"), "refused"),
    (IgnoreRequest("Forbidden by robots.txt"), "robots_txt"),
    (ValueError("odd"), "value"),
])
def test_exceptions_map_to_kinds(exc: BaseException, kind: str) -> None:
    described = describe(failure(exc), maxsize=8 * 1024 * 1024)
    assert described.kind == kind
    assert described.message and described.error.startswith(f"{kind}: ")


def test_http_errors_keep_status_and_retry_after() -> None:
    response = Response("http://news.example.com/a", status=429, headers={"Retry-After": "3600"})
    described = describe(failure(HttpError(response, "Ignoring non-200 response")))
    assert (described.kind, described.status) == ("http_429", 429)
    assert "Retry-After: 3600" in described.message


@pytest.mark.parametrize("value, seconds", [("1", 1.0), ("120", 120.0), (None, 5.0), ("soon", None),
                                            ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)])
def test_retry_after_values(value: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value, default=5.0) == seconds


def test_redirect_back_into_the_chain_is_a_loop() -> None:
    guard = RedirectLoopGuard()
    request = Request("http://news.example.com/b", meta={"redirect_urls": ["http://news.example.com/a"]})
    loop = HtmlResponse(request.url, status=302, headers={"Location": "/a?utm_source=x"}, request=request)
    with pytest.raises(RedirectLoop):
        guard.process_response(request, loop)
    onward = HtmlResponse(request.url, status=302, headers={"Location": "/c"}, request=request)
    assert guard.process_response(request, onward) is onward
    with pytest.raises(RefusedRequest):
        guard.process_response(request, HtmlResponse(request.url, status=301, request=request,
                                                     headers={"Location": "gopher://news.example.com/"}))
