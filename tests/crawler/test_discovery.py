"""Feeds and sitemaps, including the Google News fields Scrapy's parser drops."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from crawler.discovery import parse_feed, parse_sitemap, priority

NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>https://news.example.com/a.html</loc>
    <news:news><news:publication><news:name>Example</news:name><news:language>en</news:language></news:publication>
      <news:publication_date>2025-01-28T23:57:00-05:00</news:publication_date>
      <news:title>Chipmakers rally</news:title>
      <news:stock_tickers>NASDAQ:NVDA, NYSE:BABA</news:stock_tickers></news:news></url>
  <url><loc>/b.html</loc><lastmod>2025-01-20</lastmod></url>
</urlset>"""

INDEX = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://news.example.com/sitemap-1.xml</loc><lastmod>2025-01-29T00:00:00Z</lastmod></sitemap>
</sitemapindex>"""

RSS = b"""<rss version="2.0"><channel><title>x</title>
<item><title>Chipmakers rally</title><link>/a.html</link><pubDate>Tue, 28 Jan 2025 23:57:00 -0500</pubDate></item>
<item><title>No date</title><guid>https://news.example.com/c.html</guid></item>
</channel></rss>"""

ATOM = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title>
<entry><title>Banks lag</title><link rel="alternate" href="https://news.example.com/b.html"/>
<published>2025-01-29T10:00:00Z</published></entry></feed>"""


def test_news_sitemap_keeps_publication_date_title_and_tickers() -> None:
    first, second = parse_sitemap(NEWS_SITEMAP, "https://news.example.com/sitemap.xml")
    assert first.url == "https://news.example.com/a.html" and first.title == "Chipmakers rally"
    assert first.published == datetime(2025, 1, 29, 4, 57, tzinfo=timezone.utc)
    assert first.tickers == ("NVDA", "BABA")
    assert second.url == "https://news.example.com/b.html" and second.published == datetime(2025, 1, 20, tzinfo=timezone.utc)
    assert not first.is_sitemap


def test_sitemap_index_lists_child_sitemaps() -> None:
    (child,) = parse_sitemap(INDEX, "https://news.example.com/")
    assert child.is_sitemap and child.url.endswith("sitemap-1.xml")


def test_rss_and_atom() -> None:
    rss = parse_feed(RSS, "https://news.example.com/feed.xml")
    assert [(e.url, e.published) for e in rss] == [
        ("https://news.example.com/a.html", datetime(2025, 1, 29, 4, 57, tzinfo=timezone.utc)),
        ("https://news.example.com/c.html", None)]
    (atom,) = parse_feed(ATOM, "https://news.example.com/feed.atom")
    assert atom.url == "https://news.example.com/b.html" and atom.title == "Banks lag"


def test_garbage_is_no_entries() -> None:
    assert parse_feed(b"\x00\x01 not xml", "https://x.com/") == []
    assert parse_sitemap(b"<html><body>Not found</body></html>", "https://x.com/") == []


def test_newer_is_sooner() -> None:
    now = datetime(2025, 1, 29, tzinfo=timezone.utc)
    assert priority(now - timedelta(hours=1), now) > priority(now - timedelta(days=2), now) > 0
    assert priority(now - timedelta(days=400), now) > priority(now - timedelta(days=800), now) >= 1
    assert priority(None, now) == 0 and priority(now, now) <= 1000
