"""Articles that disappear and articles that move (issue 23, archive.removals), through the CLI on
SQLite and PostgreSQL, against a loopback site whose answers change between crawls.

"An hour apart" without waiting: between two crawls the archive is aged (every stored time moved
back), as if the earlier crawls had run hours ago; the crawler's own clock is never touched.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from sqlalchemy import create_engine, select, update

from archive.api import Archive
from archive.demo.server import BackgroundServer
from archive.models import Article, ArticleEvent, ArticleUrl, Fetch, Snapshot
from tests.conftest import run_cli
from tests.test_canonical_claims import query
from tests.pages import article, listing

STORY = "Chipmakers rally as data-center demand stays hot"
OTHER = ["Oil prices slipped as inventories rose for a fourth week, and refiners cut runs in the Gulf Coast.",
         "Airlines said bookings for the spring remain strong, though fuel costs weigh on their margins.",
         "Shipping rates across the Pacific eased after carriers added capacity on the busiest lanes."] * 3


#: Every page's Last-Modified (a site that sends one date for all its pages, as some CMSs do).
LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT"


class Site(BackgroundServer):
    """A site whose answers the test sets per path: (200, html), (301, location), (404, None)...

    `validators`: "etag" (an ETag per body, 304 to If-None-Match), "last-modified" (LAST_MODIFIED
    on every page, 304 to any If-Modified-Since), or none."""

    def __init__(self, validators: str = "") -> None:
        self.routes: dict[str, tuple[int, str | None]] = {}
        self.not_modified: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                status, payload = site.routes.get(self.path, (404, None))
                if status in (301, 302):
                    self.send_response(status)
                    self.send_header("Location", payload or "/")
                    self.end_headers()
                    return
                if status != 200:
                    self.send_error(status)
                    return
                data = (payload or "").encode()
                etag = f'"{hashlib.sha256(data).hexdigest()[:16]}"'
                if (validators == "etag" and self.headers.get("If-None-Match") == etag) or \
                        (validators == "last-modified" and self.headers.get("If-Modified-Since")):
                    site.not_modified.append(self.path)
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                if validators == "etag":
                    self.send_header("ETag", etag)
                elif validators == "last-modified":
                    self.send_header("Last-Modified", LAST_MODIFIED)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._listen(("127.0.0.1", 0), Handler)

    def home(self, *paths: str) -> None:
        self.routes["/"] = (200, listing(list(paths)))
        self.routes["/robots.txt"] = (200, "User-agent: *\nAllow: /\n")


def crawl(db_url: str, *urls: str) -> None:
    result = run_cli("crawl", *urls, "--db", db_url, "--refresh-after", "0s")
    assert "Traceback" not in result.stderr


def age(db_url: str, hours: float) -> None:
    """Move every time the archive stored back by `hours`: the crawls so far ran that much earlier."""
    shift = timedelta(hours=hours)
    columns = [(Fetch, Fetch.id, [Fetch.fetched_at]), (Snapshot, Snapshot.id, [Snapshot.fetched_at]),
               (Article, Article.id, [Article.first_seen_at, Article.last_fetched_at, Article.removed_at]),
               (ArticleEvent, ArticleEvent.id, [ArticleEvent.at]),
               (ArticleUrl, ArticleUrl.url, [ArticleUrl.first_seen_at, ArticleUrl.last_seen_at])]
    engine = create_engine(db_url)
    try:
        with engine.begin() as connection:
            for model, key, times in columns:
                for row in connection.execute(select(key, *times)).all():
                    values = {c.key: v - shift for c, v in zip(times, row[1:]) if v is not None}
                    connection.execute(update(model).where(key == row[0]).values(**values))
    finally:
        engine.dispose()


def scalar(db_url: str, statement: Any) -> Any:
    """One value, typed by the models (aware UTC times on both databases)."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            return connection.execute(statement).scalar()
    finally:
        engine.dispose()


def removed_at(db_url: str, url: str) -> datetime | None:
    return scalar(db_url, select(Article.removed_at).where(Article.canonical_url == url))


def export(db_url: str, *options: str) -> list[dict]:  # type: ignore[type-arg]
    out = run_cli("export", "--db", db_url, "-o", "-", *options).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_a_404_confirmed_an_hour_later_is_a_removal_and_a_later_fetch_restores(db_url: str) -> None:
    with Site() as site:
        base = site.url.rstrip("/")
        site.home("/news/1.html", "/news/2.html")
        site.routes["/news/1.html"] = (200, article(STORY))
        site.routes["/news/2.html"] = (200, article("Oil slips on rising inventories", paragraphs=OTHER))
        crawl(db_url, site.url)
        gone, flaky = f"{base}/news/1.html", f"{base}/news/2.html"
        site.routes["/news/1.html"] = (404, None)
        site.routes["/news/2.html"] = (503, None)  # transient: never a removal
        crawl(db_url, site.url)
        assert removed_at(db_url, gone) is None  # one answer is not enough
        crawl(db_url, site.url)
        assert removed_at(db_url, gone) is None  # nor two within the hour
        first_absent = scalar(db_url, select(ArticleEvent.at).where(ArticleEvent.kind == "absent")
                              .order_by(ArticleEvent.at).limit(1))
        age(db_url, 2)
        crawl(db_url, site.url)
        when = removed_at(db_url, gone)
        assert when is not None and removed_at(db_url, flaky) is None
        assert when == first_absent - timedelta(hours=2)  # the first observation, not the confirming one

        shown = run_cli("show", gone, "--db", db_url, "--versions").stdout
        assert "removed:" in shown and "answered http_404" in shown
        search = run_cli("search", "--removed", "--db", db_url, "--json").stdout.splitlines()
        assert [json.loads(line)["canonical_url"] for line in search] == [gone]
        rows = {row["canonical_url"]: row for row in export(db_url)}
        assert rows[gone]["removed_at"] is not None and rows[flaky]["removed_at"] is None
        assert [row["canonical_url"] for row in export(db_url, "--removed")] == [gone]
        stats = json.loads(run_cli("stats", "--db", db_url, "--json").stdout)
        assert stats["removed"] == 1 and stats["removals"] == {rows[gone]["site"]: {when.strftime("%Y-%m"): 1}}
        assert "removals per site and month" in run_cli("stats", "--db", db_url).stdout

        site.routes["/news/1.html"] = (200, article(STORY))  # put back, unchanged
        crawl(db_url, site.url)
    assert removed_at(db_url, gone) is None
    kinds = query(db_url, "select e.kind from article_event e join article a on a.id = e.article_id "
                          "where a.canonical_url = :u and e.kind <> 'absent' order by e.at", u=gone)
    assert kinds == [("removed",), ("restored",)]
    assert query(db_url, "select count(*) from snapshot s join article a on a.id = s.article_id "
                         "where a.canonical_url = :u", u=gone) == [(1,)]  # no new version for an event
    timeline = run_cli("show", gone, "--db", db_url, "--versions").stdout
    assert timeline.index(" removed ") < timeline.index(" restored ")
    assert run_cli("search", "--removed", "--db", db_url, "--json").stdout.strip() == ""


def test_a_redirect_to_the_home_page_is_a_removal(db_url: str) -> None:
    """The site answers If-Modified-Since with 304 on every page: the redirect must not carry the
    article's validators to the home page, whose 304 would pass for the article seen unchanged."""
    with Site(validators="last-modified") as site:
        base = site.url.rstrip("/")
        site.home("/news/3.html")
        site.routes["/news/3.html"] = (200, article(STORY))
        crawl(db_url, site.url)
        site.routes["/news/3.html"] = (301, "/")
        crawl(db_url, site.url)
        age(db_url, 2)
        crawl(db_url, site.url)
    assert removed_at(db_url, f"{base}/news/3.html") is not None
    detail = query(db_url, "select detail from article_event where kind = 'removed'")
    assert detail == [(f"redirect to {base}/",)]


MOVED = STORY + ", analysts say"


@pytest.mark.parametrize("order", ["old URL first", "new URL first"])
def test_a_moved_article_keeps_its_identity(db_url: str, order: str) -> None:
    """With ETags: in the second order the new URL answers its own validators with 304 (nothing
    extracted), and the move is still seen."""
    with Site(validators="etag") as site:
        base = site.url.rstrip("/")
        old, new = f"{base}/news/chip-rally.html", f"{base}/news/chip-rally-analysts.html"
        site.home("/news/chip-rally.html")
        site.routes["/news/chip-rally.html"] = (200, article(STORY))
        crawl(db_url, site.url)
        original, = query(db_url, "select id from article")[0]
        # The slug is renamed: the old URL redirects, the page there has a longer headline.
        site.routes["/news/chip-rally.html"] = (301, "/news/chip-rally-analysts.html")
        site.routes["/news/chip-rally-analysts.html"] = (
            200, article(MOVED, head='<link rel="canonical" href="/news/chip-rally-analysts.html">'))
        if order == "old URL first":
            crawl(db_url, site.url)  # the listing still links the old URL: the redirect is followed
            assert query(db_url, "select id, canonical_url from article") == [(original, new)]
            site.home("/news/chip-rally-analysts.html")
            crawl(db_url, site.url)
        else:
            site.home("/news/chip-rally-analysts.html")
            crawl(db_url, site.url)  # the new URL alone: a second article for now
            assert len(query(db_url, "select id from article")) == 2
            crawl(db_url, old)  # the old URL asked again (its recrawl): it redirects to the new one
            assert "/news/chip-rally-analysts.html" in site.not_modified
    assert query(db_url, "select id, canonical_url from article") == [(original, new)]
    versions = query(db_url, "select version, url, title from snapshot order by version")
    assert versions == [(1, old, STORY), (2, new, MOVED)]
    assert query(db_url, "select count(*) from \"fetch\" where article_id is null and url = :u", u=new) == [(0,)]
    for key in (old, new, str(original)):
        shown = run_cli("show", key, "--db", db_url, "--versions").stdout
        assert f"article {original} " in shown
    shown = run_cli("show", old, "--db", db_url).stdout
    assert f"{old}  first seen" in shown and f"{new}  first seen" in shown
    assert f"from {old} to {new}" in shown
    assert " moved " in run_cli("show", old, "--db", db_url, "--versions").stdout
    rows = export(db_url, "--all-versions")
    assert {row["article_id"] for row in rows} == {original} and rows[-1]["canonical_url"] == new
    with Archive.open(db_url) as opened:  # the Python API and the web app tell the same history
        history = opened.article(old)
        assert history.id == original and [u.url for u in history.urls] == [old, new]
        assert [(e.kind, e.detail, e.url) for e in history.events] == [("moved", old, new)]


@pytest.mark.parametrize("order", ["old page first", "new page first"])
def test_a_canonical_link_changed_on_the_same_page_keeps_the_article(db_url: str, order: str) -> None:
    with Site() as site:
        base = site.url.rstrip("/")
        page, renamed = f"{base}/news/5.html", f"{base}/news/chips-five.html"
        site.home("/news/5.html")
        site.routes["/news/5.html"] = (200, article(STORY))
        crawl(db_url, site.url)
        original, = query(db_url, "select id from article")[0]
        # The publisher gives the story a new address and points the old page's canonical at it.
        canonical = '<link rel="canonical" href="/news/chips-five.html">'
        site.routes["/news/5.html"] = (200, article(STORY, head=canonical))
        site.routes["/news/chips-five.html"] = (200, article(STORY, head=canonical))
        for path in ("/news/5.html", "/news/chips-five.html")[::1 if order == "old page first" else -1]:
            site.home(path)
            crawl(db_url, site.url)
    assert query(db_url, "select id, canonical_url from article") == [(original, renamed)]
    assert query(db_url, "select count(*) from snapshot") == [(1,)]  # the same content: no new version
    shown = run_cli("show", page, "--db", db_url).stdout
    assert f"article {original} " in shown and f"from {page} to {renamed}" in shown


def test_a_different_story_at_the_redirect_target_is_not_a_move(db_url: str) -> None:
    """A redirect to another article of the site (a story replaced by a different one) continues
    nothing: the old article stays as it was, the target is an article of its own."""
    with Site() as site:
        base = site.url.rstrip("/")
        site.home("/news/7.html")
        site.routes["/news/7.html"] = (200, article(STORY))
        crawl(db_url, site.url)
        site.routes["/news/7.html"] = (301, "/news/8.html")
        site.routes["/news/8.html"] = (200, article("Oil slips on rising inventories", paragraphs=OTHER))
        crawl(db_url, site.url)
    assert sorted(url for url, in query(db_url, "select canonical_url from article")) == \
        [f"{base}/news/7.html", f"{base}/news/8.html"]
    assert query(db_url, "select count(*) from article_event where kind = 'moved'") == [(0,)]


def test_the_store_api_times_observations_by_the_fetch_and_the_web_app_shows_events(db_url: str) -> None:
    """Observations are timed by their fetch (Capture.fetched_at), not by the clock: a 404 now and
    one 90 minutes later confirm a removal at the first; the article page lists the events."""
    web = pytest.importorskip("archive.web")
    from starlette.testclient import TestClient  # noqa: PLC0415 - the 'web' extra

    from archive.extract import extract  # noqa: PLC0415
    from archive.store import ArchiveStore, Capture  # noqa: PLC0415

    url, start = "https://news.example/markets/chips.html", datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)
    raw = article(STORY).encode()
    store = ArchiveStore.open(db_url)
    try:
        saved = store.save(extract(raw, url, content_type="text/html"), Capture(url, start, raw=raw))
        store.save_error(Capture(url, start + timedelta(days=2), status=404), "http_404: HTTP 404")
        store.save_error(Capture(url, start + timedelta(days=2, minutes=30), status=503), "http_503: HTTP 503")
        store.save_error(Capture(url, start + timedelta(days=2, minutes=59), status=410), "http_410: HTTP 410")
        assert removed_at(db_url, url) is None  # 59 minutes: not yet
        store.save_error(Capture(url, start + timedelta(days=2, minutes=90), status=404), "http_404: HTTP 404")
    finally:
        store.close()
    assert removed_at(db_url, url) == start + timedelta(days=2)
    with Archive.open(db_url) as opened:
        assert opened.article(url).removed_at == start + timedelta(days=2)
        assert [v["removed_at"] for v in opened.rows(removed=True)] == ["2025-03-03T09:00:00+00:00"]
        assert opened.stats().removals == [("news.example", "2025-03", 1)]
        with TestClient(web.create_app(opened.engine)) as client:
            data = client.get(f"/api/article/{saved.article_id}").json()
            assert data["removed_at"] == "2025-03-03T09:00:00+00:00"
            assert [(e["kind"], e["detail"]) for e in data["events"]] == [("removed", "http_404")]
            assert "Removed by the publisher at 2025-03-03 09:00" in client.get(f"/article/{saved.article_id}").text
