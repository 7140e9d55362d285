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
#: schema.org types of pages that list or index others (a Blog is the blog, a BlogPosting one post).
LISTING_TYPES = {"collectionpage", "itemlist", "blog", "searchresultspage", "profilepage"}
#: Path segments of pages that list or index articles rather than being one.
LISTING_PATH = re.compile(
    r"/(?:tags?|topics?|category|categories|authors?|people|quotes?|symbols?|stocks?|search|"
    r"page|archive|sections?|feeds?|login|about|contact)(?:/|$)|^/$|/index\.html?$",
    re.IGNORECASE)
#: Paths of article pages: a date in the path, or an /article/-like segment.
ARTICLE_PATH = re.compile(r"/(?:19|20)\d\d[/-]\d\d[/-]\d\d(?:/|$)|/(?:articles?|news|story|stories|opinion|"
                          r"commentary|analysis|blog|posts?)/[^/]+", re.IGNORECASE)
_LONG_ID = re.compile(r"\d{5,}")


def _article_slug(path: str) -> bool:
    """The last path segment names one article: an SEO slug of four or more words, or a long numeric
    id ("/nouvelle/1022038/kpmg-comptables-...", "/id/44613978", "...-conferences-300039248.html")."""
    last = path.rstrip("/").rpartition("/")[2].rpartition(".")[0] or path.rstrip("/").rpartition("/")[2]
    return len([w for w in re.split(r"[-_]+", last) if w]) >= 4 or bool(_LONG_ID.search(last))


#: A date followed by more path: a day's article ("/2016/02/01/news/.../index.html"), where a date
#: that ends the path is the day's archive ("/2016/02/01/", "/2016/02/01/index.html").
_DATED = re.compile(r"/(?:19|20)\d\d[/-]\d\d[/-]\d\d/(?!index\.html?$)[^/]+", re.IGNORECASE)


#: A document named by a long numeric id, with a page extension: "article1198215.ece" (Escenic),
#: "...-300039248.html", "1022038.shtml".
_DOCUMENT_ID = re.compile(r"\d{5,}[^/]*\.(?:ece|s?html?|php|aspx?|cms)$", re.IGNORECASE)


def _names_one_article(path: str) -> bool:
    """A dated path, or a last segment that is a document with a long numeric id, names one article
    whatever listing word stands before it: "/news/uk_news/People/article1198215.ece" is in a
    section called People, CNN's "/2016/02/01/news/economy/.../index.html" is an article's folder.
    A bare id after a listing word stays a listing's item ("/finance/stocks/TEX/.../3414284", a
    quote page's news item)."""
    return bool(_DATED.search(path) or _DOCUMENT_ID.search(path.rstrip("/").rpartition("/")[2]))


MIN_ARTICLE_WORDS = 120
MIN_TEASERS = 3  # linked headlines that make a page a listing
MIN_BRIEF_WORDS = 20  # a wire brief is one sentence; with structured data saying "article" it is one
#: A region whose text is more than this share link text is a listing, whatever else it says
#: (bench/kind_fixtures.py: the most on a fixture page is 0.35; a list of linked labels is ~1).
MAX_LINK_SHARE = 0.7
MIN_LISTING_CHARS = 300  # about 50 words: less is too little text to call a listing by its links

#: A listing's body is its teasers: at least this share of its paragraphs are linked headlines...
TEASER_SHARE = 0.25
#: ...and the first comes within this many words of the top (an article's "related" list comes last).
TEASER_LEAD_WORDS = 50
#: Words per linked headline elsewhere on the page below which the page is taken for a listing.
WORDS_PER_TEASER = 100
#: og:type "website" is what many CMSs say on every page: it decides only for shorter texts.
MIN_WEBSITE_WORDS = 300
#: Scripts written without spaces between words: their characters are counted, two to a word.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def word_count(text: str) -> int:
    """Words of `text`; in Chinese and Japanese, which put no spaces between words, two characters make one."""
    unspaced = len(_UNSPACED.findall(text))
    return len((_UNSPACED.sub(" ", text) if unspaced else text).split()) + unspaced // 2


def classify(page: Page, body: str, links: float = 0.0) -> tuple[bool, str]:
    """(is_article, reason). A region that is mostly link text (`links`, link_share) is never an
    article. Otherwise each signal is evidence, none a veto on its own: a body made of linked
    headlines is a listing whatever the metadata says; structured data saying "article" decides
    otherwise; then the URL, headlines linking elsewhere, og:type and the length of the text."""
    if links > MAX_LINK_SHARE:
        return False, f"{links:.0%} of its text is links"
    words = word_count(body)
    if words < MIN_BRIEF_WORDS:
        return False, f"too little text ({words} words)"
    if (in_body := _teasers_in_body(page, body)) is not None:
        return False, f"{in_body} linked headlines make up the text"
    ld_types = {str(t).lower() for obj in page.json_ld() for t in _types(obj)}
    og_type = (page.meta("og:type") or "").lower()
    if ld_types & ARTICLE_TYPES or og_type == "article":
        return True, "structured data says article"
    if listing := sorted(ld_types & LISTING_TYPES):
        return False, f"structured data says {listing[0]}"
    if words < 50:
        return False, f"too little text ({words} words)"
    path = urlsplit(page.url).path
    if LISTING_PATH.search(path) and not _names_one_article(path):
        return False, "listing-like URL"
    if (cards := _excerpt_cards(page, body)) >= MIN_TEASERS:
        return False, f"{cards} headlines each with an excerpt of the text"
    if (ARTICLE_PATH.search(path) or _article_slug(path)) and words >= MIN_ARTICLE_WORDS:
        return True, f"article-like URL and {words} words"  # sites mislabel articles og:type=website
    if (teasers := _teasers(page)) >= MIN_TEASERS and words < WORDS_PER_TEASER * teasers:
        return False, f"{teasers} linked teaser headlines"
    if og_type and og_type != "article" and words < MIN_WEBSITE_WORDS:
        return False, f"og:type is {og_type}"
    if words >= MIN_ARTICLE_WORDS:
        return True, f"{words} words of article text"
    return False, f"too little text ({words} words)"


_HEADLINE_LINKS = "//h2/a[@href] | //h3/a[@href] | //h2[@class]//a[@href]"


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
    links = page.tree.xpath(_HEADLINE_LINKS)
    limit = wrapper_limit(page)
    return len({a.get("href") for a in links if not a.get("href", "").startswith("#") and not in_chrome(a, limit)})


def _excerpt_cards(page: Page, body: str) -> int:
    """Linked headlines whose own block (up to the next headline's) holds text of the body: a blog
    index or section front whose excerpts are what the body is made of. An article's sidebar and
    "related" headlines carry no body text with them."""
    snippets = {p[:40] for p in body.split("\n\n") if len(p) >= 60}
    if len(snippets) < MIN_TEASERS:
        return 0
    limit = wrapper_limit(page)
    found: set[str] = set()
    for link in page.tree.xpath(_HEADLINE_LINKS):
        href = link.get("href", "")
        if href.startswith("#") or href in found or in_chrome(link, limit):
            continue
        card = link
        for parent in link.iterancestors():
            if len(parent.xpath(_INNER_HEADLINE_LINKS)) > 1:
                break
            card = parent
        if card is not link and any(s in " ".join(card.text_content().split()) for s in snippets):
            found.add(href)
    return len(found)


_INNER_HEADLINE_LINKS = ".//h2/a[@href] | .//h3/a[@href] | .//h2[@class]//a[@href]"


def _teasers_in_body(page: Page, body: str) -> int | None:
    """How many linked headlines the body is made of, when it is a listing's: at least MIN_TEASERS,
    TEASER_SHARE of its paragraphs, the first within TEASER_LEAD_WORDS of the top. Else None."""
    paragraphs = [p for p in body.split("\n\n") if p.strip()]
    if len(paragraphs) < MIN_TEASERS:
        return None
    starts = {p: i for i, p in reversed(list(enumerate(paragraphs)))}
    found: dict[str, int] = {}
    for link in page.tree.xpath(_HEADLINE_LINKS):
        text = " ".join(link.text_content().split())
        if len(text) >= 10 and (href := link.get("href", "")) and not href.startswith("#") and text in starts:
            found.setdefault(href, starts[text])
    if len(found) < MIN_TEASERS or len(found) < TEASER_SHARE * len(paragraphs):
        return None
    first = min(found.values())
    return len(found) if word_count(" ".join(paragraphs[:first])) < TEASER_LEAD_WORDS else None


def _types(obj: dict) -> list:
    value = obj.get("@type", [])
    return value if isinstance(value, list) else [value]


#: What a page says when it shows only a teaser of the article.
#: The lookahead names the letters a match can start with: it changes no match, and spares the
#: regex engine trying both forms at every character of the page's text.
PAYWALL_TEXT = re.compile(r"(?=[blst])\b(?:(?:subscribe|subscription|sign in|log in|become a member)\b[^.]{0,40}\b"
                          r"(?:to (?:continue|keep) reading|to read (?:the|this) (?:full|whole|rest)|"
                          r"for full access|to unlock)|this (?:article|content) is for (?:subscribers|members))",
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
