"""The sources spider on its own: what it requests from feeds and sitemaps, in which order, with
which politeness; which pages it marks as not articles."""

from __future__ import annotations

import gzip
import re
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from scrapy import Request
from scrapy.http import HtmlResponse, XmlResponse
from scrapy.utils.test import get_crawler

from crawler.jobs import download_slots
from crawler.sources import Source
from crawler.spiders.sources import SourcesSpider

SITE = "https://news.example.com"
FEED = f"""<rss version="2.0"><channel><title>x</title>
<item><title>Old</title><link>{SITE}/2024/01/02/old.html</link><pubDate>Tue, 02 Jan 2024 10:00:00 GMT</pubDate></item>
<item><title>New</title><link>{SITE}/2025/03/01/new.html</link><pubDate>Sat, 01 Mar 2025 10:00:00 GMT</pubDate></item>
<item><title>Newer</title><link>{SITE}/2025/03/02/newer.html</link><pubDate>Sun, 02 Mar 2025 10:00:00 GMT</pubDate></item>
<item><title>Video</title><link>{SITE}/video/clip.html</link><pubDate>Sun, 02 Mar 2025 11:00:00 GMT</pubDate></item>
<item><title>Elsewhere</title><link>https://other.example.org/a.html</link></item>
</channel></rss>""".encode()
SITEMAP = f"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
 xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>{SITE}/2025/03/01/new.html</loc><news:news><news:publication_date>2025-03-01T10:00:00Z</news:publication_date>
<news:title>New</news:title><news:stock_tickers>NASDAQ:NVDA, NYSE:TSM</news:stock_tickers></news:news></url>
<url><loc>{SITE}/2023/05/05/ancient.html</loc><lastmod>2023-05-05</lastmod></url>
</urlset>""".encode()


def spider(**kwargs: object) -> SourcesSpider:
    source = Source(name="news", feeds=(f"{SITE}/feed.xml",), sitemaps=(f"{SITE}/sitemap.xml.gz",),
                    start_urls=(f"{SITE}/",), allow=(re.compile(r"^/20\d\d/"),), deny=(re.compile(r"^/video/"),),
                    user_agent="lab-archive/1.0", sites=frozenset({"news.example.com"}))
    crawler = get_crawler(SourcesSpider)
    made = SourcesSpider(sources=[source], **kwargs)
    made.crawler = crawler
    return made


async def started(made: SourcesSpider) -> list[Request]:
    return [request async for request in made.start()]


def read(made: SourcesSpider, requests: list[Request]) -> list[Request]:
    """Answer the feed and the (gzipped) sitemap; what the spider asks for next."""
    found: list[Request] = []
    for request in requests:
        if request.url.endswith("feed.xml"):
            found += list(request.callback(XmlResponse(request.url, body=FEED, request=request)))
        elif request.url.endswith(".xml.gz"):
            found += list(request.callback(XmlResponse(request.url, body=gzip.compress(SITEMAP), request=request)))
    return found


def test_feeds_and_sitemaps_first_then_articles_newest_first_then_start_pages() -> None:
    import asyncio
    made = spider()
    first = asyncio.run(started(made))
    assert [r.url for r in first] == [f"{SITE}/feed.xml", f"{SITE}/sitemap.xml.gz"], "nothing else before they are read"
    assert all(r.meta["download_slot"] == "source:news" for r in first)
    assert all(r.headers["User-Agent"] == b"lab-archive/1.0" for r in first)
    after = read(made, first)
    urls = [r.url for r in after]
    assert urls == [f"{SITE}/2025/03/02/newer.html", f"{SITE}/2025/03/01/new.html", f"{SITE}/2024/01/02/old.html",
                    f"{SITE}/2023/05/05/ancient.html", f"{SITE}/"]
    assert after[0].priority > after[2].priority, "newer entries are fetched sooner"
    assert after[1].meta["declared_tickers"] == ["NVDA", "TSM"], "the sitemap's tickers, merged with the feed's entry"
    assert made.crawler.stats.get_value("crawl/denied") == 1, "the video page is never requested"


def test_since_drops_older_feed_and_sitemap_entries() -> None:
    import asyncio
    made = spider(since=datetime(2025, 1, 1, tzinfo=timezone.utc))
    urls = [r.url for r in read(made, asyncio.run(started(made)))]
    assert f"{SITE}/2024/01/02/old.html" not in urls and f"{SITE}/2023/05/05/ancient.html" not in urls
    assert f"{SITE}/2025/03/01/new.html" in urls
    assert made.crawler.stats.get_value("crawl/older_than_since") == 2


def test_pages_outside_the_allow_rules_are_followed_but_not_articles() -> None:
    made = spider()
    listing = HtmlResponse(f"{SITE}/markets/", body=b'<html><body><a href="/2025/03/03/x.html">x</a>'
                           b'<a href="/video/y.html">y</a><a href="https://elsewhere.org/z">z</a></body></html>',
                           headers={"Content-Type": "text/html"}, request=Request(f"{SITE}/markets/"))
    out = list(made.parse(listing))
    item, *followed = out
    assert item.meta["article"] is False
    assert [r.url for r in followed] == [f"{SITE}/2025/03/03/x.html"], "denied and other sites' links are not followed"
    article = HtmlResponse(f"{SITE}/2025/03/03/x.html", body=b"<html><body><p>text</p></body></html>",
                           headers={"Content-Type": "text/html"}, request=Request(f"{SITE}/2025/03/03/x.html"))
    assert "article" not in next(iter(made.parse(article))).meta


def test_a_resumed_run_skips_what_the_interrupted_one_stored() -> None:
    made = spider(skip={f"{SITE}/2025/03/01/new.html"})
    assert made.request(f"{SITE}/2025/03/01/new.html") is None
    assert made.request(f"{SITE}/2025/03/02/newer.html") is not None


def test_per_site_politeness_becomes_download_slots() -> None:
    """What the gate (crawler.politeness) reads; tests/crawler/test_politeness.py measures it from the server."""
    slow = Source(name="slow", feeds=("https://a.example.com/f.xml",), delay=3.0, concurrency=1)
    free = Source(name="free", feeds=("https://b.example.com/f.xml",))
    assert download_slots([slow, free]) == {"source:slow": {"delay": 3.0, "concurrency": 1}}
    made = SourcesSpider(sources=[replace(slow, sites=frozenset({"a.example.com"}))])
    assert made.site_key("https://a.example.com/robots.txt") == "source:slow"
    assert made.site_key("https://c.example.com/robots.txt") is None


def test_sources_example_file_loads(tmp_path: Path) -> None:
    from crawler.sources import load_sources
    example = Path(__file__).resolve().parents[2] / "sources.example.toml"
    names = [s.name for s in load_sources(example)]
    assert names == ["example-news", "example-blog"]
