"""Small sites that broke the crawler from outside (issue 20), written into a folder for SiteServer:
articles with distinct prose, a link-heavy listing of them, and sitemap indexes that loop."""

from __future__ import annotations

import random
from pathlib import Path

WORDS = ("market yield bond equity earnings guidance inflation rate central bank policy growth revenue margin "
         "quarter outlook analyst investor dividend buyback capital spending demand supply chain energy oil price "
         "currency dollar euro trade tariff deficit credit spread default risk volatility index futures option "
         "hedge fund pension liquidity balance sheet debt loan mortgage housing consumer retail payroll labour "
         "wage productivity semiconductor software cloud advertising subscription regulator antitrust merger").split()


def article(number: int, related: int | None = None) -> str:
    """An article page at /news/NUMBER.html: a headline and ~180 words no other article shares,
    and a "read more" link in its text to the article numbered `related`."""
    rng = random.Random(number)
    paragraphs = "\n".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(45)).capitalize() + ".</p>" for _ in range(4))
    more = f"<p>Read more: <a href='/news/{related}.html'>the story before this one</a>.</p>" if related else ""
    return (f"<!doctype html><html lang='en'><head><title>Story {number}</title></head><body>"
            f"<nav><a href='/'>Home</a> <a href='/all.html'>All stories</a></nav>"
            f"<article><h1>Story number {number} on the markets</h1>{paragraphs}{more}</article></body></html>")


def listing(paths: list[str]) -> str:
    """A page of short linked labels, one per <li>: words enough for an article, but all of them links."""
    items = "\n".join(f"<li><a href='{path}'>Story {path.rsplit('/', 1)[1].split('.')[0]} markets</a></li>"
                      for path in paths)
    return f"<!doctype html><html><head><title>All stories</title></head><body><ul>\n{items}\n</ul></body></html>"


def write_site(root: Path, articles: int, listed: int | None = None) -> list[str]:
    """Articles /news/1.html.. and /all.html, linked from the home page, listing the first `listed`
    (default: all); article N links to article N + `listed`, so the others are reached only through
    an article. Returns every article's path."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "news").mkdir(exist_ok=True)
    listed = listed or articles
    paths = [f"/news/{n}.html" for n in range(1, articles + 1)]
    for number, path in enumerate(paths, 1):
        related = number + listed if number + listed <= articles else None
        (root / path.lstrip("/")).write_text(article(number, related), encoding="utf-8")
    (root / "all.html").write_text(listing(paths[:listed]), encoding="utf-8")
    (root / "index.html").write_text("<!doctype html><html><body><h1>News</h1><a href='/all.html'>All stories</a>"
                                     "</body></html>", encoding="utf-8")
    return paths


def sitemap_index(*children: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(f"<sitemap><loc>{child}</loc></sitemap>" for child in children) + "</sitemapindex>\n")


def urlset(*urls: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(f"<url><loc>{url}</loc></url>" for url in urls) + "</urlset>\n")


def news_sitemap(fresh: list[str], size: int) -> bytes:
    """A Google News sitemap of `fresh` articles, published now, padded to `size` bytes with entries
    published in 2001 (older than the crawl's --since, so not fetched), each with a long keyword list."""
    namespaces = ('xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                  'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"')

    def entry(path: str, date: str) -> str:
        return (f"<url><loc>{path}</loc><news:news><news:publication_date>{date}</news:publication_date>"
                f"<news:title>Story at {path}</news:title><news:keywords>{'markets, ' * 400}</news:keywords>"
                "</news:news></url>\n")

    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {namespaces}>\n' + "".join(
        entry(p, "2026-01-02T08:00:00Z") for p in fresh)
    old = entry("/archive/000000.html", "2001-01-02T08:00:00Z")
    count = (size - len(head)) // len(old) + 1
    return (head + "".join(entry(f"/archive/{n:06d}.html", "2001-01-02T08:00:00Z") for n in range(count))
            + "</urlset>\n").encode()
