"""Article or listing: listings written in the styles of real sites stay listings, while articles
mislabelled by one signal (og:type website, teaser boxes, text without spaces) stay articles."""

from __future__ import annotations

import html

import pytest

from archive.extract import extract
from archive.extract.kind import word_count
from tests.pages import LOREM, article

HEADLINES = ["Fed officials signal patience as inflation cools further", "Oil slides after OPEC+ output surprise",
             "Chipmakers extend rally on data-center orders", "Retail sales beat forecasts in holiday quarter",
             "Treasury yields drop to three-month low", "Banks brace for tougher capital rules next year",
             "Housing starts rebound as mortgage rates ease", "Yen weakens past 150 per dollar again"]
SUMMARY = ("Investors weighed the latest figures against comments from policymakers, with traders "
           "trimming bets ahead of next week's data and company earnings.")


def section_front(og_type: str = "website") -> str:
    """A news site's section front: teaser cards, each a linked <h3> headline and a one-line summary."""
    cards = "\n".join(f'<div class="card"><h3 class="card-title"><a href="/markets/story-{i}-{h.lower().replace(" ", "-")}">'
                      f"{html.escape(h)}</a></h3><p class=\"card-summary\">{SUMMARY}</p></div>"
                      for i, h in enumerate(HEADLINES))
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Markets news today | Example News</title>
<meta property="og:type" content="{og_type}"></head>
<body><header><a href="/">Example News</a></header>
<main><h1>Markets news today</h1>{cards}</main><footer>&copy; Example News</footer></body></html>"""


def blog_index() -> str:
    """A WordPress-style blog index: <article> posts with an h2.entry-title link, excerpt and 'Read more'."""
    posts = "\n".join(f'<article class="post type-post"><h2 class="entry-title"><a href="/blog/2025/01/{i:02d}/post-{i}/">'
                      f'{html.escape(h)}</a></h2><div class="entry-summary"><p>{LOREM[i % 5]}</p></div>'
                      f'<a class="more-link" href="/blog/2025/01/{i:02d}/post-{i}/">Read more</a></article>'
                      for i, h in enumerate(HEADLINES))
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Notes from the desk</title>
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "Blog", "name": "Notes"}}</script>
</head><body><div id="content">{posts}</div><aside class="sidebar"><p>About this blog</p></aside></body></html>"""


@pytest.mark.parametrize("page, url", [
    (section_front(), "https://news.example.com/markets/stocks-bonds-currencies-news"),
    (section_front("article"), "https://news.example.com/markets/"),  # a CMS that says "article" on every page
    (blog_index(), "https://blog.example.com/"),
    (blog_index(), "https://blog.example.com/notes-from-the-desk"),
])
def test_listings_in_the_styles_of_real_sites_are_not_articles(page: str, url: str) -> None:
    assert not extract(page, url).is_article


def test_an_article_with_a_related_headlines_box_is_an_article() -> None:
    related = "".join(f'<h3><a href="/news/{i}">{html.escape(h)}</a></h3>' for i, h in enumerate(HEADLINES))
    page = article(extra=f'<div class="more-stories">{related}</div>').replace(
        '<meta property="og:type" content="article">', "")
    assert extract(page, "https://news.example.com/world/chips-rally-on-data-center-demand-12345").is_article


def test_og_type_website_is_evidence_not_a_veto() -> None:
    long_text = [*LOREM, *LOREM]  # 300+ words: a column, whatever the CMS labels it
    page = article(paragraphs=long_text).replace('content="article"', 'content="website"')
    assert extract(page, "https://news.example.com/markets/").is_article
    slug = article().replace('content="article"', 'content="website"')
    assert extract(slug, "https://news.example.com/markets/chipmakers-rally-as-demand-stays-hot").is_article


def test_text_without_spaces_counts_its_characters() -> None:
    japanese = "気象庁は十三日、午後九時ごろ日向灘で地震があったと発表した。" * 12
    assert word_count(japanese) > 150
    page = article(paragraphs=[japanese, japanese]).replace('<meta property="og:type" content="article">', "")
    assert extract(page, "https://news.example.jp/articles/20250114/k00").is_article


def test_a_dated_path_or_a_document_id_outweighs_a_listing_word_in_the_url() -> None:
    """"/People/article1198215.ece" is an article in a section called People, and a dated path's
    "index.html" an article's folder; the listing words alone, a day's archive and a bare id after
    /stocks/ (a quote page's news item) stay listings by URL."""
    page = article(paragraphs=[*LOREM, *LOREM[:2]]).replace('<meta property="og:type" content="article">', "")
    for url in ("https://www.example-times.co.uk/sto/news/uk_news/People/article1198215.ece",
                "https://money.example.com/2016/02/01/news/economy/poverty-inequality/index.html"):
        assert extract(page, url).is_article, url
    for url in ("https://news.example.com/people/jane-doe", "https://news.example.com/tag/markets/",
                "https://news.example.com/finance/stocks/TEX/key-developments/article/3414284",
                "https://news.example.com/2016/02/01/index.html"):
        result = extract(page, url)
        assert not result.is_article and result.kind_reason == "listing-like URL", url
