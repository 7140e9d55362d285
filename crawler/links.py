"""The links of a page, cheaply: the crawl's main thread reads every page for its links.

The crawl process is one thread that also downloads and stores; parsing each page into a tree
only for its links was the largest single cost of the crawl process. The tags that hold links
are found by a scan of the raw bytes instead, a fraction of that cost, as large crawlers do:
<a href> and <area href>, with comments, <script>, <style> and <template> skipped whole, so that a
link in a script's string or a client-side template is not followed. Each distinct href is
resolved once; only http(s) links to documents are kept.
"""

from __future__ import annotations

import html
import re
from typing import Iterator
from urllib.parse import urljoin, urlsplit

from scrapy.http import TextResponse
from scrapy.linkextractors import IGNORED_EXTENSIONS
from scrapy.utils.response import get_base_url

from archive.urls import canonical_url

_SKIP_PREFIXES = ("#", "javascript:", "mailto:", "tel:", "data:", "about:")
_IGNORED = tuple(f".{extension}" for extension in IGNORED_EXTENSIONS)
#: Where a link tag, or a stretch the scan jumps over, begins.
_OPENING = re.compile(rb"<(!--|script\b|style\b|template\b|a(?:rea)?\s)", re.IGNORECASE)
_CLOSING = {name: re.compile(rb"</" + name + rb"\s*>", re.IGNORECASE) for name in (b"script", b"style", b"template")}
#: The href of a tag whose name was just read: attributes before it may hold quoted ">".
_HREF = re.compile(rb"""(?:[^>"']|"[^"]*"|'[^']*')*?(?<![\w-])href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""",
                   re.IGNORECASE)


def hrefs(body: bytes, encoding: str) -> set[str]:
    """The distinct href values of the document's <a> and <area> tags, entities decoded."""
    found: set[str] = set()
    position, end = 0, len(body)
    while (opening := _OPENING.search(body, position)) is not None:
        name = opening.group(1).lower()
        position = opening.end()
        if name == b"!--":
            close = body.find(b"-->", position)
            position = end if close < 0 else close + 3
        elif name in _CLOSING:
            closing = _CLOSING[name].search(body, position)
            position = end if closing is None else closing.end()
        elif (attribute := _HREF.match(body, position)) is not None:
            value = next(v for v in attribute.groups() if v is not None)
            found.add(html.unescape(value.decode(encoding, "replace")).strip())
    return found


def page_links(response: TextResponse) -> Iterator[str]:
    """Canonical URLs of the page's <a href> and <area href>, each once, in no particular order."""
    try:
        base = get_base_url(response)
        values = hrefs(response.body, response.encoding)
    except (LookupError, ValueError):  # an encoding Python does not know: no links to read
        return
    seen: set[str] = set()
    for href in values:
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
