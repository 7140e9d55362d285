"""Small hand-made pages for the project's own tests (no third-party pages here)."""

from __future__ import annotations

import html

LOREM = [
    "Chip stocks extended their rally on Tuesday as investors weighed fresh signs that demand for "
    "data-center hardware remains far ahead of supply, even after a volatile start to the quarter.",
    "Analysts at several brokerages raised their price targets, arguing that order books now stretch "
    "well into next year and that pricing power has held up better than many had feared in the autumn.",
    "Still, some portfolio managers cautioned that expectations are running hot, and that any sign of "
    "slowing hyperscaler spending could trigger a sharp reversal in the most crowded positions.",
    "Bond yields edged lower after the latest inflation print, giving growth shares an additional lift "
    "while banks and energy producers lagged the broader market for a third straight session.",
    "Traders will look to next week's earnings reports for confirmation that margins can keep expanding "
    "as new products ramp, with guidance likely to matter more than the headline results themselves.",
]


def article(title: str = "Chipmakers rally as data-center demand stays hot", *,
            paragraphs: list[str] | None = None, byline: str = "By Jane Doe and John Roe",
            time_text: str = "Jan 28, 2025 11:57 pm ET", extra: str = "", head: str = "",
            site: str = "Example Markets") -> str:
    """An article page with chrome around it: nav tape, byline, date line, newsletter box, comments."""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in (paragraphs or LOREM))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)} | {site}</title>
<meta property="og:type" content="article">
<meta property="og:site_name" content="{site}">
{head}
</head><body>
<header><nav><a href="/">Home</a> <a href="/quote/SPY">SPY 602.11</a> <a href="/quote/QQQ">QQQ 521.30</a></nav></header>
<main><article>
<h1>{html.escape(title)}</h1>
<div class="byline">{html.escape(byline)}</div>
<div class="publish-date">{html.escape(time_text)}</div>
<div class="article-body">
{body}
{extra}
</div>
</article>
<section class="newsletter"><h3>Stay ahead of the market</h3><p>Subscribe to our daily briefing.</p></section>
<section class="comments"><h3>Comments</h3><p>No comments yet</p></section>
</main><footer>&copy; 2025 {site}</footer>
</body></html>
"""


def listing(links: list[str], title: str = "Latest news") -> str:
    items = "\n".join(f'<li><a href="{html.escape(h)}">Story {i}</a></li>' for i, h in enumerate(links))
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta property="og:type" content="website"></head>
<body><h1>{title}</h1><ul>{items}</ul></body></html>
"""
