"""Is this page an article, or a listing/tag/author/quote page to follow but not keep?"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from archive.extract.page import Page
from archive.extract.regions import in_chrome, text_length, wrapper_limit

ARTICLE_TYPES = {"article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle",
                 "opinionnewsarticle", "backgroundnewsarticle", "blogposting", "report",
                 "scholarlyarticle", "techarticle", "liveblogposting"}
#: Path segments of pages that list or index articles rather than being one.
LISTING_PATH = re.compile(
    r"/(?:tags?|topics?|category|categories|authors?|people|quotes?|symbols?|stocks?|search|"
    r"page|archive|sections?|feeds?|login|about|contact)(?:/|$)|^/$|/index\.html?$",
    re.IGNORECASE)
#: Paths of article pages: a date in the path, or an /article/-like segment.
ARTICLE_PATH = re.compile(r"/(?:19|20)\d\d[/-]\d\d[/-]\d\d(?:/|$)|/(?:articles?|news|story|stories|opinion|"
                          r"commentary|analysis|blog|posts?)/[^/]+", re.IGNORECASE)
MIN_ARTICLE_WORDS = 120
MIN_TEASERS = 3  # linked headlines that make a page a listing
MIN_BRIEF_WORDS = 20  # a wire brief is one sentence; with structured data saying "article" it is one
#: A region whose text is more than this share link text is a listing, whatever else it says
#: (bench/kind_fixtures.py: the most on a fixture page is 0.35; a list of linked labels is ~1).
MAX_LINK_SHARE = 0.7
MIN_LISTING_CHARS = 300  # about 50 words: less is too little text to call a listing by its links


def classify(page: Page, word_count: int, links: float = 0.0) -> tuple[bool, str]:
    """(is_article, reason). A region that is mostly link text (`links`, link_share) is never an
    article; otherwise structured data decides when present; else URL and text length."""
    if links > MAX_LINK_SHARE:
        return False, f"{links:.0%} of its text is links"
    ld_types = {str(t).lower() for obj in page.json_ld() for t in _types(obj)}
    og_type = (page.meta("og:type") or "").lower()
    if (ld_types & ARTICLE_TYPES or og_type == "article") and word_count >= MIN_BRIEF_WORDS:
        return True, "structured data says article"
    if word_count < 50:
        return False, f"too little text ({word_count} words)"
    path = urlsplit(page.url).path
    if LISTING_PATH.search(path):
        return False, "listing-like URL"
    if (teasers := _teasers(page)) >= MIN_TEASERS:
        return False, f"{teasers} linked teaser headlines"
    if ARTICLE_PATH.search(path) and word_count >= MIN_ARTICLE_WORDS:
        return True, f"article-like URL and {word_count} words"  # sites mislabel articles og:type=website
    if og_type and og_type != "article":
        return False, f"og:type is {og_type}"
    if word_count >= MIN_ARTICLE_WORDS:
        return True, f"{word_count} words of article text"
    return False, f"too little text ({word_count} words)"


def link_share(root: HtmlElement, limit: int) -> float:
    """The share of the article region's text that is the text of links (outside chrome): near 1 on
    a listing of linked labels, at most 0.35 on the 317 fixture pages, whose links sit inside
    their sentences. 0 for a region under MIN_LISTING_CHARS: too little to tell (pages whose text
    is in their JSON-LD or scripts)."""
    total = text_length(root)
    if total < MIN_LISTING_CHARS:
        return 0.0
    linked = sum(text_length(a) for a in root.iter("a") if not in_chrome(a, limit)
                 and not any(ancestor.tag == "a" for ancestor in a.iterancestors()))
    return min(linked / total, 1.0)


def _teasers(page: Page) -> int:
    """Headlines that link to other pages, outside chrome: what a listing or blog index is made of."""
    links = page.tree.xpath("//h2/a[@href] | //h3/a[@href] | //h2[@class]//a[@href]")
    limit = wrapper_limit(page)
    return len({a.get("href") for a in links if not a.get("href", "").startswith("#") and not in_chrome(a, limit)})


def _types(obj: dict) -> list:
    value = obj.get("@type", [])
    return value if isinstance(value, list) else [value]


#: What a page says when it shows only a teaser of the article.
PAYWALL_TEXT = re.compile(r"\b(?:subscribe|subscription|sign in|log in|become a member)\b[^.]{0,40}\b"
                          r"(?:to (?:continue|keep) reading|to read (?:the|this) (?:full|whole|rest)|"
                          r"for full access|to unlock)|\bthis (?:article|content) is for (?:subscribers|members)",
                          re.IGNORECASE)


def is_paywalled(page: Page, body: str) -> bool:
    """The page shows a teaser: JSON-LD says it is not free, or a short body sits beside a
    "subscribe to continue reading" prompt."""
    if any(obj.get("isAccessibleForFree") in (False, "False", "false") for obj in page.json_ld()):
        return True
    if len(body.split()) >= 250:
        return False
    root = page.tree.find("body")
    return root is not None and bool(PAYWALL_TEXT.search(" ".join(root.itertext())[:50000]))
