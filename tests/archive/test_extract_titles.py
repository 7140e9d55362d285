"""Which candidate is the headline: a cut-short one gives way to the whole, a section's name is none."""

from __future__ import annotations

import json

from archive.extract import extract
from tests.pages import LOREM

HEADLINE = "Taiwan's president wrote a political playbook that Hong Kong's leader should read before the vote"


def page(*, json_headline: str | None = None, h1: str = HEADLINE, title: str = f"{HEADLINE} | Example Post") -> str:
    ld = (f'<script type="application/ld+json">{json.dumps({"@type": "NewsArticle", "headline": json_headline})}'
          "</script>") if json_headline else ""
    body = "".join(f"<p>{p}</p>" for p in LOREM)
    return (f"<html><head><title>{title}</title>{ld}</head><body><main><article><h1>{h1}</h1>"
            f"<div class='article-body'>{body}</div></article></main></body></html>")


def test_a_headline_cut_short_with_an_ellipsis_gives_way_to_the_whole_one() -> None:
    cut = HEADLINE[:80].rstrip() + "..."
    result = extract(page(json_headline=cut), "https://news.example.com/comment/opinion/3046526/taiwan")
    assert result.title == HEADLINE
    assert "cut short" in result.evidence["title"]


def test_a_headline_that_only_ends_with_a_period_is_kept() -> None:
    whole = "Markets close higher as the Fed holds rates at 5.25 percent, says Acme Inc."
    result = extract(page(json_headline=whole, h1=whole + " Analysts weigh in"), "https://news.example.com/a/b")
    assert result.title == whole


def test_an_h1_that_names_the_urls_section_is_not_the_headline() -> None:
    result = extract(page(h1="News", title="Rod Stewart faked his driving test | Example Times"),
                     "https://www.example-times.co.uk/sto/news/uk_news/article1198215.ece")
    assert result.title == "Rod Stewart faked his driving test"

