"""Is this page an article, or a listing/tag/author/quote page to follow but not keep?"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from archive.extract.page import Page
from archive.extract.regions import in_chrome, wrapper_limit

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


def classify(page: Page, word_count: int) -> tuple[bool, str]:
    """(is_article, reason). Structured data decides when present; else URL and text length."""
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
