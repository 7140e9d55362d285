"""SkipFresh: links to known articles that need no new request are dropped before scheduling:
those not due by the recrawl schedule (the default), or those fetched within --refresh-after."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any, AsyncIterator

from scrapy import Request
from scrapy.http import HtmlResponse

from archive.extract import extract
from archive.store import ArchiveStore, Capture, Validators
from crawler.conditional import FIRST_FETCH, VALIDATORS, SkipFresh
from tests.pages import article, listing

NOW = datetime.now(timezone.utc)
FRESH, STALE, LISTING = ("https://news.example.com/news/fresh.html", "https://news.example.com/news/stale.html",
                         "https://news.example.com/latest.html")
UNKNOWN = "https://news.example.com/news/new.html"


class Stats(Counter):
    def inc_value(self, key: str, count: int = 1) -> None:
        self[key] += count


def keep(store: ArchiveStore, url: str, html: str, fetched_at: datetime) -> None:
    store.save(extract(html, url), Capture(url=url, fetched_at=fetched_at, status=200, raw=html.encode()))


def survivors(store: ArchiveStore, requests: list[Request], stats: Stats, refresh_after: float | None = 3600) -> list[Any]:
    middleware = SkipFresh(store, stats, refresh_after=refresh_after)

    async def output() -> AsyncIterator[Any]:
        for entry in requests:
            yield entry

    async def run() -> list[Any]:
        response = HtmlResponse(LISTING, body=b"<html></html>")
        return [entry async for entry in middleware.process_spider_output(response, output())]
    try:
        return asyncio.run(run())
    finally:
        middleware.lookups.shutdown()


def test_only_articles_fetched_within_the_window_are_dropped(store: ArchiveStore) -> None:
    keep(store, FRESH, article(title="Fresh story about chip demand"), NOW - timedelta(minutes=5))
    keep(store, STALE, article(title="Stale story about oil prices"), NOW - timedelta(hours=2))
    keep(store, LISTING, listing([FRESH, STALE]), NOW - timedelta(minutes=5))
    due = Request(FRESH, meta={"due": True})
    feed = Request(FRESH, meta={VALIDATORS: False})
    stats = Stats()
    kept = survivors(store, [Request(FRESH), Request(STALE), Request(LISTING), Request(UNKNOWN), due, feed,
                             {"an": "item"}], stats)
    assert [getattr(entry, "url", entry) for entry in kept] == [
        FRESH, FRESH, {"an": "item"}, STALE, LISTING, UNKNOWN]  # due and feed requests pass at once
    assert kept[0] is due and kept[1] is feed
    assert stats["archive/skipped_fresh"] == 1
    # What was looked up travels with each link: no second lookup per request downstream.
    stale, listed, unknown = kept[3:]
    assert isinstance(stale.meta[VALIDATORS], Validators) and stale.meta[VALIDATORS].article_id is not None
    assert FIRST_FETCH not in stale.meta and FIRST_FETCH not in listed.meta
    assert listed.meta[VALIDATORS] is False  # a listing: fetched in full, as before
    assert unknown.meta[VALIDATORS] is False and unknown.meta[FIRST_FETCH] is True


def test_with_no_window_every_link_is_kept_and_still_looked_up_once(store: ArchiveStore) -> None:
    """--refresh-after 0s: nothing dropped, but each link still carries what the one query found."""
    keep(store, FRESH, article(title="Fresh story about chip demand"), NOW - timedelta(minutes=5))
    kept = survivors(store, [Request(FRESH), Request(UNKNOWN)], Stats(), refresh_after=0)
    assert [r.url for r in kept] == [FRESH, UNKNOWN]
    assert isinstance(kept[0].meta[VALIDATORS], Validators) and kept[1].meta[FIRST_FETCH] is True


def test_the_last_fetch_decides(store: ArchiveStore) -> None:
    """An article that has since failed to extract or moved is not 'fresh': the last good fetch counts."""
    keep(store, FRESH, article(title="Fresh story about chip demand"), NOW - timedelta(minutes=10))
    keep(store, FRESH, listing([STALE]), NOW - timedelta(minutes=5))  # the URL is a listing now
    assert [r.url for r in survivors(store, [Request(FRESH)], Stats())] == [FRESH]


def test_thousands_of_links_are_looked_up_in_batches(store: ArchiveStore, monkeypatch) -> None:
    """A sitemap's worth of links from one response: batches, so no statement holds too many values."""
    keep(store, FRESH, article(title="Fresh story about chip demand"), NOW - timedelta(minutes=5))
    batches: list[int] = []
    looked_up = store.last_fetches

    def counting(urls):  # type: ignore[no-untyped-def]
        batches.append(len(urls))
        return looked_up(urls)
    monkeypatch.setattr(store, "last_fetches", counting)
    links = [Request(f"https://news.example.com/news/{n}.html") for n in range(1200)] + [Request(FRESH)]
    stats = Stats()
    kept = survivors(store, links, stats)
    assert len(kept) == 1200 and FRESH not in {r.url for r in kept}
    assert batches == [500, 500, 201] and stats["archive/skipped_fresh"] == 1


def test_by_default_only_articles_not_due_are_dropped(store: ArchiveStore) -> None:
    """refresh_after None (--refresh-after due): the recrawl schedule decides, not the last fetch alone."""
    published = NOW - timedelta(hours=2)
    stamp = published.strftime("%b %d, %Y %I:%M %p") + " UTC"
    checked, due = FRESH, STALE
    keep(store, checked, article(title="Checked after its 1 h mark", time_text=stamp), NOW - timedelta(minutes=30))
    keep(store, due, article(title="Checked before its 1 h mark", time_text=stamp), published + timedelta(minutes=20))
    stats = Stats()
    kept = survivors(store, [Request(checked), Request(due), Request(UNKNOWN)], stats, refresh_after=None)
    assert [r.url for r in kept] == [due, UNKNOWN] and stats["archive/skipped_fresh"] == 1


def test_a_sites_own_schedule_decides_for_its_links(store: ArchiveStore) -> None:
    """ARCHIVE_RECRAWL_SCHEDULES (a sources file's `recrawl`): a link to an article of that site is
    judged by its schedule, others by the run's."""
    other = "https://other.example.org/news/story.html"
    published = NOW - timedelta(days=40)
    stamp = f"{published:%b %d, %Y %I:%M %p} UTC"
    keep(store, STALE, article(title="Stale story about oil prices", time_text=stamp), published + timedelta(days=8))
    keep(store, other, article(title="Another story about chips", time_text=stamp), published + timedelta(days=8))
    run_schedule = (timedelta(hours=1), timedelta(days=7))  # over after 7 days: neither is due
    own = {"news.example.com": (timedelta(hours=1), timedelta(days=30), timedelta(days=90))}  # its 30 d mark passed
    middleware = SkipFresh(store, Stats(), refresh_after=None, schedule=run_schedule, site_schedules=own)
    try:
        _, not_due = middleware._look_up({STALE, other})
    finally:
        middleware.lookups.shutdown()
    assert not_due == {other}
