"""page_links: what the spiders follow from a page."""

from __future__ import annotations

from scrapy.http import HtmlResponse

from crawler.links import page_links

PAGE = b"""<html><head><base href="https://news.example.com/markets/"></head><body>
<a href="story.html">a</a><a href="story.html#comments">same story</a><a href="/markets/story.html?utm_source=x">again</a>
<a href="#top">top</a><a href="javascript:void(0)">js</a><a href="mailto:desk@example.com">mail</a>
<a href="/report.pdf">pdf</a><a href="https://other.example.org/b">elsewhere</a><map><area href="/c.html"></map>
<a href="http://[bad">broken</a><a>no href</a></body></html>"""


def test_each_document_link_once_resolved_against_the_base() -> None:
    response = HtmlResponse("https://news.example.com/markets/index.html", body=PAGE, encoding="utf-8")
    assert sorted(page_links(response)) == ["https://news.example.com/c.html",
                                            "https://news.example.com/markets/story.html",
                                            "https://other.example.org/b"]


def test_an_empty_page_has_no_links() -> None:
    assert list(page_links(HtmlResponse("https://news.example.com/", body=b"", encoding="utf-8"))) == []
