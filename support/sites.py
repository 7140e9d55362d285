"""Generated sites for crawls on loopback: many distinct articles behind listing pages."""

from __future__ import annotations

import random
from pathlib import Path

WORDS = ("revenue margin guidance outlook quarter demand supply investors shares analysts earnings "
         "growth capex pricing inventory backlog orders customers rates inflation yields credit "
         "spread valuation multiple dividend buyback segment cloud chips energy retail banks").split()


def article_html(number: int) -> str:
    """One generated article: JSON-LD NewsArticle, a byline and five paragraphs of its own words."""
    rng = random.Random(number)
    title = f"Story {number}: {' '.join(rng.choice(WORDS) for _ in range(6)).capitalize()}"
    paragraphs = "\n".join(
        f"<p>{' '.join(rng.choice(WORDS) for _ in range(60)).capitalize()} in story {number}, part {part}.</p>"
        for part in range(5))
    day = 1 + number % 28
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta property="og:type" content="article">
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "NewsArticle",
"headline": "{title}", "datePublished": "2025-01-{day:02d}T09:30:00-05:00",
"author": {{"@type": "Person", "name": "Writer {number % 17}"}}}}</script></head>
<body><nav><a href="/">Home</a></nav><main><article><h1>{title}</h1>
<p class="byline">By Writer {number % 17}</p>{paragraphs}</article></main></body></html>"""


def build_site(root: Path, pages: int = 500, per_list: int = 20) -> Path:
    """A home page linking to listing pages that link to `pages` articles at /a/N.html."""
    (root / "a").mkdir(parents=True, exist_ok=True)
    (root / "list").mkdir(exist_ok=True)
    for number in range(pages):
        (root / "a" / f"{number}.html").write_text(article_html(number), encoding="utf-8")
    lists = (pages + per_list - 1) // per_list
    for page in range(lists):
        links = "".join(f'<li><a href="/a/{n}.html">Story {n}</a></li>'
                        for n in range(page * per_list, min(pages, (page + 1) * per_list)))
        (root / "list" / f"{page}.html").write_text(
            f"<html><body><h1>Stories, page {page}</h1><ul>{links}</ul></body></html>", encoding="utf-8")
    home = "".join(f'<a href="/list/{page}.html">Page {page}</a> ' for page in range(lists))
    (root / "index.html").write_text(f"<html><body><h1>Stories</h1>{home}</body></html>", encoding="utf-8")
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n", encoding="utf-8")
    return root
