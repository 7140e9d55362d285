"""The recrawl schedule: decaying checkpoints after publication, sooner after an edit."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from archive.errors import BadInput
from archive.extract import extract
from archive.recrawl import (DEFAULT_SCHEDULE, SitePolicy, due_articles, due_by_site, next_due, not_due,
                             parse_schedule, parse_span)
from archive.store import ArchiveStore, Capture
from tests.conftest import run_cli
from tests.pages import LOREM, article

H = timedelta(hours=1)
PUBLISHED = datetime(2025, 1, 29, 5, 0, tzinfo=timezone.utc)  # "Jan 29, 2025 12:00 am ET"


def test_next_due_walks_the_schedule_then_stops() -> None:
    assert next_due(PUBLISHED, PUBLISHED + 0.5 * H, DEFAULT_SCHEDULE) == PUBLISHED + H
    assert next_due(PUBLISHED, PUBLISHED + 2 * H, DEFAULT_SCHEDULE) == PUBLISHED + 6 * H
    assert next_due(PUBLISHED, PUBLISHED + 5 * 24 * H, DEFAULT_SCHEDULE) == PUBLISHED + 7 * 24 * H
    # the long tail: late corrections are looked for at a month, a quarter and a year
    assert next_due(PUBLISHED, PUBLISHED + 8 * 24 * H, DEFAULT_SCHEDULE) == PUBLISHED + 30 * 24 * H
    assert next_due(PUBLISHED, PUBLISHED + 31 * 24 * H, DEFAULT_SCHEDULE) == PUBLISHED + 90 * 24 * H
    assert next_due(PUBLISHED, PUBLISHED + 100 * 24 * H, DEFAULT_SCHEDULE) == PUBLISHED + 365 * 24 * H
    assert next_due(PUBLISHED, PUBLISHED + 366 * 24 * H, DEFAULT_SCHEDULE) is None


def test_parse_spans_and_schedules() -> None:
    assert parse_span("30m") == timedelta(minutes=30) and parse_span("3d") == timedelta(days=3)
    assert parse_schedule("1h, 6h,24h") == (H, 6 * H, 24 * H)
    for bad in ("soon", "6h,1h", ""):
        with pytest.raises(BadInput):
            parse_schedule(bad)


def save(store: ArchiveStore, url: str, at: datetime, html: str, etag: str | None = None) -> None:
    store.save(extract(html, url), Capture(url=url, fetched_at=at, raw=html.encode(), etag=etag))


def test_due_articles_by_age_with_validators(store: ArchiveStore) -> None:
    page = article(time_text="Jan 29, 2025 12:00 am ET")
    save(store, "https://news.example.com/fresh.html", PUBLISHED + 0.2 * H, page, etag='"abc"')
    save(store, "https://news.example.com/old.html", PUBLISHED + 0.2 * H,
         article("Old story", time_text="Dec 1, 2024 12:00 am ET"))
    due = due_articles(store.engine, now=PUBLISHED + 2 * H)
    assert [(d.url.rsplit("/", 1)[1], d.due_at, d.etag) for d in due] == [("fresh.html", PUBLISHED + H, '"abc"')]
    assert due_articles(store.engine, now=PUBLISHED + 0.9 * H) == []


def test_an_edited_article_is_watched_again_from_the_edit(store: ArchiveStore) -> None:
    url = "https://news.example.com/fresh.html"
    save(store, url, PUBLISHED + 0.2 * H, article(time_text="Jan 29, 2025 12:00 am ET"))
    edited_at = PUBLISHED + 30 * H  # between the 24 h and 3 d checkpoints
    save(store, url, edited_at, article(time_text="Jan 29, 2025 12:00 am ET", paragraphs=LOREM + ["Update."]))
    # without the edit, the next visit would be at 3 d; after it, 1 h after the edit
    assert [d.due_at for d in due_articles(store.engine, now=edited_at + 2 * H)] == [edited_at + H]


def test_not_due_names_the_known_articles_a_crawl_need_not_request(store: ArchiveStore) -> None:
    """What --refresh-after due drops: known articles whose next checkpoint is ahead or whose
    schedule is over; never a due one, an unknown URL, or a URL whose last fetch was a listing."""
    published = "Jan 29, 2025 12:00 am ET"
    base = "https://news.example.com/"
    save(store, base + "checked.html", PUBLISHED + 2 * H, article("Checked after the 1 h mark", time_text=published))
    save(store, base + "due.html", PUBLISHED + 0.5 * H, article("Checked before the 1 h mark", time_text=published))
    save(store, base + "over.html", PUBLISHED - 400 * 24 * H,
         article("Over a year old", time_text="Dec 26, 2023 12:00 am ET"))
    save(store, base + "listing.html", PUBLISHED, article("Was an article", time_text=published))
    store.save(extract("<html><body><ul><li><a href='/a'>A</a></li></ul></body></html>", base + "listing.html"),
               Capture(url=base + "listing.html", fetched_at=PUBLISHED + H, raw=b"listing"))
    known = store.last_fetches([base + name for name in ("checked.html", "due.html", "over.html", "listing.html",
                                                          "unknown.html")])
    assert set(known) == {base + name for name in ("checked.html", "due.html", "over.html", "listing.html")}
    assert known[base + "listing.html"] is None  # its last fetch was a listing's
    articles = {url: v.article_id for url, v in known.items() if v is not None}
    now = PUBLISHED + 3 * H
    assert not_due(store.engine, articles, now=now) == {base + "checked.html", base + "over.html"}
    due = {d.url for d in due_articles(store.engine, now=now)}  # the same rule as the recrawl's
    assert base + "due.html" in due and not due & not_due(store.engine, articles, now=now)
    assert not_due(store.engine, articles, now=PUBLISHED + 7 * H) == {base + "over.html"}  # the 6 h mark passed
    assert not_due(store.engine, {}, now=now) == set()


def test_a_late_correction_is_looked_for_a_month_on(store: ArchiveStore) -> None:
    """An article from March is looked at again in April, July and next March, not only in its first week."""
    url = "https://news.example.com/march.html"
    save(store, url, PUBLISHED + 0.2 * H, article(time_text="Jan 29, 2025 12:00 am ET"))
    save(store, url, PUBLISHED + 8 * 24 * H, article(time_text="Jan 29, 2025 12:00 am ET"))  # the 7 d visit
    assert due_articles(store.engine, now=PUBLISHED + 29 * 24 * H) == []
    assert [d.due_at for d in due_articles(store.engine, now=PUBLISHED + 31 * 24 * H)] == [PUBLISHED + 30 * 24 * H]
    old_schedule = DEFAULT_SCHEDULE[:5]  # the schedule before the long tail: never again after 7 d
    assert due_articles(store.engine, now=PUBLISHED + 31 * 24 * H, schedule=old_schedule) == []


def test_a_sites_budget_takes_the_oldest_due_first_and_defers_the_rest(store: ArchiveStore) -> None:
    days = ["Jan 20, 2025", "Jan 22, 2025", "Jan 24, 2025", "Jan 26, 2025"]
    for number, day in enumerate(days):
        save(store, f"https://big.example.com/{number}.html", PUBLISHED - 10 * 24 * H,
             article(f"Story {number}", time_text=f"{day} 12:00 am ET"))
    save(store, "https://small.example.com/a.html", PUBLISHED - 10 * 24 * H,
         article("Small story", time_text="Jan 21, 2025 12:00 am ET"))
    now = PUBLISHED + 2 * 24 * H  # every one is past its 1 h checkpoint, none fetched since
    policies = [SitePolicy(frozenset({"big.example.com"}), budget=2), SitePolicy(frozenset({"small.example.com"}))]
    due, deferred = due_by_site(store.engine, policies, now=now)
    assert [d.url.rsplit("/", 1)[1] for d in due] == ["0.html", "a.html", "1.html"] and deferred == 2
    # a site's own schedule wins over the run's: with a first checkpoint at 30 d, nothing is due
    own = [SitePolicy(frozenset({"big.example.com"}), schedule=(30 * 24 * H,))]
    assert due_by_site(store.engine, own, now=now) == ([], 0)
    assert len(due_by_site(store.engine, [], now=now)[0]) == 5  # no policies: every site, no budget


def test_recrawl_list_keeps_to_the_sources_budget(tmp_path: Path) -> None:
    """Through the CLI: `archive recrawl --due --list` with a sources file that sets recrawl_budget."""
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    store = ArchiveStore.open(db)
    published = datetime.now(timezone.utc) - timedelta(days=40)
    try:
        for number in range(3):
            when = published + timedelta(hours=number)
            save(store, f"https://big.example.com/{number}.html", when + timedelta(hours=2),
                 article(f"Story {number}", time_text=f"{when:%b %d, %Y %I:%M %p} UTC"))
    finally:
        store.close()
    sources = tmp_path / "sources.toml"
    sources.write_text('[[site]]\nname = "big"\nstart_urls = ["https://big.example.com/"]\n'
                       'recrawl = ["1h", "30d", "90d"]\nrecrawl_budget = 2\n')
    listed = run_cli("recrawl", "--due", "--db", db, "--sources", str(sources), "--list")
    assert "0.html" in listed.stdout and "1.html" in listed.stdout and "2.html" not in listed.stdout
    assert "1 more due article(s) left for later runs by recrawl_budget" in listed.stderr
    sources.write_text('[[site]]\nname = "big"\nstart_urls = ["https://big.example.com/"]\nrecrawl = ["1h", "60d", "90d"]\n')
    assert "nothing is due" in run_cli("recrawl", "--due", "--db", db, "--sources", str(sources), "--list").stdout
