"""The standfirst (dek, teaser, summary) shown between the headline and the body.

News pages print a sentence or two under the headline that sums the article up. It is the
publisher's text about this article, written for it, and it is part of what a reader reads; yet it
sits outside the body's container, so trafilatura leaves it out. fundus models an article body as
this summary followed by its sections; on the development corpus, 63 pages of 62 sites show a
standfirst the body did not hold.

Which text is the standfirst is not guessed from class names (dek, bajada, strapline, excerpt,
lead, ...: every site names it its own way). The page says it: the standfirst is the visible text
that equals the page's declared description (`og:description`, `description`,
`twitter:description`, JSON-LD `description`), in an element between the headline and the body's
first paragraph. A description that is only metadata (not shown), that repeats the body's first
paragraph, or that is shown after the body begins (an author's bio, a footer's tagline: some sites
declare those as the description) adds nothing.
"""

from __future__ import annotations

import re
from itertools import islice
from typing import Iterator

from lxml import etree
from lxml.html import HtmlElement

from archive.extract.page import Page

#: Shorter descriptions are too often a site's tagline or a label to be taken for a standfirst.
MIN_CHARS = 40
#: How far up from the text's first node its element may sit (<p><a>Text</a> more text</p>).
_UP = 3
#: The places a description's word is looked at: a page repeating it thousands of times (hostile,
#: or a listing of itself) must not cost thousands of document-order checks.
_MAX_PLACES = 20
#: How much of the body's start is matched to find where the body begins.
_PREFIX = 24
_NOT_SHOWN = {"script", "style", "noscript", "template", "title", "textarea"}
#: Text nodes of the page that hold `word` (found in C: a walk of every element in Python cost more
#: than a millisecond a page). The word is one of the description's: the markup's whitespace and
#: inline tags between words do not hide it.
_HOLDING = etree.XPath("/html/body/descendant::text()[contains(., $word)]")
_BODY_TAG = re.compile(r"<body[\s>]", re.IGNORECASE)
_PUNCTUATION = "\"'“”‘’«»„.,;:!?()[]"
_AFTER_HEADLINE = etree.XPath("boolean(preceding::h1)")
#: Whether the body has begun before the element: what follows the body's start (an author's bio, a
#: footer's tagline) is no standfirst.
_AFTER = etree.XPath("boolean(preceding::text()[starts-with(normalize-space(.), $prefix)])")


def find_standfirst(page: Page, body: str, title: str | None = None) -> str | None:
    """The page's standfirst as shown, when it stands between the headline and `body`'s start and
    `body` lacks it. A description that is the headline (`title`) is none."""
    flat_body, flat_title = _flat(body), _flat(title or "")
    descriptions = {d: s for d, s in _descriptions(page).items() if d not in flat_body and d != flat_title}
    if not descriptions:
        return None
    longest = max(map(len, descriptions))
    has_headline = page.tree.find(".//h1") is not None
    opening = " ".join(body.split())[:_PREFIX]
    body_start = start.start() if (start := _BODY_TAG.search(page.text)) else 0
    for written in descriptions.values():
        word = max((w.strip(_PUNCTUATION) for w in written.split()), key=len)
        if not word or word.isalnum() and page.text.find(word, body_start) < 0:
            continue  # not in the page's <body> as written: not shown (the XPath below costs more)
        for text in islice(_HOLDING(page.tree, word=word), _MAX_PLACES):
            element = text.getparent()
            if text.is_tail:
                element = element.getparent()
            if element is None or element.tag in _NOT_SHOWN:
                continue
            for candidate in _upwards(element):
                as_shown = " ".join(candidate.text_content().split())
                shown = as_shown.casefold()
                if shown in descriptions:
                    if (not has_headline or _AFTER_HEADLINE(candidate)) and not _AFTER(candidate, prefix=opening):
                        return as_shown
                    break
                if len(shown) > longest:
                    break
    return None


def _descriptions(page: Page) -> dict[str, str]:
    """Folded description -> the description as written."""
    values = page.meta_all("og:description", "description", "twitter:description")
    values += [item["description"] for item in page.json_ld() if isinstance(item.get("description"), str)]
    found: dict[str, str] = {}
    for value in values:
        written = " ".join(value.split())
        if len(written) >= MIN_CHARS:
            found.setdefault(_flat(written), written)
    return found


def _upwards(element: HtmlElement) -> Iterator[HtmlElement]:
    yield element
    for _, ancestor in zip(range(_UP), element.iterancestors()):
        if ancestor.tag in ("body", "html"):
            return
        yield ancestor


def _flat(text: str) -> str:
    return " ".join(text.split()).casefold()
