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



def blog_page(*, h1: str, headline_tag: str, headline: str, title: str, site: str = "") -> str:
    """A portal or blog template: the site's, blog's or section's name in the <h1>, the headline lower."""
    body = "".join(f"<p>{p}</p>" for p in LOREM)
    meta = f'<meta property="og:site_name" content="{site}">' if site else ""
    return (f"<html><head><title>{title}</title>{meta}</head><body><header><h1>{h1}</h1></header><main>"
            f"<div class='post'><{headline_tag}>{headline}</{headline_tag}><div class='entry'>{body}</div></div>"
            f"</main></body></html>")


def test_an_h1_naming_the_site_gives_way_to_the_heading_the_title_opens_with() -> None:
    """Blogs and portals give the <h1> to the site's, blog's or section's name and the headline to an
    <h2> or <h3>; the <title> still opens with the headline (PIXNET, WebMD, qdaily, USA Today blogs)."""
    cases = [
        ("Allergies Health Center", "h2", "Babies who eat peanuts early may avoid allergy",
         "Babies who eat peanuts early may avoid allergy"),  # the <h1> is nowhere in the title
        ("Example Blogs", "h2", "新竹尖石_美樹營地賞楓 (2)", "新竹尖石_美樹營地賞楓 (2) @ Steven's home :: Example Blogs ::"),
        ("好奇心日报", "h2", "这个约会软件，想用你和对方的相似好恶来帮你找对象", "这个约会软件，想用你和对方的相似好恶来帮你找对象_智能_好奇心日报"),
        ("Drive On: a conversation about the cars we drive", "h3", "GM files for IPO, but are taxpayers on the hook?",
         "GM files for IPO, but are taxpayers on the hook? - Drive On - Example Today"),
    ]
    for h1, tag, headline, title in cases:
        result = extract(blog_page(h1=h1, headline_tag=tag, headline=headline, title=title), "https://blog.example.com/post/1")
        assert result.title == headline, (h1, result.title)
        assert f"the <{tag}> the page's title opens with" in result.evidence["title"]


def test_the_h1_stays_the_headline_when_the_title_names_it_or_opens_with_the_site() -> None:
    """The rule needs the title's whole first part: a heading that only begins it ("Fed holds" in
    "Fed holds rates ...") is not taken, nor the site's name where the title opens with it."""
    headline = "Fed holds rates steady as inflation cools"
    kept = [
        # the title opens with the site's name, the <h1> (the headline) ends it; the site's name is an <h2>
        blog_page(h1=headline, headline_tag="h2", headline="Example News Network", title=f"Example News Network - {headline}"),
        # the title opens with a heading that is only the first words of its first part
        blog_page(h1=headline, headline_tag="h2", headline="OL i Paris", title="OL i Paris 2024: Tårene rant for norsk OL-håp"),
        # the heading the title opens with is the declared site name
        blog_page(h1=headline, headline_tag="h2", headline="Example Markets Daily", title="Example Markets Daily",
                  site="Example Markets Daily"),
    ]
    for html in kept:
        assert extract(html, "https://news.example.com/a/fed-holds").title == headline
