"""Where on a page the article is, and which parts of it are chrome (navigation, tapes, promos)."""

from __future__ import annotations

import re
import unicodedata
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Callable, Iterator, TypeVar
from urllib.parse import urlsplit

from lxml import etree
from lxml.html import HtmlElement

from archive.extract.authors import BY_WORDS
from archive.extract.page import Page
from archive.extract.patterns import by_first_letter

T = TypeVar("T")

CHROME_TAGS = {"nav", "aside", "footer", "form", "script", "style", "noscript", "template"}
#: class/id words of page chrome: tickers or text found only here are not the article's.
#: The lookahead after the separator names the first letters of the words: it changes no match, and
#: spares the regex engine trying every word after every separator and at every character.
CHROME = re.compile(r"(^|[\s_-])(?=[abcdflmnprst])(" + by_first_letter((
    "nav", "navbar", "menu", "masthead", "site-header", "tape", "ticker-tape", "market-tape", "marquee", "trending",
    "sidebar", "rail", "latest", "popular", "most-read", "read-next", "recommended", "related-articles",
    "related-news", "newsletter", "subscribe", "signup", "comments?", "share", "social", "footer", "promo", "advert",
    "ad-slot", "cookie", "author-bio", "bio", "disclosure", "disclaimer", "standards", "breadcrumbs?"), ignore_case=True) + r")($|[\s_-])",
    re.IGNORECASE)
#: The lookahead names the letters a match can start with (the words' first letters): it changes no
#: match, and spares the regex engine trying every word at every character of the label.
BYLINE = re.compile(r"(?=[abcnsw])(?:byline|author|autor|auteur|writer|contributor|nitfby|submitted|\bby\b)",
                    re.IGNORECASE)
#: The address of an author's page.
AUTHOR_HREF = re.compile(r"/(?:author|authors|autor|auteur|autore|journalist|profile)/[^/?#]+/?$", re.IGNORECASE)
#: A paragraph that is only a byline ("By Jane Doe and John Roe"): some sites put it in the body.
#: (and "Von Anna Beispiel und Max Muster": the byline words of other languages, before a capital)
_FOREIGN_BY = [word for word in BY_WORDS.split("|") if word != "by"]
LEAD_BYLINE = re.compile(rf"^\s*(?:(?i:by\s+[A-Z])|(?i:{'|'.join(_FOREIGN_BY)})\s+[A-Z])[^.!?]{{2,80}}$")


def article_root(page: Page) -> HtmlElement:
    """The element that holds the article: the <article>/<main>/articleBody around the densest
    paragraph text, else that text's container's parent (which usually holds headline and byline).

    Pages often carry several <article> elements (teasers, live boxes); the one that matters is
    the one around the body's paragraphs, not the first or the largest.
    """
    scores: dict[HtmlElement, float] = {}
    limit = wrapper_limit(page)
    for paragraph in page.tree.iter("p"):
        length = text_length(paragraph)
        if length < 40 or in_chrome(paragraph, limit):
            continue
        parent = paragraph.getparent()
        if parent is None:
            continue
        scores[parent] = scores.get(parent, 0) + length
        if (grandparent := parent.getparent()) is not None:
            scores[grandparent] = scores.get(grandparent, 0) + length / 2
    if not scores:
        body = page.tree.find("body")
        return body if body is not None else page.tree
    best = max(scores, key=scores.__getitem__)
    for ancestor in [best, *best.iterancestors()]:
        if ancestor.tag in ("article", "main") or ancestor.get("itemprop") == "articleBody":
            return ancestor.getparent() if ancestor.get("itemprop") == "articleBody" else ancestor
    parent = best.getparent()
    region = parent if parent is not None and parent.tag != "html" else best
    return _with_cells(_with_lead(page, region, limit), limit)


#: How far above the region a cell of a body cut into cells may be.
CELL_DEPTH = 3
#: The least prose a region holds for its siblings to be looked at as more cells of one body.
CELL_MIN_CHARS = 400


def _with_cells(region: HtmlElement, limit: int) -> HtmlElement:
    """The container of the body's cells, where the region is one of them.

    Some CMSs cut a body into blocks of one kind between image, video and related-story blocks
    ("article-widget article-widget-text"; "body articleBody -bottom-space"): the densest block alone was the
    region and the others were lost. When the region is (or is inside) an element whose siblings of
    the same tag and class hold prose too, their common parent is the region."""
    if _prose(region, limit) < CELL_MIN_CHARS:
        return region  # too little of the article here to call it one cell of many (a carousel's slide)
    for cell in [region, *region.iterancestors()][:CELL_DEPTH + 1]:
        parent, label = cell.getparent(), cell.get("class")
        if parent is None or not label or parent.tag in ("html", "body") or is_chrome(parent, limit):
            continue
        for sibling in parent:
            if sibling is not cell and sibling.tag == cell.tag and sibling.get("class") == label and \
                    _prose(sibling, limit) >= LEAD_MIN_CHARS:
                return parent
    return region


def _prose(element: HtmlElement, limit: int) -> int:
    """Characters of paragraph text outside chrome, link text aside (a teaser's <p> is mostly a link)."""
    paragraphs = [p for p in element.iter("p") if not in_chrome(p, limit)]
    return sum(text_length(p) for p in paragraphs) - sum(text_length(a) for p in paragraphs for a in p.iter("a"))


#: An article's lead can stand beside the container of its other paragraphs (an intro box, a
#: "read more" fold): the region's parent is taken when its paragraph text outside the region is
#: at least LEAD_MIN_CHARS and at most LEAD_MAX_SHARE of the region's own, and the parent adds
#: little text besides those paragraphs (a neighbouring column of teasers is not a lead).
LEAD_MIN_CHARS = 80
LEAD_MAX_SHARE = 0.5


def _with_lead(page: Page, region: HtmlElement, limit: int) -> HtmlElement:
    parent = region.getparent()
    if parent is None or parent.tag in ("html", "body") or is_chrome(parent, limit):
        return region
    inside = sum(text_length(p) for p in region.iter("p") if not in_chrome(p, limit))
    extra = sum(text_length(p) for p in parent.iter("p") if not in_chrome(p, limit)) - inside
    added = text_length(parent) - text_length(region)  # a column of teasers is mostly links, not paragraphs
    return parent if LEAD_MIN_CHARS <= extra <= LEAD_MAX_SHARE * inside and added <= 2 * extra else region


def drop_navigation(page: Page) -> None:
    """Remove every <nav> subtree (tails kept) from the page's tree, before any field is read.

    A <nav> is chrome to every rule here (CHROME_TAGS) and trafilatura deletes it too, but only
    after its pruning XPaths have walked it, and on news pages a large share of all elements is
    inside <nav>: removed first, trafilatura's fast pass has less to walk (the same body on every
    benchmark and fixture page).

    A <nav> holding a schema.org microdata author (`itemprop="author"`) is a byline styled as a
    navigation bar (NDTV's "pst-by"), not navigation: it stays, for the microdata authors (which
    are read wherever they stand; the byline rules still skip <nav> as chrome).
    """
    for nav in page.tree.xpath("//nav[not(.//*[@itemprop='author'])]"):
        nav.drop_tree()


def paragraph_chars(page: Page, root: HtmlElement) -> int:
    """Characters of paragraph text below root, chrome left out: how much body to expect."""
    limit = wrapper_limit(page)
    return sum(text_length(p) for p in root.iter("p") if not in_chrome(p, limit))


#: Class words that describe a layout rather than a role: "with-navbar", "one-sidebar", "has-comments".
_MODIFIER = re.compile(r"^(?:with|without|has|hasnt|no|one|two|three|is|show|hide|layout)[-_]", re.IGNORECASE)


def _label(element: HtmlElement) -> str:
    """The element's class and id words, layout modifiers left out ("" for most elements)."""
    classes, ident = element.get("class"), element.get("id")
    if not classes and not ident:
        return ""
    text = f"{classes or ''} {ident or ''}"
    if "-" not in text and "_" not in text:  # no word can be a modifier
        return " ".join(text.split())
    return " ".join(token for token in text.split() if not _MODIFIER.match(token))


#: Elements whose classes describe the page layout ("one-sidebar", "has-newsletter"), not their role.
STRUCTURAL = {"html", "body", "main", "article"}


#: Per-page memo of text lengths and chrome verdicts (see `memo`); None outside extraction.
_MEMO: ContextVar[dict[Any, Any] | None] = ContextVar("regions_memo", default=None)


@contextmanager
def memo() -> Iterator[None]:
    """Remember text lengths and chrome verdicts while one page is extracted: the same wrappers
    are asked about for every paragraph under them, and measuring their text is most of the cost."""
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def _remembered(key: Any, compute: Callable[[], T]) -> T:
    cache = _MEMO.get()
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]


#: About len(text_of(element)), computed by libxml2: text pieces are not joined by spaces.
_TEXT_LENGTH = etree.XPath("string-length(normalize-space())")


def text_length(element: HtmlElement) -> int:
    """About len(text_of(element)), never more (libxml2 does not put spaces between the pieces of
    text), remembered within `memo`: what sizes are compared by, not what is shown."""
    cache = _MEMO.get()
    if cache is None:
        return int(_TEXT_LENGTH(element))
    found = cache.get((element, "length"))
    if found is None:
        found = cache[(element, "length")] = int(_TEXT_LENGTH(element))
    return found


def is_chrome(element: HtmlElement, limit: int | None = None) -> bool:
    """Navigation, tapes, promos, comments...: by tag, or by a class/id word.

    A class word alone does not make chrome of an element holding `limit` characters of text or
    more: page wrappers carry layout classes ("one-sidebar", "with-navbar") around the article.
    """
    tag = element.tag
    if tag in CHROME_TAGS:
        return True
    if tag in STRUCTURAL:
        return False
    cache = _MEMO.get()
    if cache is None:
        labelled = _labelled_chrome(element)
    else:  # the label's verdict does not depend on `limit`: keyed by the element alone
        labelled = cache.get(element)
        if labelled is None:
            labelled = cache[element] = _labelled_chrome(element)
    return labelled and (limit is None or text_length(element) < limit)


def _labelled_chrome(element: HtmlElement) -> bool:
    """Whether the element's class/id words name chrome (no words: not chrome)."""
    return bool(element.get("class") or element.get("id")) and _chrome_label(_label(element))


#: Chrome words that name a byline's neighbours: "author-share", "social-author", "ShareByline" is
#: the byline with its share buttons, not chrome.
_SHARING = {"share", "social"}


#: A word boundary inside a camelCase name ("globalNav", "rightSidebar", "siteFooter").
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def _chrome_label(label: str) -> bool:
    if not CHROME.search(label):  # most labels: no chrome word at all
        if label.islower() or not CHROME.search(label := _CAMEL.sub("-", label)):
            return False
    words = {m.group(2).lower() for m in CHROME.finditer(label)}
    lowered = label.lower()
    return bool(words) and not (words <= _SHARING and ("author" in lowered or "byline" in lowered))


def in_chrome(element: HtmlElement, limit: int) -> bool:
    """Whether any ancestor of element is chrome (wrappers bigger than `limit` characters excepted)."""
    parent = element.getparent()
    return parent is not None and _chrome_or_under(parent, limit)


def _chrome_or_under(element: HtmlElement, limit: int) -> bool:
    """Whether element or any of its ancestors is chrome. Within `memo` each element's answer is
    remembered: the paragraphs of one container share all their ancestors, so each is asked once
    instead of once per paragraph below it."""
    cache = _MEMO.get()
    if cache is None:
        return is_chrome(element, limit) or any(is_chrome(a, limit) for a in element.iterancestors())
    chain: list[HtmlElement] = []
    node: HtmlElement | None = element
    answer = False
    while node is not None:
        known = cache.get((node, limit, "under"))
        if known is not None:
            answer = known
            break
        if is_chrome(node, limit):
            answer = True
            chain.append(node)
            break
        chain.append(node)
        node = node.getparent()
    # every element on the chain has the answer of the first one that decided it
    for node in chain:
        cache[(node, limit, "under")] = answer
    return answer


def wrapper_limit(page: Page) -> int:
    """Half the text of the page: an element this big is a wrapper, whatever its classes say."""
    body = page.tree.find("body")
    return max(text_length(body) // 2, 1) if body is not None else 1


def content_elements(root: HtmlElement) -> list[HtmlElement]:
    """Every element below root that is not inside chrome (chrome subtrees are skipped whole),
    in document order; remembered within `memo` (bylines and tickers both walk the article)."""
    return _remembered((root, "content"), lambda: list(_content_elements(root)))


def _content_elements(root: HtmlElement, skip: HtmlElement | None = None) -> Iterator[HtmlElement]:
    """content_elements(root), not memoised; the subtree of `skip` (if below root) left out."""
    stack = [root]
    limit = max(text_length(root) // 2, 1)
    while stack:
        element = stack.pop()
        if element is skip or not isinstance(element.tag, str) or \
                (element is not root and is_chrome(element, limit)):
            continue
        yield element
        stack.extend(reversed(list(element)))


def text_of(element: HtmlElement) -> str:
    """All text below element, pieces joined by spaces: adjacent <span>s are separate words."""
    return " ".join(" ".join(element.itertext()).split())


def leading_text(element: HtmlElement, limit: int) -> str:
    """text_of(element)[:limit], without joining the text after the first `limit` characters."""
    pieces: list[str] = []
    size = 0
    for piece in element.itertext():
        pieces.append(piece)
        if words := piece.split():  # its length once whitespace is normalised, and a space
            size += len(" ".join(words)) + 1
        if size > limit:
            break
    return " ".join(" ".join(pieces).split())[:limit]


def content_text(root: HtmlElement) -> str:
    """The text below root with chrome subtrees left out (their tails, which belong to the parent, kept)."""
    parts: list[str] = []
    limit = max(text_length(root) // 2, 1)

    def walk(element: HtmlElement) -> None:
        if element.text:
            parts.append(element.text)
        for child in element:
            if isinstance(child.tag, str) and not is_chrome(child, limit):
                walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(root)
    return " ".join(" ".join(parts).split())


def byline_texts(root: HtmlElement, searched: HtmlElement | None = None) -> Iterator[str]:
    """Short texts of byline/author elements inside the article, outermost first; separate text
    pieces of one element are joined with " | ".

    `searched`: root or an element below it where byline_texts(searched) found nothing; its subtree
    is not read again, as nothing in it can be found from root either. Whether an element gives a
    text depends on the element alone (and on `seen`, empty all through a search that found
    nothing), and the walk from root reaches no element there that the walk from `searched` did
    not: root's text is at least as long, so its chrome limit (half of it) is at least as high, and
    an element that is not chrome under the higher limit is not under the lower.
    """
    seen: set[str] = set()
    linked: list[str] = []
    for element in content_elements(root) if searched is None else _content_elements(root, skip=searched):
        if not element.attrib and element.tag not in ("p", "byline"):  # no class, id, rel or itemprop to go by
            continue
        # <byline> is NITF's element for the credit line, kept by some CMSs in their HTML
        label = f"{_label(element)} {element.get('rel', '')} {element.get('itemprop', '')} {element.tag}"
        if BYLINE.search(label) and "bio" not in label.lower():
            # pieces joined with "|": two linked names side by side are two names, not one
            text = " | ".join(t.strip() for t in element.itertext() if t.strip()) or \
                " | ".join(img.get("alt", "") for img in element.iter("img"))
        elif element.tag in ("p", "div", "span") and _opens_with_by(element) and text_length(element) <= 100 and \
                LEAD_BYLINE.match(text_of(element)) and next(element.iterancestors("a"), None) is None:
            # "By <span>Jane Doe</span>" in a block of any class; inside a link it is a teaser's
            text = text_of(element)
        elif element.tag == "a" and AUTHOR_HREF.search(element.get("href", "")) and text_length(element) <= 60:
            linked.append(text_of(element))  # a link to the author's page (/author/jane-doe: most CMSs)
            continue
        else:
            continue
        text = " ".join(text.split())
        if 0 < len(text) <= 400 and text not in seen:
            seen.add(text)
            yield text
    if linked:  # every author page linked, as one byline: several authors are several links
        yield " | ".join(dict.fromkeys(linked))


def _opens_with_by(element: HtmlElement) -> bool:
    """Whether text_of(element) can match LEAD_BYLINE: its first word begins with "by" or is a
    byline word of another language. Asked of the first text piece alone, before the element's
    whole text is measured or joined."""
    first = element.text
    if not first or first.isspace():  # the first words are in a child (or there are none)
        first = next((piece for piece in element.itertext() if piece.strip()), "")
    first = first.lstrip()
    return first[:2].lower() == "by" or first[:5].split(None, 1)[0].lower() in _FOREIGN_BY if first else False


def url_sections(url: str) -> set[str]:
    """The folded words of the URL path's segments, the last one (the article's slug) aside."""
    segments = [segment for segment in urlsplit(url).path.split("/") if segment][:-1]
    return {folded_label(segment.replace("-", " ").replace("_", " ")) for segment in segments} - {""}


def folded_label(line: str) -> str:
    """A short label without case or accents ("Článek" -> "clanek"); "" for anything longer
    than three words, which is no section label."""
    if len(line.split()) > 3:
        return ""
    decomposed = unicodedata.normalize("NFKD", line.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())
