"""The recrawl schedule: decaying checkpoints after publication, sooner after an edit."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from archive.errors import BadInput
from archive.extract import extract
from archive.recrawl import DEFAULT_SCHEDULE, due_articles, next_due, parse_schedule, parse_span
from archive.store import ArchiveStore, Capture
from tests.pages import LOREM, article

H = timedelta(hours=1)
PUBLISHED = datetime(2025, 1, 29, 5, 0, tzinfo=timezone.utc)  # "Jan 29, 2025 12:00 am ET"


def test_next_due_walks_the_schedule_then_stops() -> None:
    assert next_due(PUBLISHED, PUBLISHED + 0.5 * H, DEFAULT_SCHEDULE) == PUBLISHED + H
    assert next_due(PUBLISHED, PUBLISHED + 2 * H, DEFAULT_SCHEDULE) == PUBLISHED + 6 * H
    assert next_due(PUBLISHED, PUBLISHED + 5 * 24 * H, DEFAULT_SCHEDULE) == PUBLISHED + 7 * 24 * H
    assert next_due(PUBLISHED, PUBLISHED + 8 * 24 * H, DEFAULT_SCHEDULE) is None


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
