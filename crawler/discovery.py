"""Reading feeds and sitemaps: what is new, when it was published, and what a news sitemap says.

Scrapy's own sitemap support drops the nested Google News fields (news:publication_date,
news:title, news:stock_tickers); these parsers keep them. Pure functions over bytes (lxml),
so the spiders stay thin and the parsing is tested on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urljoin

from dateutil import parser as dateparser
from lxml import etree

NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
ATOM_NS = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True)
class Entry:
    """One URL found in a feed or sitemap, with what the feed says about it."""

    url: str
    published: datetime | None = None
    title: str | None = None
    tickers: tuple[str, ...] = ()
    is_sitemap: bool = False  # a child sitemap of a sitemap index


def _xml(data: bytes) -> etree._Element | None:
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data.lstrip(), parser=parser)
    except (etree.XMLSyntaxError, ValueError):
        return None
    return root


def _when(text: str | None) -> datetime | None:
    if not text or not text.strip():
        return None
    try:
        value = dateparser.parse(text.strip())
    except (ValueError, OverflowError):
        return None
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def parse_sitemap(data: bytes, base_url: str) -> list[Entry]:
    """Entries of a sitemap index (child sitemaps) or urlset (pages, with lastmod and news fields)."""
    root = _xml(data)
    if root is None:
        return []
    kind = _local(root.tag)
    entries = []
    for item in root:
        if _local(item.tag) not in ("sitemap", "url"):
            continue
        fields = {_local(child.tag): child for child in item}
        loc = fields.get("loc")
        if loc is None or not (loc.text or "").strip():
            continue
        url = urljoin(base_url, loc.text.strip())
        published = _when(fields["lastmod"].text) if "lastmod" in fields else None
        title, tickers = None, ()
        news = item.find(f"{{{NEWS_NS}}}news")
        if news is not None:
            published = _when(news.findtext(f"{{{NEWS_NS}}}publication_date")) or published
            title = (news.findtext(f"{{{NEWS_NS}}}title") or "").strip() or None
            raw = news.findtext(f"{{{NEWS_NS}}}stock_tickers") or ""
            tickers = tuple(t.strip().split(":")[-1].upper() for t in raw.split(",") if t.strip())
        entries.append(Entry(url, published, title, tickers, is_sitemap=kind == "sitemapindex"))
    return entries


def parse_feed(data: bytes, base_url: str) -> list[Entry]:
    """Items of an RSS 2.0 or Atom feed, with their own publication dates."""
    root = _xml(data)
    if root is None:
        return []
    entries = []
    if _local(root.tag) == "feed":  # Atom
        for item in root.iter(f"{{{ATOM_NS}}}entry"):
            link = next((l.get("href") for l in item.iter(f"{{{ATOM_NS}}}link")
                         if l.get("rel", "alternate") == "alternate" and l.get("href")), None)
            if link:
                when = item.findtext(f"{{{ATOM_NS}}}published") or item.findtext(f"{{{ATOM_NS}}}updated")
                entries.append(Entry(urljoin(base_url, link.strip()), _when(when),
                                     (item.findtext(f"{{{ATOM_NS}}}title") or "").strip() or None))
        return entries
    for item in root.iter("item"):
        link = (item.findtext("link") or item.findtext("guid") or "").strip()
        if link:
            entries.append(Entry(urljoin(base_url, link), _when(item.findtext("pubDate")),
                                 (item.findtext("title") or "").strip() or None))
    return entries


def priority(published: datetime | None, now: datetime | None = None) -> int:
    """Scrapy request priority from a publication date: the newer, the sooner (0 when unknown).

    Logarithmic in the age, so that it still orders entries years old: 1 h 940, 1 day 721,
    1 week 556, 1 month 430, 1 year 212, 10 years 9; never more than 1000.
    """
    if published is None:
        return 0
    age_hours = max(((now or datetime.now(timezone.utc)) - published).total_seconds() / 3600, 0.0)
    return max(1, 1000 - int(60 * math.log2(1 + age_hours)))
