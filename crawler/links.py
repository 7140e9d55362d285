"""The links of a page, cheaply: the crawl's main thread reads every page for its links.

Scrapy's LinkExtractor resolves and normalises every <a> of a page, duplicates included; article
pages carry hundreds of them (navigation, tickers, share buttons), and on the crawl benchmark it
took as much of the crawl process's time as a worker spent extracting the page. Here each
distinct href is resolved once, and only http(s) links to documents are kept.
"""

from __future__ import annotations

from typing import Iterator
from urllib.parse import urljoin, urlsplit

from lxml import etree, html as lxml_html
from scrapy.http import TextResponse
from scrapy.linkextractors import IGNORED_EXTENSIONS
from scrapy.utils.response import get_base_url

from archive.urls import canonical_url

_SKIP_PREFIXES = ("#", "javascript:", "mailto:", "tel:", "data:", "about:")
_IGNORED = tuple(f".{extension}" for extension in IGNORED_EXTENSIONS)


def page_links(response: TextResponse) -> Iterator[str]:
    """Canonical URLs of the page's <a href> and <area href>, each once, in no particular order."""
    try:
        parser = lxml_html.HTMLParser(encoding=response.encoding, recover=True)
        root = lxml_html.document_fromstring(response.body, parser=parser)
    except (etree.ParserError, ValueError):  # an empty or undecodable document has no links
        return
    base = get_base_url(response)
    seen: set[str] = set()
    for href in set(root.xpath("//a/@href | //area/@href")):
        href = str(href).strip()
        if not href or href.lower().startswith(_SKIP_PREFIXES):
            continue
        try:
            url = urljoin(base, href)
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or parts.path.lower().endswith(_IGNORED):
                continue
            url = canonical_url(url)
        except ValueError:  # a malformed link (bad port, bad IPv6 literal): not followed
            continue
        if url not in seen:
            seen.add(url)
            yield url
