"""Extraction basics on small pages of our own, plus the AInvest-modelled fixture."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from archive.errors import ExtractionError
from archive.extract import extract
from tests import hostile_site
from tests.conftest import fixture_page
from tests.pages import LOREM, article, listing

URL = "https://news.example.com/markets/chips.html"


def test_title_without_site_suffix_and_authors_split() -> None:
    result = extract(article(), URL)
    assert result.title == "Chipmakers rally as data-center demand stays hot"
    assert result.authors == ("Jane Doe", "John Roe")
    assert result.site_name == "Example Markets"
    assert result.is_article


@pytest.mark.parametrize("written, shown", [
    ("Mexico to fight &#8216;tariffs&#8217; at AT&amp;T", "Mexico to fight \u2018tariffs\u2019 at AT&T"),
    ("Chips rally: &quot;demand stays hot&quot;", 'Chips rally: "demand stays hot"'),
    ("Ops&#x27; report on AT&T and S&P 500 &not decoded", "Ops' report on AT&T and S&P 500 &not decoded"),
])
def test_json_ld_written_html_escaped_is_read_as_text(written: str, shown: str) -> None:
    """Many CMSs write JSON-LD values HTML-escaped: complete character references are decoded
    (headline and author alike), a bare ampersand stays."""
    data = {"@type": "NewsArticle", "headline": written,
            "author": {"@type": "Person", "name": "Ana Mu&ntilde;oz"}}
    result = extract(article(head=f'<script type="application/ld+json">{json.dumps(data)}</script>', byline=""),
                     URL)
    assert result.title == shown
    assert result.authors == ("Ana Mu\u00f1oz",)


def test_meta_values_escaped_twice_or_with_tags_are_read_as_text() -> None:
    """A <meta> content is plain text: references left after parsing (a CMS escaped the value
    twice) are decoded and an editor's formatting tags removed; a bare "S&P" stays, and so does
    other text between angle brackets."""
    head = ('<meta name="description" content="<p>Shares of CD&amp;amp;V&amp;#039;s <em>rivals</em> rose'
            ' as S&amp;P gained&amp;nbsp;</p>">')
    result = extract(article(head=head), URL)
    assert result.description == "Shares of CD&V's rivals rose as S&P gained"
    literal = '<meta name="description" content="How the &lt;blink&gt; tag died, and &lt;script&gt; too">'
    assert extract(article(head=literal), URL).description == "How the <blink> tag died, and <script> too"


@pytest.mark.parametrize("text, expected", [
    ("Jan 28, 2025 11:57 pm ET", datetime(2025, 1, 28, 23, 57, tzinfo=timezone(timedelta(hours=-5)))),
    ("Jul 14, 2025 9:31 AM ET", datetime(2025, 7, 14, 9, 31, tzinfo=timezone(timedelta(hours=-4)))),
    ("Feb 4, 2025, 9:31 AM PT", datetime(2025, 2, 4, 9, 31, tzinfo=timezone(timedelta(hours=-8)))),
    ("Jan. 29, 2025 at 4:02 p.m. ET", datetime(2025, 1, 29, 16, 2, tzinfo=timezone(timedelta(hours=-5)))),
    ("3 Feb 2025 14:05 GMT", datetime(2025, 2, 3, 14, 5, tzinfo=timezone.utc)),
])
def test_visible_times_with_zones(text: str, expected: datetime) -> None:
    published = extract(article(time_text=text), URL).published
    assert published is not None and published.precision == "datetime"
    assert published.value == expected
    assert published.value.utcoffset() == expected.utcoffset()


def test_date_only_keeps_date_precision() -> None:
    published = extract(article(time_text="January 28, 2025"), URL).published
    assert published is not None and published.precision == "date"
    assert published.isoformat() == "2025-01-28"


def test_structured_date_wins_over_visible() -> None:
    head = '<meta property="article:published_time" content="2025-01-27T08:00:00-05:00">'
    published = extract(article(head=head), URL).published
    assert published is not None and published.isoformat() == "2025-01-27T08:00:00-05:00"


def test_body_has_paragraphs_and_no_chrome() -> None:
    body = extract(article(), URL).body
    assert body.startswith("Chip stocks extended their rally")
    assert body.count("\n\n") == 4
    for chrome in ("Stay ahead of the market", "No comments yet", "SPY 602.11", "By Jane Doe", "11:57"):
        assert chrome not in body


def test_tickers_from_cashtags_exchange_mentions_and_links_not_nav() -> None:
    extra = ('<p>Shares of Nvidia (NASDAQ: NVDA) and $AMD rose; NYSE:BABA slipped. The CEO said AI demand '
             'in the US is strong. <a href="/quote/MSFT">Microsoft</a></p>')
    tickers = {t.symbol: t for t in extract(article(extra=extra), URL).tickers}
    assert set(tickers) == {"NVDA", "AMD", "BABA", "MSFT"}
    assert tickers["NVDA"].exchange == "NASDAQ" and tickers["BABA"].exchange == "NYSE"
    assert "cashtag" in tickers["AMD"].evidence


def test_listing_page_is_not_an_article() -> None:
    result = extract(listing([f"/markets/{i}.html" for i in range(30)]), "https://news.example.com/markets/")
    assert not result.is_article


@pytest.mark.parametrize("raw, kind", [
    (b"", "empty"),
    (b"   \n", "empty"),
    (bytes(range(256)) * 20, "not_html"),
    (article().encode()[: len(article()) // 2], "truncated"),
])
def test_bad_input_raises_one_documented_error(raw: bytes, kind: str) -> None:
    with pytest.raises(ExtractionError) as info:
        extract(raw, URL)
    assert info.value.kind == kind


def test_ainvest_fixture_title_author_body() -> None:
    raw = fixture_page("ainvest_deepseek.html")
    result = extract(raw, "https://www.ainvest.com/news/deepseek-a-game-changer-in-the-u-s-china-tech-battle-2501/")
    assert result.title == "DeepSeek: A Game Changer in the U.S.-China Tech Battle"
    assert result.authors == ("Edwin Foster",) and result.ai_generated
    assert result.site_name == "AInvest"
    assert result.published is not None and result.published.isoformat() == "2025-01-28T23:57:00-05:00"
    assert {t.symbol for t in result.tickers} == {"BABA", "NVDA"}
    assert result.body.startswith("The tech rivalry between the United States and China")
    assert result.body.endswith("The answer could redefine the future of technology as we know it.")
    for excluded in ("AI Writing Agent Edwin Foster", "Latest Articles", "Stay ahead of the market",
                     "Add a public comment", "No comments yet", "Subscribe", "SPY 602.11"):
        assert excluded not in result.body


def test_updated_time_from_an_updated_label() -> None:
    page = article(extra='<div class="timestamp">Last Updated: Jan. 29, 2025 at 4:02 p.m. ET</div>')
    result = extract(page, URL)
    assert result.published is not None and result.published.isoformat() == "2025-01-28T23:57:00-05:00"
    assert result.updated is not None and result.updated.isoformat() == "2025-01-29T16:02:00-05:00"


def test_structured_modified_time_is_the_update() -> None:
    head = ('<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2025-02-03T14:05:00Z",'
            ' "dateModified": "2025-02-03T16:30:00Z", "author": [{"@type": "Person", "name": "Ana Ruiz"},'
            ' {"@type": "Organization", "name": "Meridian Wire"}]}</script>')
    result = extract(article(head=head, byline=""), URL)
    assert result.updated is not None and result.updated.isoformat() == "2025-02-03T16:30:00+00:00"
    assert result.authors == ("Ana Ruiz",)


@pytest.mark.parametrize("byline, authors", [
    ("By Jane Doe, Staff Writer", ("Jane Doe",)),
    ("By JANE DOE and JOHN ROE - AP Business Writers", ("Jane Doe", "John Roe")),
    ("Reporting by Jane Doe; Editing by Mark Potter", ("Jane Doe",)),
    ("Jane Doe | John Roe | 2 hours ago", ("Jane Doe", "John Roe")),
    ("By Market Watch Staff", ()),
    ("Email the author", ()),
])
def test_byline_cleaning(byline: str, authors: tuple[str, ...]) -> None:
    assert extract(article(byline=byline), URL).authors == authors


def test_no_author_is_an_empty_list_never_a_guess() -> None:
    assert extract(article(byline=""), URL).authors == ()


def test_teaser_behind_a_paywall_is_flagged() -> None:
    teaser = article(paragraphs=LOREM[:1], extra="<p>Subscribe to continue reading this article.</p>")
    assert extract(teaser, URL).paywalled
    assert not extract(article(), URL).paywalled
    head = '<script type="application/ld+json">{"@type": "NewsArticle", "isAccessibleForFree": false}</script>'
    assert extract(article(head=head), URL).paywalled


def test_article_mislabelled_website_on_an_article_url_is_an_article() -> None:
    page = article().replace('content="article"', 'content="website"')
    assert extract(page, "https://news.example.com/news/articles/2025-01-28/chips-rally").is_article
    assert not extract(page, "https://news.example.com/markets/").is_article


def test_short_wire_brief_with_structured_type_is_an_article() -> None:
    brief = article(paragraphs=["Acme Corp said on Tuesday its unit reached commercial operation of its "
                                "100 megawatt solar project in Kings County, California, ahead of schedule."])
    assert extract(brief, URL).is_article
    assert not extract(brief.replace('content="article"', 'content="website"'), URL).is_article


@pytest.mark.parametrize("path", ["/tag/chips/", "/authors/jane-doe", "/quote/NVDA", "/search?q=x", "/markets/page/2"])
def test_listing_urls_are_not_articles_without_structured_data(path: str) -> None:
    page = article().replace('<meta property="og:type" content="article">', "")
    assert not extract(page, "https://news.example.com" + path).is_article
    assert extract(page, "https://news.example.com/markets/chips-rally.html").is_article


def test_leading_text_is_the_start_of_the_whole_text() -> None:
    """Indented markup is mostly whitespace: the first N characters still come out whole."""
    from lxml import html as lxml_html
    from archive.extract.regions import leading_text, text_of
    indent = "\n" + " " * 40
    root = lxml_html.fromstring("<div>" + "".join(f"{indent}<p>{indent}word{n} <b>bold</b>{indent}</p>"
                                                  for n in range(300)) + "</div>")
    for limit in (1, 7, 100, 1000, 5000):
        assert leading_text(root, limit) == text_of(root)[:limit]


def test_every_control_character_is_removed_raw_or_referenced() -> None:
    """The fast byte-level check must agree with the character class on every code point near it."""
    from archive.extract.page import without_controls

    for code in [*range(0x00, 0x200), 0x2028, 0xFEFF, 0x1F600]:
        char = chr(code)
        unsafe = code < 0x20 and char not in "\t\n\r" or 0x7F <= code <= 0x9F
        assert without_controls(f"a{char}b") == ("ab" if unsafe else f"a{char}b"), hex(code)
    # references: to C0 controls dropped; &#128;-&#159; read as windows-1252 (&#x9b; is a quote)
    assert without_controls("x&#27;y&#x9b;z&#150;&#129;") == "xy\u203az\u2013"


def test_navigation_inside_the_article_is_not_read_for_any_field() -> None:
    """A <nav> of other stories inside the article: its time element is another story's date and its
    quote links are not the article's tickers (navigation is dropped before any field is read)."""
    page = article(time_text="Jan 28, 2025", extra=(
        '<nav class="more-stories"><a href="/older">An older story, '
        '<time datetime="2020-03-01T09:00:00Z">Mar 1, 2020</time></a> <a href="/quote/TSLA">TSLA</a></nav>'))
    result = extract(page, "https://example.com/a/1")
    assert result.published is not None and result.published.value.date().isoformat() == "2025-01-28"
    assert "TSLA" not in {t.symbol for t in result.tickers}
    assert "older story" not in result.body


def test_a_lead_paragraph_opening_with_by_is_prose_not_a_byline() -> None:
    """"By comparison, ..." opens a sentence; only "By" and a capitalised name is a credit line."""
    lead = "By comparison, memory makers lagged the rally as inventories at handset makers stayed high."
    body = extract(article(paragraphs=[lead, *LOREM]), URL).body
    assert body.startswith(lead)
    assert "By Jane Doe" not in body


def test_trafilatura_reads_the_article_region_alone_when_it_holds_the_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """The chrome outside the article is not handed to trafilatura when the article region holds
    most of the page's paragraph text; when it does not, trafilatura reads the whole page."""
    from archive.extract import body as body_module

    seen: list[bool] = []
    real = body_module.bare_extraction

    def spy(tree, **options):  # type: ignore[no-untyped-def]
        seen.append(tree.find(".//header") is not None)
        return real(tree, **options)

    monkeypatch.setattr(body_module, "bare_extraction", spy)
    page = article(paragraphs=LOREM * 2)  # past the region's minimum size
    assert extract(page, URL).body.startswith("Chip stocks extended their rally")
    assert seen == [False]  # one fast pass, on the region alone
    seen.clear()
    other = '<div id="more">' + "".join(f"<p>{p} Outside the article.</p>" for p in LOREM * 3) + "</div>"
    result = extract(page.replace("</main>", "</main>" + other), URL)
    assert result.body.startswith("Chip stocks extended their rally")
    assert seen and seen[0]  # the region held too little of the page's text: the whole page


def test_a_page_that_is_mostly_links_is_never_an_article() -> None:
    """Issue 20: a listing of linked labels has words enough for an article, even an article-like
    URL and og:type, but nearly all its text is links."""
    page = hostile_site.listing([f"/news/{n}.html" for n in range(1, 307)])
    for url, html in (("https://news.example/all.html", page),
                      ("https://news.example/news/all-stories", page.replace(
                          "<head>", '<head><meta property="og:type" content="article">'))):
        result = extract(html, url)
        assert not result.is_article and result.kind_reason.endswith("of its text is links"), result.kind_reason
    story = extract(hostile_site.article(7), "https://news.example/news/7.html")
    assert story.is_article


@pytest.mark.parametrize("url", [None, ""])
def test_a_page_without_a_known_address_still_extracts(url: str | None) -> None:
    """A saved file has no URL: URL-based rules find nothing, nothing raises."""
    result = extract(article(), url)
    assert result.is_article and result.title == "Chipmakers rally as data-center demand stays hot"


def test_a_page_opening_with_kilobytes_of_blank_lines_is_html() -> None:
    result = extract("\n" + " " * 8000 + "\n" + article(), URL)
    assert result.is_article and result.body.startswith("Chip stocks extended their rally")
