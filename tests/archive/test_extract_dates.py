"""Publication dates where the page's own rules find little: URL dates, htmldate, the publisher's zone."""

from __future__ import annotations

from archive.extract import extract
from tests.pages import article


def _no_dates(page: str) -> str:
    return page.replace('<div class="publish-date">Jan 28, 2025 11:57 pm ET</div>', "")


def test_the_url_date_when_the_page_shows_none() -> None:
    published = extract(_no_dates(article()), "https://news.example.com/2025/01/28/chips-rally/").published
    assert published is not None and published.isoformat() == "2025-01-28"


def test_the_url_date_wins_over_another_day_read_from_the_text() -> None:
    page = article(time_text="March 1, 2020")  # e.g. a date in a related item's line
    published = extract(page, "https://news.example.com/2025/01/28/chips-rally/").published
    assert published is not None and published.isoformat() == "2025-01-28"
    same_day = extract(article(time_text="Jan 28, 2025 11:57 pm ET"), "https://news.example.com/2025/01/29/x").published
    assert same_day is not None and same_day.isoformat() == "2025-01-28T23:57:00-05:00"  # a zone moves it a day


def test_htmldate_finds_what_the_rules_do_not() -> None:
    page = _no_dates(article(extra="<p>Posted on 2025-01-28 by the markets desk.</p>"))
    published = extract(page, "https://news.example.com/markets/chips.html").published
    assert published is not None and published.isoformat() == "2025-01-28"


def test_open_graph_published_time_with_its_og_prefix_is_read_before_other_metas() -> None:
    head = ('<meta property="sailthru.date" content="2016-12-15T13:50:38Z">'
            '<meta property="og:article:published_time" content="2016-12-14T06:02:15Z">')
    published = extract(_no_dates(article(head=head)), "https://news.example.com/markets/fed.html").published
    assert published is not None and published.isoformat() == "2016-12-14T06:02:15+00:00"


def test_a_utc_time_keeps_its_instant_and_takes_the_publishers_calendar_day() -> None:
    """The metadata gives the time in UTC, next day already; the page's own publication meta gives
    the same time zoneless in local time: the instant stays, the offset is the publisher's."""
    head = ('<meta property="article:published_time" content="2016-12-23T00:47:31Z">'
            '<meta name="article_date_original" content="Thursday, December 22, 2016, 06:47 PM">')
    published = extract(_no_dates(article(head=head)), "https://news.example.com/news/2016/12/arrests.html").published
    assert published is not None and published.isoformat() == "2016-12-22T18:47:31-06:00"
    plain = ('<meta property="article:published_time" content="2016-12-23T00:47:31Z">'
             '<meta name="article:modified_time" content="2016-12-22T18:47:00">')
    published = extract(_no_dates(article(head=plain)), "https://news.example.com/news/arrests.html").published
    assert published is not None and published.isoformat() == "2016-12-23T00:47:31+00:00"  # not a publication meta
