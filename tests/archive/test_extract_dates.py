"""Publication dates where the page's own rules find little: URL dates, htmldate, the publisher's zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from archive.extract import extract
from archive.extract.dates import in_site_zone
from archive.site_zones import learned_zone
from archive.urls import publisher_day
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


def test_json_ld_wrapped_in_cdata_is_read() -> None:
    """XHTML-era pages wrap their JSON-LD in <![CDATA[ ]]>; its datePublished beats a <meta> that
    carries the update time."""
    for wrapper in ("<![CDATA[{}]]>", "/* <![CDATA[ */{}/* ]]> */", "//<![CDATA[\n{}\n//]]>"):
        ld = '{"@type": "NewsArticle", "datePublished": "2024-12-06T22:00:40.000Z"}'
        head = (f'<script type="application/ld+json">{wrapper.format(ld)}</script>'
                '<meta property="article:published_time" content="2024-12-07T12:43:39Z">')
        published = extract(_no_dates(article(head=head)), "https://news.example.com/world/vote-rcna1").published
        assert published is not None and published.isoformat() == "2024-12-06T22:00:40+00:00", wrapper


def test_a_zoneless_visible_time_gives_the_offset_of_a_utc_meta_time() -> None:
    head = '<meta property="article:published_time" content="2024-12-07T02:18:11Z">'
    page = article(head=head, time_text="December 6, 2024, 9:18 PM")
    result = extract(page, "https://news.example.com/politics/vote.html")
    assert result.published is not None and result.published.isoformat() == "2024-12-06T21:18:11-05:00"
    assert result.published_day == date(2024, 12, 6)


def test_a_utc_time_with_the_previous_day_in_the_url_keeps_the_instant_and_the_urls_day() -> None:
    head = '<meta property="article:published_time" content="2024-12-07T02:18:11Z">'
    result = extract(_no_dates(article(head=head)), "https://news.example.com/2024/12/06/vote/")
    assert result.published is not None and result.published.isoformat() == "2024-12-07T02:18:11+00:00"
    assert result.published_day == date(2024, 12, 6)
    same = extract(_no_dates(article(head=head)), "https://news.example.com/2024/12/07/vote/")
    assert same.published_day == date(2024, 12, 7)
    no_url_date = extract(_no_dates(article(head=head)), "https://news.example.com/politics/vote.html")
    assert no_url_date.published_day == date(2024, 12, 7)  # nothing says otherwise: the UTC day


def test_a_zoneless_time_stays_a_date_until_the_site_zone_makes_it_an_instant() -> None:
    page = article(time_text="Jan 28, 2025 11:57 pm")  # no zone on the page
    result = extract(page, "https://news.example.com/markets/chips.html")
    assert result.published is not None and result.published.isoformat() == "2025-01-28"
    zoned = in_site_zone(result, ZoneInfo("America/New_York"))
    assert zoned.published is not None and zoned.published.isoformat() == "2025-01-28T23:57:00-05:00"
    assert "site zone" in zoned.evidence["published"]
    july = in_site_zone(extract(article(time_text="Jul 8, 2025 11:57 pm"), "https://news.example.com/x/y.html"),
                        ZoneInfo("America/New_York"))
    assert july.published is not None and july.published.isoformat() == "2025-07-08T23:57:00-04:00"  # EDT


def test_the_site_zone_moves_a_utc_time_to_the_publishers_day_and_keeps_an_offset_the_page_gave() -> None:
    utc = extract(_no_dates(article(head='<meta property="article:published_time" content="2024-12-07T02:18:11Z">')),
                  "https://news.example.com/politics/vote.html")
    zoned = in_site_zone(utc, ZoneInfo("America/New_York"))
    assert zoned.published is not None and zoned.published.isoformat() == "2024-12-06T21:18:11-05:00"
    assert zoned.published.value == utc.published.value  # the same instant
    assert zoned.published_day == date(2024, 12, 6)
    own = extract(article(), "https://news.example.com/markets/chips.html")  # "11:57 pm ET"
    assert in_site_zone(own, ZoneInfo("Asia/Tokyo")) is own


def test_a_sites_zone_is_learned_from_the_offsets_most_of_its_pages_show() -> None:
    assert learned_zone([-300, -300, -300, 0, 0]) == timezone(timedelta(hours=-5))
    assert learned_zone([-300, -240, -300, -300]) == timezone(timedelta(hours=-5))  # summer time: the commoner
    assert learned_zone([-300, -300]) is None  # too few pages
    assert learned_zone([-300, 60, 120, -300, 330]) is None  # no offset holds most of them
    assert learned_zone([0, 0, 0, 0]) is None  # UTC says nothing of the publisher's clock


def test_publisher_day_from_stored_values() -> None:
    instant = datetime(2024, 12, 7, 2, 18)
    assert publisher_day(instant, 0, "datetime", "https://x.example/2024/12/06/a") == date(2024, 12, 6)
    assert publisher_day(instant, -300, "datetime", "https://x.example/a") == date(2024, 12, 6)
    assert publisher_day(instant, 0, "datetime", "https://x.example/a") == date(2024, 12, 7)
    assert publisher_day(instant, 0, "datetime", "https://x.example/2024/12/01/a") == date(2024, 12, 7)  # too far
    assert publisher_day(datetime(2024, 12, 7), None, "date", "https://x.example/2024/12/06/a") == date(2024, 12, 7)
    assert publisher_day(None, None, None, "https://x.example/a") is None


def test_a_modification_before_the_publication_is_no_update() -> None:
    """CMSs stamp a draft's last save as dateModified and the scheduled release as datePublished
    (on the corpus, 15 pages of 14 sites): an "updated" before "published" is not shown."""
    def updated(modified: str) -> object:
        head = ('<meta property="article:published_time" content="2025-01-28T12:00:00+00:00">'
                f'<meta property="article:modified_time" content="{modified}">')
        return extract(_no_dates(article(head=head)), "https://news.example.com/markets/chips.html").updated
    assert updated("2025-01-28T11:58:30+00:00") is None
    assert updated("2025-01-27T09:00:00+00:00") is None
    later = updated("2025-01-28T15:30:00+00:00")
    assert later is not None and later.value == datetime(2025, 1, 28, 15, 30, tzinfo=timezone.utc)


def test_a_json_ld_date_without_time_takes_the_time_another_json_ld_object_gives_that_day() -> None:
    """An image's or page's object may carry only the day; the article's object on the same day its time."""
    ld = ('<script type="application/ld+json">[{"@type": "ImageObject", "datePublished": "2019-06-13"}, '
          '{"@type": "NewsArticle", "datePublished": "2019-06-13T20:20:47+03:00"}]</script>')
    published = extract(_no_dates(article(head=ld)), "https://news.example.com/markets/chips.html").published
    assert published is not None and published.isoformat() == "2019-06-13T20:20:47+03:00"
    other_day = ld.replace("2019-06-13T20", "2019-06-14T20")  # another day: the first value stands
    published = extract(_no_dates(article(head=other_day)), "https://news.example.com/markets/chips.html").published
    assert published is not None and published.isoformat() == "2019-06-13"


def test_a_visible_time_after_a_dash_or_bar_is_read_only_as_a_clock_time() -> None:
    for shown, expected in (("May 24, 2016 -- 13:30 GMT (06:30 PDT)", "2016-05-24T13:30:00+00:00"),
                            ("Wednesday, 21 Sep 2011 | 4:35 PM ET", "2011-09-21T16:35:00-04:00"),
                            ("May 24, 2016 - 5 things to know", "2016-05-24")):
        published = extract(article(time_text=shown), "https://news.example.com/markets/chips.html").published
        assert published is not None and published.isoformat() == expected, shown
