"""A small site whose one article carries hostile payloads in its title, byline, body and raw HTML.

Every payload, if it ever ran, would set a flag on `window` (or its parent's): the browser test
reads those flags; the route tests check that no payload reaches a page unescaped.
"""

from __future__ import annotations

from pathlib import Path

PATH = "/news/payloads.html"
#: Flags a payload would set if it ran.
FLAGS = ("__pwned_title", "__pwned_h1", "__pwned_raw", "__pwned_onload", "__pwned_img", "__pwned_link",
         "__pwned_author", "__pwned_body", "__pwned_parent")
#: Text that must never appear in a page of the app as markup (only escaped).
RAW_MARKUP = ("<script", "onerror=", "onload=", 'href="javascript:', "<img src=x", "</style><style>")

TITLE = 'Chips <script>window.__pwned_title=1</script> "rally" <img src=x onerror="window.__pwned_img=1">'
AUTHOR = 'Mallory <script>window.__pwned_author=1</script>'


def article(edited: bool = False) -> str:
    """The article's HTML; `edited`, the publisher's second version (one paragraph changed)."""
    second = ("Chipmakers rose again on Thursday &lt;script&gt;window.__pwned_body=1&lt;/script&gt; as traders "
              "bought the dip; &lt;/style&gt;&lt;style&gt;body{display:none}&lt;/style&gt; said one desk.") if edited \
        else ("Chipmakers rose on Wednesday &lt;img src=x onerror=&quot;window.__pwned_body=1&quot;&gt; as traders "
              "looked past export controls; javascript:window.__pwned_link=1 was written on a whiteboard.")
    escaped_title = TITLE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{escaped_title}</title>
<meta property="og:title" content="{escaped_title}">
<meta property="og:type" content="article">
<meta name="author" content="{AUTHOR.replace('<', '&lt;').replace('>', '&gt;')}">
<meta property="article:published_time" content="2025-02-12T10:00:00-05:00">
<style>body {{ background: url("http://127.0.0.1:9/tracker.png"); }}</style>
<script>window.__pwned_raw = 1; try {{ parent.__pwned_parent = 1; }} catch (e) {{}}</script>
</head>
<body onload="window.__pwned_onload=1">
<article>
<h1>Chips &lt;script&gt;window.__pwned_h1=1&lt;/script&gt; rally</h1>
<p class="byline">By {AUTHOR.replace('<', '&lt;').replace('>', '&gt;')} · February 12, 2025</p>
<p>Shares of Nvidia ($NVDA) and Advanced Micro Devices ($AMD) climbed in early trading as investors weighed
the outlook for data center spending against the latest round of export controls from Washington.
Analysts at several brokers said demand for accelerators remained far ahead of supply this quarter.</p>
<p>{second}</p>
<p>Options traders bought calls on both names, and the semiconductor index added 1.8% by midday.
<a href="javascript:window.__pwned_link=1">Read the note</a> <img src="x" onerror="window.__pwned_img=1">
The move extended a rebound that began last week after a sharp selloff in technology shares.</p>
<p>Strategists cautioned that the rally rested on a handful of large companies, and that a disappointing
earnings report from any of them could quickly reverse the gains seen across the sector this month.</p>
</article>
</body>
</html>
"""


def write_site(root: Path, edited: bool = False) -> None:
    """The site: a front page linking to the article and to a page that is not there (a failed fetch)."""
    (root / "news").mkdir(parents=True, exist_ok=True)
    (root / "index.html").write_text(f'<html><body><a href="{PATH}">payloads</a> '
                                     '<a href="/news/missing.html">gone</a></body></html>')
    (root / PATH.lstrip("/")).write_text(article(edited))
