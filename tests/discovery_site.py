"""A copy of the demo site dressed for discovery: a news sitemap with stock tickers, a robots.txt
that disallows a path (linked from the home page), and a sources file pointing at it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from archive.demo.server import SiteServer

DEMO = Path(__file__).resolve().parents[1] / "archive" / "demo" / "site"
MANIFEST = json.loads((DEMO / "manifest.json").read_text(encoding="utf-8"))
ARTICLES = [entry["path"] for entry in MANIFEST]
#: Served without ETag/Last-Modified: refetches of it cannot be conditional.
NO_VALIDATORS = "/briefs/"
DISALLOWED = "/private/"
#: A ticker the sitemap declares for the first article that its page never names.
DECLARED_ONLY = "ASML"


def build(root: Path) -> Path:
    """Copy the demo site into `root` and add the discovery files; returns `root`."""
    shutil.copytree(DEMO, root)
    entries = []
    for number, entry in enumerate(MANIFEST[:12]):
        tickers = [f"NASDAQ:{t}" for t in entry["tickers"]] + ([DECLARED_ONLY] if number == 0 else [])
        entries.append(f"""<url><loc>{entry['path']}</loc><news:news>
  <news:publication><news:name>Demo</news:name><news:language>en</news:language></news:publication>
  <news:publication_date>{entry['published']}</news:publication_date><news:title>{entry['title'].replace('&', '&amp;')}</news:title>
  <news:stock_tickers>{', '.join(tickers)}</news:stock_tickers></news:news></url>""")
    (root / "news-sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n' + "\n".join(entries) + "\n</urlset>\n",
        encoding="utf-8")
    (root / "sitemap-index.xml").write_text(
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        '<sitemap><loc>/news-sitemap.xml</loc></sitemap></sitemapindex>\n', encoding="utf-8")
    (root / "robots.txt").write_text(f"User-agent: *\nDisallow: {DISALLOWED}\n", encoding="utf-8")
    (root / DISALLOWED.strip("/")).mkdir()
    (root / DISALLOWED.strip("/") / "members-only.html").write_text(
        "<html><body><h1>Members only</h1><p>Never to be fetched.</p></body></html>", encoding="utf-8")
    index = root / "index.html"
    index.write_text(index.read_text(encoding="utf-8").replace(
        "</body>", f'<a href="{DISALLOWED}members-only.html">Members</a></body>'), encoding="utf-8")
    return root


def sources_file(path: Path, server: SiteServer, **extra: str) -> Path:
    """A sources file for the served copy: start page, feed, sitemap index; listings never articles."""
    url = server.url.rstrip("/")
    lines = ["[[site]]", 'name = "demo"', f'start_urls = ["{url}/"]', f'feeds = ["{url}/feed.xml"]',
             f'sitemaps = ["{url}/sitemap-index.xml"]',
             "allow = ['^/(analysis|markets|news|investing|briefs)/[a-z0-9-]+(\\.html)?$']",
             "deny = ['^/search']", *(f"{key} = {value}" for key, value in extra.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
