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


def test_links_in_comments_scripts_and_templates_are_not_followed() -> None:
    page = b"""<html><body><!-- <a href="/old.html">old</a> -->
    <script>var t = '<a href="/from-script.html">x</a>';</script>
    <template><a href="{userLink}">you</a></template><STYLE>a[href="/css.html"]{}</STYLE>
    <A class='x' data-href="/data.html" title="a > b" HREF='/single.html?a=1&amp;b=2'>s</A>
    <a href=/unquoted.html>u</a><a
      href = "/spaced.html">sp</a></body></html>"""
    response = HtmlResponse("https://news.example.com/", body=page, encoding="utf-8")
    assert sorted(page_links(response)) == ["https://news.example.com/single.html?a=1&b=2",
                                            "https://news.example.com/spaced.html",
                                            "https://news.example.com/unquoted.html"]


def test_an_unclosed_script_hides_the_rest_of_the_page_and_nothing_breaks() -> None:
    page = b'<a href="/before.html">b</a><script>while (1) {} <a href="/after.html">'
    response = HtmlResponse("https://news.example.com/", body=page, encoding="utf-8")
    assert list(page_links(response)) == ["https://news.example.com/before.html"]
